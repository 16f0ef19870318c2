/**
 * Sweeps in worker processes: a crashing worker fails only its run, Ctrl-C stops the runs with their data kept, and a
 * real end-to-end CartPole sweep.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { expandSweep, validatePlan } from '../../../src/experiments/sweep/plan.js';
import { runSweep } from '../../../src/experiments/sweep/run.js';
import { readCsv } from '../../../src/run/csv.js';
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

  it('end to end: a real 2-run CartPole PPO sweep in 2 workers', { skip: !fs.existsSync(path.join(repo, 'agents', 'index.ts')) && 'agents not written yet' }, async () => {
    const out = path.join(tempDir(), 'e2e');
    const plan = expandSweep(
      {
        name: 'e2e',
        base: { env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 64 }, run: { totalSteps: 1024, backend: 'cpu' } },
        grid: { 'env.level': [0, 4] },
        seeds: [1],
      },
      '.',
    );
    await validatePlan(plan);
    const result = await runSweep(plan, { out, workers: 2 });
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.deepEqual(
      rows.map((r) => [r.run_id, r.status, r.error]),
      [
        ['level=0,seed=1', 'completed', ''],
        ['level=4,seed=1', 'completed', ''],
      ],
    );
    assert.equal(result.completed, 2);
    assert.equal(rows[0]!.env_steps, '1024');
    assert.ok(Number(rows[0]!.return_mean_best) > 0);
    for (const id of ['level=0,seed=1', 'level=4,seed=1']) {
      for (const file of ['config.json', 'metrics.csv', 'noise.csv', 'summary.json']) assert.ok(fs.existsSync(path.join(out, 'runs', id, file)), `${id}/${file}`);
    }
    assert.ok(fs.existsSync(path.join(out, 'sweep-groups.csv')));
  });
});
