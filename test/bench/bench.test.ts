/**
 * Smoke test of the benchmarks at minimal sizes: the result shapes and positive rates. The real figures come from
 * `gradnoise bench all` (not part of `npm test`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runEnvBench } from '../../src/bench/envs.js';
import { runMonitorBench } from '../../src/bench/monitor.js';
import { crossoverBatch, runOpsBench } from '../../src/bench/ops.js';
import { runTrainBench } from '../../src/bench/train.js';
import { ActorCritic } from '../../agents/networks.js';
import { Rng } from '../../src/core/rng.js';
import { convBenchConfig, ppoOf } from '../../src/bench/setup.js';
import { makeEnv } from '../../src/run/registry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');

/** A tiny PPO on CartPole: 2 envs × 16 steps, 8 hidden units. */
const TINY = ['env.numEnvs=2', 'agent.numSteps=16', 'agent.network.hidden=[8]'];

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const positive = (x: number, what: string) => assert.ok(Number.isFinite(x) && x > 0, `${what}: ${x}`);

describe('bench (smoke)', () => {
  it('envs: a rate per env and size, and the naive ratio', () => {
    const result = runEnvBench({ seconds: 0.02, sizes: [1, 8], ids: ['CartPole-v1'] });
    assert.equal(result.rows.length, 4);
    for (const row of result.rows) positive(row.stepsPerSec, `${row.implementation} ×${row.numEnvs}`);
    positive(result.cartPoleSpeedup, 'speed-up');
  });

  it('train: SPS off/on, large batch, naive baseline and ratio, time to a target', async () => {
    const result = await runTrainBench({
      backends: ['wasm'],
      overrides: TINY,
      updates: 2,
      warmupUpdates: 1,
      largeBatch: { numEnvs: 4, numSteps: 16, updates: 1, warmupUpdates: 1 },
      naive: { updates: 1, warmupUpdates: 0 },
      conv: false,
      profile: { updates: 2, warmupUpdates: 1 },
      solve: { target: 12, maxSteps: 640 },
    });
    assert.equal(result.profiles.length, 1);
    const profile = result.profiles[0]!;
    assert.equal(profile.backend, 'wasm');
    positive(profile.phases.ms.update, 'profiled update');
    positive(profile.machine.gflops, 'matMul GFLOP/s');
    assert.ok(profile.fractionOfLimit.loop > 0 && profile.fractionOfLimit.loop < 1, `loop fraction ${profile.fractionOfLimit.loop}`);
    assert.equal(result.config.batch, 32);
    assert.deepEqual(
      result.rows.map((r) => `${r.backend}/${r.setting}/${r.monitor}`),
      ['wasm/cartpole-ppo/off', 'wasm/cartpole-ppo/on', 'wasm/large-batch/off', 'wasm/large-batch/on'],
    );
    for (const row of result.rows) {
      positive(row.sps, `${row.setting} ${row.monitor}`);
      positive(row.msPerUpdate, 'ms/update');
    }
    assert.equal(result.naive.length, 1);
    positive(result.naive[0]!.sps, 'naive');
    positive(result.ratios[0]!.ratio, 'ratio');
    const solve = result.solve!;
    assert.equal(solve.target, 12);
    assert.ok(solve.envStepsRun > 0 && solve.envStepsRun <= 640);
    if (solve.reached) {
      positive(solve.wallS!, 'time to target');
      assert.ok(solve.envSteps! <= solve.envStepsRun);
    }
    assert.equal(result.load.start.length, 3);
  });

  it('train: the conv case runs gradnoise and a naive Keras-conv PPO on Breakout-MinAtar, with the same parameter count', async () => {
    const result = await runTrainBench({
      backends: ['wasm'],
      overrides: TINY,
      updates: 1,
      warmupUpdates: 0,
      repeats: 1,
      largeBatch: false,
      naive: false,
      profile: false,
      solve: false,
      conv: { numEnvs: 2, numSteps: 8, updates: 1, warmupUpdates: 1 },
    });
    const conv = result.conv!;
    assert.equal(conv.config.env, 'Breakout-MinAtar-v0');
    assert.equal(conv.config.torso, 'conv');
    assert.deepEqual([conv.config.numEnvs, conv.config.numSteps, conv.config.batch], [2, 8, 16]);
    assert.deepEqual([conv.config.configNumEnvs, conv.config.configNumSteps], [64, 128]);
    assert.equal(conv.rows.length, 1);
    const row = conv.rows[0]!;
    assert.deepEqual([row.backend, row.updates, row.warmupUpdates], ['wasm', 1, 1]);
    positive(row.gradnoise.sps, 'gradnoise conv');
    positive(row.naive.sps, 'naive conv');
    assert.ok(Math.abs(row.ratio - row.gradnoise.sps / row.naive.sps) < 1e-9 * row.ratio);
    assert.deepEqual(row.naive.actorLayers, ['Conv2D', 'Flatten', 'Dense', 'Dense']);
    // The same network as the gradnoise conv torso: separate actor and critic, conv 3×3×C→16, dense 128, heads.
    const env = makeEnv('Breakout-MinAtar-v0', { numEnvs: 1 });
    const network = ppoOf(convBenchConfig().config).network;
    const net = new ActorCritic(env.obsSize, env.actionSpace, network, new Rng(1), {
      value: true,
      obsShape: env.observationSpace.shape,
      envId: env.id,
    });
    assert.equal(row.naive.parameters, net.parameterCount);
    assert.ok(net.parameterCount > 2 * (3 * 3 * 16 + 1024 * 128));
    net.dispose();
  });

  it('monitor: ms/update per variant, overhead and fallback ratio', async () => {
    const result = await runMonitorBench({ backends: ['wasm'], overrides: TINY, updates: 2, warmupUpdates: 1, fallbackUpdates: 1 });
    assert.deepEqual(
      result.rows.map((r) => r.variant),
      ['off', 'default', 'default+bnoise', 'fast-block', 'fast-sample', 'fast-segment', 'fallback-sample'],
    );
    for (const row of result.rows) {
      positive(row.msPerUpdate, row.variant);
      if (row.variant !== 'off') positive(row.measureMs, `${row.variant} measure`);
    }
    assert.equal(result.rows.find((r) => r.variant === 'fast-sample')!.methodUsed, 'fast');
    assert.equal(result.rows.find((r) => r.variant === 'fallback-sample')!.methodUsed, 'fallback');
    const summary = result.summary[0]!;
    assert.ok(Number.isFinite(summary.overheadPct) && Number.isFinite(summary.bNoiseOverheadPct));
    assert.equal(result.rows.find((r) => r.variant === 'default')!.methodUsed, 'fast');
    positive(summary.fallbackFastRatio, 'fallback/fast');
  });

  it('CLI: bench envs --json ends with one JSON line; a bad --backends is exit 2', async () => {
    // Both at once: most of each is process start-up.
    const [ok, bad] = await Promise.all([cli(['bench', 'envs', '--json', '--seconds', '0.01']), cli(['bench', 'train', '--backends', 'gpu'])]);
    assert.equal(ok.code, 0, ok.stderr);
    const last = JSON.parse(ok.stdout.trim().split('\n').pop()!) as { machine: { cpus: number }; envs: { rows: unknown[] } };
    assert.ok(last.machine.cpus >= 1);
    assert.ok(last.envs.rows.length > 0);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--backends/);
  });

  it('CLI: bench sweep refuses a bad --sweep-runs or --sweep-steps with exit 2, naming the flag, before running anything', async () => {
    const cases: [string[], RegExp][] = [
      [['--sweep-runs', '0'], /--sweep-runs: expected a positive integer \(got 0\)/],
      [['--sweep-runs', '2.5'], /--sweep-runs: expected a positive integer \(got 2\.5\)/],
      [['--sweep-steps', '1000'], /--sweep-steps: expected a positive multiple of the rollout, 512 env steps.*\(got 1000\)/],
      [['--sweep-steps', '-512'], /--sweep-steps: .*\(got -512\)/],
    ];
    const results = await Promise.all(cases.map(([flags]) => cli(['bench', 'sweep', ...flags])));
    results.forEach((r, k) => {
      assert.equal(r.code, 2, `${cases[k]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, cases[k]![1]);
      assert.doesNotMatch(r.stderr, /sweep of \d+ runs/, 'no sweep ran');
    });
  });

  it('ops: per-op cost, read latency, matMul rates, forward timings and the update profile', async () => {
    const result = await runOpsBench({ backends: ['cpu'], matMulSizes: [16], forwardRows: [4, 32], chain: 5, repeats: 1 });
    assert.deepEqual(result.rows.map((r) => r.backend), ['cpu']);
    const row = result.rows[0]!;
    positive(row.readMs, 'read');
    positive(row.matMul[0]!.gflops, 'matMul');
    positive(row.denseGflops, 'dense matMul');
    assert.deepEqual(row.forward.map((f) => f.rows), [4, 32]);
    for (const f of row.forward) {
      positive(f.tfjsMs, 'tfjs forward');
      positive(f.plainMs, 'plain forward');
    }
    const p = result.profile!;
    assert.equal(p.batch, 512);
    // Every PPO minibatch step runs kernels and reads its loss parts back; the monitor does too.
    assert.ok(p.learnKernels > 16 && p.measureKernels > 0 && p.learnReads >= 16, JSON.stringify(p));
    // 4 epochs, forward and backward over 64-64 actor and critic: well over 4 × 2 × 2 × (4·64 + 64·64) FLOPs per sample.
    assert.ok(p.learnFlopsPerSample > 4 * 2 * 2 * (4 * 64 + 64 * 64), String(p.learnFlopsPerSample));
  });

  it('ops: the crossover batch is where both backends take the same time per update', () => {
    const gpu = { opMs: 0.5, readMs: 1, gflops: 1000 };
    const reference = { opMs: 0.1, readMs: 0.2, gflops: 10 };
    const [kernels, reads, flops] = [3000, 40, 2e5];
    const batch = crossoverBatch(gpu, reference, kernels, reads, flops)!;
    const time = (c: typeof gpu, b: number) => kernels * c.opMs + reads * c.readMs + (flops * b) / (c.gflops * 1e6);
    assert.ok(time(gpu, batch) <= time(reference, batch) && time(gpu, batch - 1) > time(reference, batch - 1), String(batch));
    assert.equal(crossoverBatch({ ...gpu, gflops: 5 }, reference, kernels, reads, flops), null, 'a slower matMul never pays off');
    assert.equal(crossoverBatch({ opMs: 0.05, readMs: 0.1, gflops: 1000 }, reference, kernels, reads, flops), 0, 'cheaper ops pay off at once');
  });
});
