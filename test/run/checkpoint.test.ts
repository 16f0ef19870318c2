/**
 * Checkpoints and exact resume, in-process: a run stopped after update k (its objects thrown away) and resumed from
 * the checkpoint folder ends with the same metrics.csv, noise.csv and summary as an uninterrupted run; rows written
 * after the checkpoint are cut off; checkpoints of another version or config are refused; no temp file stays behind.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { parseConfig } from '../../src/config/load.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { CHECKPOINT_FILE, checkResumable, readCheckpoint, removeStaleTempFiles, truncateLogs, writeCheckpoint, type Checkpoint } from '../../src/run/checkpoint.js';
import { train } from '../../src/run/trainer.js';
import type { RunSummary } from '../../src/run/run-folder.js';
import { runRows } from '../helpers/sweep-compare.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-checkpoint-'));
let folders = 0;
const fresh = () => path.join(work, `run-${++folders}`);

function config(algo: 'ppo' | 'a2c', extra: { monitor?: Record<string, unknown>; numEnvs?: number } = {}) {
  return parseConfig({
    env: { id: 'CartPole-v1', numEnvs: extra.numEnvs ?? 2 },
    agent: { algo, numSteps: 32, ...(algo === 'ppo' ? { numMinibatches: 2, updateEpochs: 2 } : {}), network: { hidden: [16, 16] } },
    monitor: { enabled: true, every: 1, ...extra.monitor },
    run: { totalSteps: 320 * (extra.numEnvs ?? 2), seed: 3, backend: 'cpu', checkpointEvery: 3 },
  });
}

function summaryOf(dir: string): Omit<RunSummary, 'wallS'> {
  const { wallS: _wall, ...rest } = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
  return rest;
}

/**
 * Train with checkpoints every 3 updates, keep the checkpoint of update 3, stop the run after update 5 (as a kill
 * would: rows of updates 4 and 5 are on disk), put the update-3 checkpoint back and resume in a new `train` call.
 */
async function stopAndResume(make: () => ReturnType<typeof config>): Promise<string> {
  const dir = fresh();
  const stop = new AbortController();
  let kept = '';
  const first = await train(make(), {
    runDir: dir,
    signal: stop.signal,
    noiseProgress: ({ update }) => {
      if (update === 4) kept = fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8');
      if (update === 5) stop.abort();
      return null;
    },
  });
  assert.equal(first.status, 'interrupted');
  assert.equal((JSON.parse(kept) as Checkpoint).update, 3);
  fs.writeFileSync(path.join(dir, CHECKPOINT_FILE), kept);
  fs.appendFileSync(path.join(dir, 'metrics.csv'), '6,192,0.1,12'); // a torn last line
  const tensors = tf.memory().numTensors;
  const resumed = await train(make(), { runDir: dir, resume: true });
  assert.equal(resumed.status, 'completed');
  assert.equal(tf.memory().numTensors, tensors, 'a resumed run leaks no tensors');
  return dir;
}

describe('checkpoint and resume (in-process)', () => {
  for (const [name, make] of [
    ['ppo, monitor with B_noise', () => config('ppo', { numEnvs: 4, monitor: { bNoise: true, bNoiseEvery: 2, bNoiseUnits: 3 } })],
    ['a2c, monitor', () => config('a2c')],
    [
      'conv torso PPO on Breakout-MinAtar (sticky actions)',
      () =>
        parseConfig({
          env: { id: 'Breakout-MinAtar-v0', numEnvs: 2 },
          agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 1, network: { torso: 'conv', hidden: [16], activation: 'relu' } },
          monitor: { enabled: true, every: 1 },
          run: { totalSteps: 320, seed: 3, backend: 'cpu', checkpointEvery: 3 },
        }),
    ],
    [
      'recurrent ppo (gru torso) on MemoryChain',
      () =>
        parseConfig({
          env: { id: 'MemoryChain-v0', numEnvs: 4 },
          agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 2, network: { torso: 'gru', recurrentHidden: 8 } },
          monitor: { enabled: true, every: 1, grouping: 'sample', method: 'fallback' },
          run: { totalSteps: 640, seed: 3, backend: 'cpu', checkpointEvery: 3 },
        }),
    ],
  ] as const) {
    it(`${name}: resumed from update 3 equals an uninterrupted run row for row`, async () => {
      const whole = fresh();
      assert.equal((await train(make(), { runDir: whole })).status, 'completed');
      const resumed = await stopAndResume(make);
      const [a, b] = [runRows(whole), runRows(resumed)];
      assert.equal(a.metrics.length, 10);
      assert.equal(b.metrics.length, a.metrics.length);
      assert.ok(a.noise.length >= 30);
      if (name.startsWith('ppo')) assert.ok(a.noise.some((row) => Number.isFinite(Number(row.trace_h_sigma))), 'B_noise measured');
      assert.deepEqual(b.metrics, a.metrics);
      assert.deepEqual(b.noise, a.noise);
      assert.deepEqual(summaryOf(resumed), summaryOf(whole));
      assert.deepEqual(fs.readdirSync(resumed).sort(), ['config.json', 'metrics.csv', 'noise.csv', 'summary.json'], 'checkpoint removed at completion, no temp files');
    });
  }

  it('resume without a checkpoint starts over in the folder; checkpointEvery 0 writes none', async () => {
    const dir = fresh();
    const stop = new AbortController();
    const make = () => parseConfig({ ...config('a2c'), run: { ...config('a2c').run, checkpointEvery: 0 } });
    await train(make(), { runDir: dir, signal: stop.signal, noiseProgress: ({ update }) => (update === 4 ? (stop.abort(), null) : null) });
    assert.ok(!fs.existsSync(path.join(dir, CHECKPOINT_FILE)));
    const summary = await train(make(), { runDir: dir, resume: true });
    assert.equal(summary.status, 'completed');
    assert.equal(runRows(dir).metrics.length, 10);
  });

  it('refuses checkpoints of another version or config, and folders it cannot resume', () => {
    const dir = fresh();
    fs.mkdirSync(dir);
    const ppo = config('ppo');
    const body = { config: ppo, backend: 'cpu', update: 3, envSteps: 192, wallS: 1, logs: {}, loop: null, state: null };
    writeCheckpoint(dir, body);
    assert.deepEqual(fs.readdirSync(dir), [CHECKPOINT_FILE], 'no temp file left');
    assert.equal(readCheckpoint(dir, ppo)?.update, 3);
    assert.throws(() => readCheckpoint(dir, parseConfig({ ...ppo, run: { ...ppo.run, seed: 4 } })), (e: Error) => e instanceof InvalidValueError && /another config/.test(e.message));
    const file = path.join(dir, CHECKPOINT_FILE);
    fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), version: '0.0.0-old' }));
    assert.throws(() => readCheckpoint(dir, ppo), /written by gradnoise 0\.0\.0-old/);
    fs.writeFileSync(file, '{"format": "gradnoise-checkpoint/1", "vers');
    assert.throws(() => readCheckpoint(dir, ppo), /unreadable/);

    fs.writeFileSync(path.join(dir, 'metrics.csv'), 'a,b\n1,2\n3,');
    truncateLogs(dir, { 'metrics.csv': { bytes: 8, rows: 1 } });
    assert.equal(fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), 'a,b\n1,2\n');
    assert.throws(() => truncateLogs(dir, { 'metrics.csv': { bytes: 100, rows: 9 } }), /fewer than the 100 of the checkpoint/);
    // A log that had no rows at the checkpoint (the monitor had not measured yet) goes entirely.
    fs.writeFileSync(path.join(dir, 'noise.csv'), 'update\n4\n');
    truncateLogs(dir, { 'noise.csv': { bytes: 0, rows: 0 } });
    assert.ok(!fs.existsSync(path.join(dir, 'noise.csv')));
    fs.writeFileSync(path.join(dir, `${CHECKPOINT_FILE}.tmp-123`), '{"half');
    removeStaleTempFiles(dir);
    assert.ok(!fs.existsSync(path.join(dir, `${CHECKPOINT_FILE}.tmp-123`)));

    assert.throws(() => checkResumable(path.join(dir, 'nope')), /no such folder/);
    assert.throws(() => checkResumable(dir), /not a run folder/);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...ppo, meta: { package: 'gradnoise' } }));
    assert.equal(checkResumable(dir).summary, null);
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify({ status: 'completed' }));
    assert.throws(() => checkResumable(dir), /already complete/);
  });
});
