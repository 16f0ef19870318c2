/**
 * Sweeps in worker processes: one process serves many runs, a crashing worker fails only its run and is replaced,
 * Ctrl-C stops the runs with their data kept, and real CartPole runs give the same rows whether a worker ran other
 * runs before them or not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expandSweep, validatePlan } from '../../../src/experiments/sweep/plan.js';
import { runSweep } from '../../../src/experiments/sweep/run.js';
import { readCsv } from '../../../src/run/csv.js';
import { runRows } from '../../helpers/sweep-compare.js';
import { BASE, tempDir } from '../../helpers/sweep-fakes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

describe('running a sweep in worker processes', () => {
  const workerScript = path.join(here, '../../helpers/fake-sweep-worker.ts');

  it('a worker that dies is recorded as a failed run with its output; the others complete', async () => {
    const out = path.join(tempDir(), 'crash');
    const plan = expandSweep({ name: 'crash', base: BASE, grid: { 'agent.gamma': [0.99, 0.5] }, seeds: 2 }, '.');
    const result = await runSweep(plan, { out, workers: 2, workerScript });
    assert.equal(result.completed, 2);
    assert.equal(result.failed, 2);
    const rows = new Map(readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r]));
    assert.equal(rows.get('gamma=0.99,seed=2')!.status, 'completed');
    assert.equal(rows.get('gamma=0.5,seed=1')!.status, 'failed');
    assert.match(rows.get('gamma=0.5,seed=1')!.error!, /worker process died during the run \(exit code 3\)/);
    assert.match(fs.readFileSync(path.join(out, 'logs', 'gamma=0.5,seed=1.log'), 'utf8'), /about to crash/);
  });

  it('Ctrl-C: workers stop their runs, which end interrupted with their data kept', async () => {
    const out = path.join(tempDir(), 'slow');
    const plan = expandSweep({ name: 'slow', base: BASE, grid: { 'agent.gamma': [0.9] }, seeds: 3 }, '.');
    const stop = new AbortController();
    const started: string[] = [];
    const timer = setTimeout(() => stop.abort(), 1500);
    const result = await runSweep(plan, { out, workers: 2, workerScript, signal: stop.signal, onRunDone: (r) => started.push(r.id) });
    clearTimeout(timer);
    assert.equal(result.interrupted, true);
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.deepEqual(rows.map((r) => r.status), ['interrupted', 'interrupted', 'pending']);
    const metrics = readCsv(path.join(out, 'runs', 'gamma=0.9,seed=1', 'metrics.csv')).rows;
    assert.ok(metrics.length > 0 && metrics.length < 20, `${metrics.length} updates kept`);
  });

  it('one worker process serves many runs; with runsPerProcess 1 each run gets a fresh one', async () => {
    const plan = expandSweep({ name: 'reuse', base: BASE, seeds: 4 }, '.');
    const pids = async (options: { runsPerProcess?: number }) => {
      const out = path.join(tempDir(), 'reuse');
      const result = await runSweep(plan, { out, workers: 1, workerScript, ...options });
      assert.equal(result.completed, 4);
      return plan.runs.map((run) => fs.readFileSync(path.join(out, 'runs', run.id, 'worker.pid'), 'utf8'));
    };
    assert.equal(new Set(await pids({})).size, 1);
    assert.equal(new Set(await pids({ runsPerProcess: 1 })).size, 4);
  });

  it('a crashing run is failed and its worker replaced: the runs after it complete in a fresh process', async () => {
    const out = path.join(tempDir(), 'replace');
    const plan = expandSweep({ name: 'replace', base: BASE, settings: [{ 'agent.gamma': 0.99 }, { 'agent.gamma': 0.5 }, { 'agent.gamma': 0.98 }] }, '.');
    const result = await runSweep(plan, { out, workers: 1, workerScript });
    assert.deepEqual(
      readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r.status]),
      [
        ['gamma=0.99,seed=1', 'completed'],
        ['gamma=0.5,seed=1', 'failed'],
        ['gamma=0.98,seed=1', 'completed'],
      ],
    );
    assert.equal(result.failed, 1);
    const pid = (id: string) => fs.readFileSync(path.join(out, 'runs', id, 'worker.pid'), 'utf8');
    assert.notEqual(pid('gamma=0.99,seed=1'), pid('gamma=0.98,seed=1'));
  });

  it('end to end: real CartPole PPO runs, one worker serving all three; a run equals itself run alone', { skip: !fs.existsSync(path.join(repo, 'agents', 'index.ts')) && 'agents not written yet' }, async () => {
    const definition = {
      name: 'e2e',
      base: { env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 64 }, run: { totalSteps: 1024, backend: 'wasm' } },
      grid: { 'env.level': [0, 4] },
      seeds: [1, 2],
    };
    const plan = expandSweep(definition, '.');
    await validatePlan(plan);
    const out = path.join(tempDir(), 'e2e');
    // Three runs one after another in one process: the third runs after two others in the same worker.
    const shared = { ...plan, runs: plan.runs.slice(0, 3) };
    const result = await runSweep(shared, { out, workers: 1 });
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.deepEqual(
      rows.map((r) => [r.run_id, r.status, r.error]),
      [
        ['level=0,seed=1', 'completed', ''],
        ['level=0,seed=2', 'completed', ''],
        ['level=4,seed=1', 'completed', ''],
      ],
    );
    assert.equal(result.completed, 3);
    assert.equal(rows[0]!.env_steps, '1024');
    assert.ok(Number(rows[0]!.return_mean_best) > 0);
    for (const id of ['level=0,seed=1', 'level=4,seed=1']) {
      for (const file of ['config.json', 'metrics.csv', 'noise.csv', 'summary.json']) assert.ok(fs.existsSync(path.join(out, 'runs', id, file)), `${id}/${file}`);
    }
    assert.ok(fs.existsSync(path.join(out, 'sweep-groups.csv')));

    // The same run alone, in a fresh worker: identical rows.
    const alone = path.join(tempDir(), 'alone');
    await runSweep({ ...plan, runs: [plan.runs[2]!] }, { out: alone, workers: 1 });
    const third = runRows(path.join(out, 'runs', 'level=4,seed=1'));
    const single = runRows(path.join(alone, 'runs', 'level=4,seed=1'));
    assert.equal(third.metrics.length, 4);
    assert.ok(third.noise.length >= 4);
    assert.deepEqual(single, third);
  });
});
