/**
 * The Slurm executor against a real (local, one-node) Slurm: a detached submission whose array is partly cancelled
 * with scancel, its dependent finish job aggregating what there is, `sweep status` showing Slurm's view, a re-run
 * that resubmits only the runs not completed (both in one task: --runs-per-task), a failing run recorded as failed,
 * and runs identical to the local executor's (rows equal, wall-clock columns aside). Skips, saying why, where scripts/slurm-local.sh cannot start a
 * cluster (it needs root, or slurm-wlm and munge installed).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { squeue, inFlight } from '../../src/experiments/slurm/commands.js';
import { readSlurmRecord } from '../../src/experiments/slurm/jobs.js';
import { expandSweep } from '../../src/experiments/sweep/plan.js';
import { runSweep } from '../../src/experiments/sweep/run.js';
import type { SweepStatus } from '../../src/experiments/sweep/status.js';
import { readCsv } from '../../src/run/csv.js';
import { repo, runCli } from '../helpers/sweep-cli.js';
import { runRows } from '../helpers/sweep-compare.js';
import { tempDir } from '../helpers/sweep-fakes.js';
import { localSlurm, waitFor } from '../helpers/sweep-slurm.js';

const slurm = localSlurm();
after(() => slurm.stop());
if (!slurm.conf) process.stderr.write(`# Slurm executor tests skipped: ${slurm.reason}\n`);

const failing = path.join(repo, 'test/fixtures/failing-env.ts');
/** Two CartPole runs and a run of an env that throws in its second rollout. */
const SWEEP = {
  name: 'slurm-mini',
  base: { env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 64 }, run: { totalSteps: 512, backend: 'wasm' } },
  settings: [
    { 'env.id': 'CartPole-v1', 'env.level': 0 },
    { 'env.id': 'CartPole-v1', 'env.level': 4 },
    { 'env.id': 'Failing-v0', 'env.level': 0 },
  ],
  seeds: [1],
  set: { 'env.module': failing },
};
const IDS = ['id=CartPole-v1,level=0,seed=1', 'id=CartPole-v1,level=4,seed=1', 'id=Failing-v0,level=0,seed=1'];

async function allEnded(jobs: readonly string[]): Promise<true | undefined> {
  const states = await squeue(jobs);
  return [...states.values()].some(inFlight) ? undefined : true;
}

describe('Slurm executor (local one-node cluster)', { skip: slurm.conf ? false : slurm.reason }, () => {
  const dir = tempDir();
  const file = path.join(dir, 'sweep.json');
  const out = path.join(dir, 'out');
  fs.writeFileSync(file, JSON.stringify(SWEEP));
  const summaryOf = (id: string) => path.join(out, 'runs', id, 'summary.json');

  it('scancel of part of a detached array, then a re-run completes only the missing runs; a failing run is failed', { timeout: 300_000 }, async () => {
    const submit = runCli(['sweep', file, '--out', out, '--executor', 'slurm', '--array-throttle', '1', '--detach', '--poll-seconds', '0.5']);
    assert.equal(submit.code, 0, submit.stderr);
    assert.match(submit.stderr, /submitted 3 runs as Slurm array job \d+ \(--array=0-2%1\)/);
    assert.match(submit.stderr, /detached/);
    const first = readSlurmRecord(out);
    assert.deepEqual(first.arrays.map((a) => a.runs), [IDS]);
    assert.equal(first.finish.length, 1);
    const job = first.arrays[0]!.jobId;
    const script = fs.readFileSync(path.join(out, first.arrays[0]!.script), 'utf8');
    assert.match(script, /#SBATCH --array=0-2%1/);
    assert.match(script, /sweep run-one "\$DIR" --id "\$ID"/);

    // One run at a time: once the first has completed, cancel the other two tasks.
    await waitFor(() => (fs.existsSync(summaryOf(IDS[0]!)) && /"completed"/.test(fs.readFileSync(summaryOf(IDS[0]!), 'utf8')) ? true : undefined), 120_000, 'the first run');
    execFileSync('scancel', [`${job}_1`, `${job}_2`]);
    await waitFor(() => allEnded([job, first.finish[0]!.jobId]), 120_000, 'the array and the finish job to end');

    const status = runCli(['sweep', 'status', out, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const states = (JSON.parse(status.stdout) as SweepStatus).runs.map((r) => [r.id, r.state, r.slurm?.state]);
    assert.deepEqual(states[0], [IDS[0], 'completed', 'COMPLETED']);
    for (const [id, state, slurmState] of states.slice(1)) {
      assert.equal(slurmState, 'CANCELLED', String(id));
      assert.equal(state, 'cancelled', String(id));
    }
    // The finish job aggregated what there was.
    const partial = new Map(readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r.status]));
    assert.equal(partial.get(IDS[0]!), 'completed');
    assert.notEqual(partial.get(IDS[2]!), 'completed');

    const kept = fs.readFileSync(summaryOf(IDS[0]!), 'utf8');
    const keptTime = fs.statSync(summaryOf(IDS[0]!)).mtimeMs;
    // Both missing runs in one task, one after another in one process.
    const rerun = runCli(['sweep', file, '--out', out, '--executor', 'slurm', '--poll-seconds', '0.5', '--runs-per-task', '2']);
    assert.equal(rerun.code, 1, `exit 1: a run failed\n${rerun.stderr}`);
    const second = readSlurmRecord(out);
    assert.equal(second.arrays.length, 2);
    assert.deepEqual(second.arrays[1]!.runs, IDS.slice(1), 'only the runs not completed are resubmitted');
    assert.equal(second.arrays[1]!.runsPerTask, 2);
    assert.match(fs.readFileSync(path.join(out, second.arrays[1]!.script), 'utf8'), /#SBATCH --array=0-0\n/);
    assert.match(fs.readFileSync(path.join(out, 'logs', `${IDS[1]}.log`), 'utf8'), /served in Slurm task \d+_0/);
    assert.equal(fs.readFileSync(summaryOf(IDS[0]!), 'utf8'), kept);
    assert.equal(fs.statSync(summaryOf(IDS[0]!)).mtimeMs, keptTime);

    const rows = new Map(readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r]));
    assert.deepEqual(IDS.map((id) => rows.get(id)!.status), ['completed', 'completed', 'failed']);
    assert.match(rows.get(IDS[2]!)!.error!, /Failing-v0: broke after 100 steps/);
    assert.ok(fs.existsSync(path.join(out, 'report.html')));
  });

  it('runs through Slurm equal the same runs through local workers, row for row', { timeout: 180_000 }, async () => {
    const plan = expandSweep(SWEEP, dir);
    const local = path.join(dir, 'local');
    const result = await runSweep({ ...plan, runs: plan.runs.slice(0, 2) }, { out: local, workers: 1 });
    assert.equal(result.completed, 2);
    for (const id of IDS.slice(0, 2)) {
      const viaSlurm = runRows(path.join(out, 'runs', id));
      assert.equal(viaSlurm.status, 'completed');
      assert.ok(viaSlurm.metrics.length === 2 && viaSlurm.noise.length > 0, id);
      assert.deepEqual(runRows(path.join(local, 'runs', id)), viaSlurm, id);
    }
  });
});
