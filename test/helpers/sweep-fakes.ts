/**
 * Fake training runs for sweep tests: write a run folder shaped like `train()`'s (summary.json, metrics.csv,
 * noise.csv) in milliseconds, with known answers. Return rises linearly to 100 at `reachAfterUpdates` (and on to
 * 150); B_simple is `bSimple(level, fraction of the run)`, by default 100·(1 + level)·(1 + 9·fraction), i.e. ten-fold
 * growth over training and proportional to 1 + level.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expandSweep, type SweepPlan } from '../../src/experiments/sweep/plan.js';
import type { RunOne, RunTask } from '../../src/experiments/sweep/pool.js';
import type { RunOutcome } from '../../src/experiments/sweep/worker.js';
import type { RunStatus } from '../../src/run/run-folder.js';

export interface FakeRunOptions {
  readonly reachAfterUpdates?: number;
  readonly status?: RunStatus;
  readonly bSimple?: (level: number, fraction: number) => number;
  /** Throw instead of writing a summary (a crash inside the run function). */
  readonly throwError?: string;
  /** Wait this long per update, watching the abort signal. */
  readonly msPerUpdate?: number;
}

/** A base config for fake sweeps: batch 64, 20 updates. */
export const BASE = { env: { id: 'CartPole-v1', numEnvs: 2 }, agent: { algo: 'ppo', numSteps: 32 }, run: { totalSteps: 1280 } };

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-sweep-'));
}

/** Levels 0..2 × seeds 1..2 of BASE. */
export function levelSweep(extra: Record<string, unknown> = {}): SweepPlan {
  return expandSweep({ name: 'levels', base: BASE, grid: { 'env.level': [0, 1, 2] }, seeds: 2, ...extra }, '.');
}

export const fakeRun: RunOne = (task, signal) => writeFakeRun(task, {}, signal);

export const defaultBSimple = (level: number, fraction: number) => 100 * (1 + level) * (1 + 9 * fraction);

export async function writeFakeRun(task: RunTask, options: FakeRunOptions = {}, signal?: AbortSignal): Promise<RunOutcome> {
  if (options.throwError) throw new Error(options.throwError);
  const config = task.config;
  const batch = config.env.numEnvs * config.agent.numSteps;
  const updates = Math.ceil(config.run.totalSteps / batch);
  const reach = options.reachAfterUpdates ?? updates / 2;
  const bSimple = options.bSimple ?? defaultBSimple;
  fs.mkdirSync(task.runDir, { recursive: true });
  if (fs.readdirSync(task.runDir).length > 0) throw new Error(`fake run: ${task.runDir} is not empty`);
  fs.writeFileSync(path.join(task.runDir, 'config.json'), JSON.stringify(config));
  const metrics = ['update,env_steps,return_mean,lr,batch_size'];
  const noise = ['update,env_steps,component,layer,grad_sq,trace_sigma,b_simple'];
  let status: RunStatus = options.status ?? 'completed';
  let best = -Infinity;
  let last = NaN;
  let done = 0;
  for (let u = 1; u <= updates; u++) {
    if (signal?.aborted) {
      status = 'interrupted';
      break;
    }
    if (options.msPerUpdate) await new Promise((resolve) => setTimeout(resolve, options.msPerUpdate));
    const envSteps = u * batch;
    last = Math.min(150, (100 * u) / reach);
    best = Math.max(best, last);
    metrics.push(`${u},${envSteps},${last},${config.agent.lr},${batch}`);
    const b = bSimple(config.env.level, envSteps / config.run.totalSteps);
    for (const component of ['policy', 'value', 'total']) noise.push(`${u},${envSteps},${component},all,1,${b},${b}`);
    done = u;
  }
  fs.writeFileSync(path.join(task.runDir, 'metrics.csv'), `${metrics.join('\n')}\n`);
  fs.writeFileSync(path.join(task.runDir, 'noise.csv'), `${noise.join('\n')}\n`);
  const mean = (() => {
    let sum = 0;
    for (let u = 1; u <= done; u++) sum += bSimple(config.env.level, (u * batch) / config.run.totalSteps);
    return done > 0 ? sum / done : NaN;
  })();
  const figure = (value: number) => ({ bSimple: value, lo: value, hi: value, resolved: true, gradSq: 1, traceSigma: value, measurements: done, envStepsFrom: batch, envStepsTo: done * batch });
  const summary = {
    status,
    ...(status === 'failed' || status === 'diverged' ? { error: `fake ${status} run` } : {}),
    envId: config.env.id,
    algo: config.agent.algo,
    seed: config.run.seed,
    backend: 'fake',
    gpu: false,
    updates: done,
    envSteps: done * batch,
    episodes: done,
    wallS: 0.01,
    returnMean: done > 0 ? last : null,
    returnBest: done > 0 ? best : null,
    noise: {
      components: Object.fromEntries(
        ['policy', 'value', 'total'].map((c) => [c, { status: 'resolved', measurements: done, mean: figure(mean), final: figure(bSimple(config.env.level, 1)) }]),
      ),
    },
  };
  fs.writeFileSync(path.join(task.runDir, 'summary.json'), JSON.stringify(summary));
  return { status, ...(status === 'failed' || status === 'diverged' ? { error: `fake ${status} run` } : {}) };
}
