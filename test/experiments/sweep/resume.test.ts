/**
 * A sweep killed with `kill -9` while a run is part way (its checkpoint.json written) and rerun into its folder
 * resumes that run instead of starting it over, through the local pool and through `sweep run-one` (the Slurm task);
 * either way the run's rows equal those of an uninterrupted sweep, wall-clock columns aside.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { bin, runCli } from '../../helpers/sweep-cli.js';
import { runRows } from '../../helpers/sweep-compare.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-sweep-resume-'));
const SWEEP = {
  name: 'resume-mini',
  base: {
    env: { id: 'CartPole-v1', numEnvs: 2 },
    agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 1, network: { hidden: [8] } },
    monitor: { every: 1 },
    run: { totalSteps: 2400, backend: 'wasm', checkpointEvery: 5 },
  },
  settings: [{ 'env.level': 1 }],
  seeds: [7],
};

describe('sweep resume', () => {
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('a killed sweep rerun into its folder resumes the partial run (local pool and run-one), rows equal to an uninterrupted sweep', async () => {
    const file = path.join(work, 'sweep.json');
    fs.writeFileSync(file, JSON.stringify(SWEEP));
    const whole = path.join(work, 'whole');
    const first = runCli(['sweep', file, '--out', whole, '--workers', '1'], { cwd: work });
    assert.equal(first.code, 0, first.stderr);
    const id = (JSON.parse(fs.readFileSync(path.join(whole, 'sweep.json'), 'utf8')) as { runs: { id: string }[] }).runs[0]!.id;
    const expected = runRows(path.join(whole, 'runs', id));

    const out = path.join(work, 'killed');
    // Its own process group, so that kill -9 takes the worker with it (as a node's OOM killer or a scancel would).
    const sweep = spawn(process.execPath, [bin, 'sweep', file, '--out', out, '--workers', '1'], { cwd: work, stdio: 'ignore', detached: true });
    const checkpoint = path.join(out, 'runs', id, 'checkpoint.json');
    while (!fs.existsSync(checkpoint)) {
      assert.equal(sweep.exitCode, null, 'the sweep ended before its run wrote a checkpoint');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.kill(-sweep.pid!, 'SIGKILL');
    await new Promise((resolve) => (sweep.exitCode !== null || sweep.signalCode !== null ? resolve(null) : sweep.once('exit', resolve)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!fs.existsSync(path.join(out, 'runs', id, 'summary.json')), 'killed part way');
    // The first metrics row, wall_s included: a run that started over would write it anew.
    const firstLine = (sweepDir: string) => fs.readFileSync(path.join(sweepDir, 'runs', id, 'metrics.csv'), 'utf8').split('\n')[1];
    const before = firstLine(out);
    const copy = path.join(work, 'killed-copy');
    fs.cpSync(out, copy, { recursive: true });
    fs.rmSync(path.join(copy, 'sweep.lock'), { force: true });

    const rerun = runCli(['sweep', file, '--out', out, '--workers', '1'], { cwd: work });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(firstLine(out), before, 'the rows before the checkpoint were kept (same wall_s), not rewritten');
    const resumed = runRows(path.join(out, 'runs', id));
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.metrics.length, 75);
    assert.deepEqual(resumed.metrics, expected.metrics);
    assert.deepEqual(resumed.noise, expected.noise);

    const task = runCli(['sweep', 'run-one', copy, '--id', id], { cwd: work });
    assert.equal(task.code, 0, task.stderr);
    assert.match(task.stdout + task.stderr, /resuming from the checkpoint at update \d+/);
    assert.equal(firstLine(copy), before);
    const viaTask = runRows(path.join(copy, 'runs', id));
    assert.deepEqual(viaTask.metrics, expected.metrics);
    assert.deepEqual(viaTask.noise, expected.noise);
  });
});
