/** The training run: reproducible metrics, divergence and interruption handling, no leaks, folders never overwritten. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { parseConfig } from '../../src/config/load.js';
import { fixtureEnv } from '../helpers/fixture-envs.js';
import { registerEnv } from '../../src/run/registry.js';
import { train, WALL_CLOCK_COLUMNS } from '../../src/run/trainer.js';
import { type RunSummary } from '../../src/run/run-folder.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-train-'));
}

function tinyPpo(overrides: Record<string, unknown> = {}) {
  return parseConfig({
    env: { id: 'CartPole-v1', numEnvs: 2 },
    agent: { algo: 'ppo', numSteps: 32, numMinibatches: 2, updateEpochs: 2, network: { hidden: [16, 16] } },
    run: { totalSteps: 640, seed: 3, backend: 'cpu' },
    ...overrides,
  });
}

/** CSV text with the named columns removed (the wall-clock ones). */
function withoutColumns(file: string, drop: readonly string[]): string[][] {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split(','));
  const keep = header!.map((name, i) => (drop.includes(name) ? -1 : i)).filter((i) => i >= 0);
  return [header!, ...rows].map((row) => keep.map((i) => row[i]!));
}

function summaryOf(dir: string): RunSummary {
  return JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
}

describe('train', () => {
  it('the same config and seed give identical metrics.csv and noise.csv rows (wall-clock columns aside)', async () => {
    const dirs = [path.join(tempDir(), 'a'), path.join(tempDir(), 'b')];
    for (const runDir of dirs) {
      const summary = await train(tinyPpo(), { runDir });
      assert.equal(summary.status, 'completed');
      assert.equal(summary.updates, 10);
    }
    const [a, b] = dirs.map((d) => withoutColumns(path.join(d!, 'metrics.csv'), WALL_CLOCK_COLUMNS));
    assert.equal(a!.length, 11, 'header + one row per update');
    assert.deepEqual(a, b);
    const [na, nb] = dirs.map((d) => withoutColumns(path.join(d!, 'noise.csv'), ['measure_ms']));
    assert.ok(na!.length > 1);
    assert.deepEqual(na, nb);
    // return_sum: the sum of every completed episode's return; while 20 or fewer episodes have ended it equals the
    // rolling return_mean times the episode count, and it never falls (CartPole returns are positive).
    const header = a![0]!;
    const col = (name: string) => header.indexOf(name);
    const sums = a!.slice(1).map((row) => Number(row[col('return_sum')]));
    assert.ok(sums.every((x, i) => i === 0 || x >= sums[i - 1]!));
    let checked = 0;
    for (const row of a!.slice(1)) {
      const episodes = Number(row[col('episodes')]);
      if (episodes === 0 || episodes > 20) continue;
      assert.ok(Math.abs(Number(row[col('return_mean')]) * episodes - Number(row[col('return_sum')])) < 1e-4 * episodes, row.join(','));
      checked++;
    }
    assert.ok(checked > 0);
    const other = path.join(tempDir(), 'c');
    await train(tinyPpo({ run: { totalSteps: 640, seed: 4, backend: 'cpu' } }), { runDir: other });
    assert.notDeepEqual(withoutColumns(path.join(other, 'metrics.csv'), WALL_CLOCK_COLUMNS), a, 'another seed differs');
  });

  it('records the resolved config with backend, version and start time', async () => {
    const runDir = path.join(tempDir(), 'run');
    await train(tinyPpo(), { runDir });
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')) as Record<string, any>;
    assert.equal(saved.meta.backend, 'cpu');
    assert.equal(saved.meta.gpu, false);
    assert.match(saved.meta.version, /^\d+\.\d+\.\d+/);
    assert.ok(!Number.isNaN(Date.parse(saved.meta.startedAt)));
    assert.equal(saved.agent.clipCoef, 0.2, 'defaults resolved');
    // The saved config is itself a valid config: the run can be repeated from it.
    assert.equal(parseConfig(saved).run.seed, 3);
  });

  it('a NaN reward from a user env fails the run naming the env, the step and the value, keeping the rows so far', async () => {
    const runDir = path.join(tempDir(), 'nan');
    const config = parseConfig({
      env: { id: 'NanReward-v0', module: 'test/fixtures/nan-reward-env.ts', numEnvs: 2, params: { nanAfter: 100 } },
      agent: { algo: 'a2c', numSteps: 16 },
      run: { totalSteps: 4000, seed: 1, backend: 'cpu' },
    });
    const summary = await train(config, { runDir, configDir: repo });
    assert.equal(summary.status, 'failed');
    // Each copy's 101st step is the first NaN: vector step 101, copy 0; six updates of 16 steps came before it.
    assert.equal(summary.error, 'NanReward-v0: step 101, copy 0: reward is not a finite number (got NaN)');
    assert.equal(summary.updates, 6);
    const rows = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 1 + summary.updates, 'header and every update before the fault');
    assert.equal(summaryOf(runDir).status, 'failed');
  });

  it('finite rewards too large for float32 overflow the loss: status diverged, rows kept', async () => {
    // Rewards of 1e300 (finite: not the env's fault) after each copy's 40th step.
    const spec = fixtureEnv('HugeReward-v0', 1, (t) => ({ obs: [0], reward: t > 40 ? 1e300 : 1, terminated: false }), 10);
    registerEnv(spec, { replace: true });
    const runDir = path.join(tempDir(), 'huge');
    const config = parseConfig({ env: { id: 'HugeReward-v0', numEnvs: 2 }, agent: { algo: 'a2c', numSteps: 16 }, run: { totalSteps: 4000, seed: 1, backend: 'cpu' } });
    const summary = await train(config, { runDir });
    assert.equal(summary.status, 'diverged');
    assert.match(summary.error ?? '', /^non-finite .* at update 3$/);
    const rows = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 1 + 2, 'header and the two updates before the diverging one');
    assert.equal(summaryOf(runDir).status, 'diverged');
  });

  it('an abort stops after the current update with status interrupted', async () => {
    const runDir = path.join(tempDir(), 'abort');
    const controller = new AbortController();
    const config = tinyPpo({ run: { totalSteps: 1_000_000, seed: 1, backend: 'cpu' } });
    setTimeout(() => controller.abort(), 1500);
    const summary = await train(config, { runDir, signal: controller.signal });
    assert.equal(summary.status, 'interrupted');
    assert.ok(summary.envSteps < 1_000_000 && summary.updates > 0);
    const rows = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(rows.length, summary.updates + 1);
  });

  it('leaves no tensors behind', async () => {
    await train(tinyPpo(), { runDir: path.join(tempDir(), 'warm') });
    const before = tf.memory().numTensors;
    await train(tinyPpo({ run: { totalSteps: 2048, seed: 5, backend: 'cpu' } }), { runDir: path.join(tempDir(), 'leak') });
    assert.equal(tf.memory().numTensors, before);
  });

  it('SIGINT on the CLI flushes, marks the run interrupted and exits 130', async () => {
    const dir = tempDir();
    const runDir = path.join(dir, 'run');
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ env: { id: 'CartPole-v1', numEnvs: 2 }, agent: { algo: 'ppo', numSteps: 32 }, run: { totalSteps: 10_000_000, backend: 'cpu' } }));
    const child = spawn(process.execPath, [bin, 'train', file, '--out', runDir, '--quiet'], { cwd: repo, stdio: 'ignore' });
    const metrics = path.join(runDir, 'metrics.csv');
    const deadline = Date.now() + 60_000;
    while (!(fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').split('\n').length > 3) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 130);
    const summary = summaryOf(runDir);
    assert.equal(summary.status, 'interrupted');
    const rows = fs.readFileSync(metrics, 'utf8').trim().split('\n');
    assert.equal(rows.length, summary.updates + 1);
  });

  it('refuses the conv torso on non-image observations (exit 2, the config path named, nothing written)', () => {
    const dir = path.join(tempDir(), 'run');
    const file = path.join(os.tmpdir(), `gradnoise-cfg-conv-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ env: { id: 'CartPole-v1' }, agent: { algo: 'ppo', network: { torso: 'conv' } }, run: { totalSteps: 128 } }));
    const r = spawnSync(process.execPath, [bin, 'train', file, '--out', dir, '--quiet'], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /agent\.network\.torso/);
    assert.match(r.stderr, /image observations/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    assert.equal(fs.existsSync(dir), false);
  });

  it('refuses to write into a folder that already holds files (exit 2)', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'x');
    const file = path.join(os.tmpdir(), `gradnoise-cfg-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify({ env: { id: 'CartPole-v1' }, agent: { algo: 'ppo' }, run: { totalSteps: 128 } }));
    const r = spawnSync(process.execPath, [bin, 'train', file, '--out', dir, '--quiet'], { cwd: repo, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--out: folder already holds files/);
    assert.deepEqual(fs.readdirSync(dir), ['keep.txt']);
  });
});
