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

/** Base lr and true B_crit of `optimumFakeRun`. */
export const BASE_LR = 1e-3;
export const B_CRIT = 256;

/** Updates a run needs to reach return 500: S(B) = 20(1 + B_crit/B), × (1 + ln²(lr/lr_opt)); lr_opt = 3× the base at B = 2048. */
function updatesNeeded(batch: number, lr: number, seed: number): number {
  const opt = BASE_LR * (batch === 2048 ? 3 : 1);
  return 20 * (1 + B_CRIT / batch) * (1 + Math.log(lr / opt) ** 2) * (1 + 0.03 * (seed - 2));
}

/**
 * A critical-batch run folder with a known optimum: two episodes end per update, returns rise linearly to 500 at
 * updatesNeeded(); B_simple 300, B_noise 150.
 */
export async function optimumFakeRun(task: RunTask): Promise<RunOutcome> {
  const c = task.config;
  const batch = c.env.numEnvs * c.agent.numSteps;
  const updates = Math.ceil(c.run.totalSteps / batch);
  const n = updatesNeeded(batch, c.agent.lr, c.run.seed);
  fs.mkdirSync(task.runDir, { recursive: true });
  fs.writeFileSync(path.join(task.runDir, 'config.json'), JSON.stringify(c));
  const metrics = ['update,env_steps,episodes,return_mean,return_sum,lr,batch_size'];
  const noise = ['update,env_steps,component,layer,grad_sq,trace_sigma,b_simple,trace_h_sigma,g_h_g,b_noise'];
  let sum = 0;
  for (let u = 1; u <= updates; u++) {
    const r = Math.min(500, (500 * u) / n);
    sum += 2 * r;
    // return_mean lags: the rolling mean of ten updates ago.
    metrics.push(`${u},${u * batch},${2 * u},${Math.min(500, (500 * Math.max(1, u - 10)) / n)},${sum},${c.agent.lr},${batch}`);
    for (const component of ['policy', 'value', 'total']) noise.push(`${u},${u * batch},${component},all,2,600,300,300,2,150`);
  }
  fs.writeFileSync(path.join(task.runDir, 'metrics.csv'), `${metrics.join('\n')}\n`);
  fs.writeFileSync(path.join(task.runDir, 'noise.csv'), `${noise.join('\n')}\n`);
  const summary = { status: 'completed', envId: c.env.id, algo: c.agent.algo, seed: c.run.seed, backend: 'fake', gpu: false, updates, envSteps: updates * batch, episodes: 2 * updates, wallS: 0.01, returnMean: 500, returnBest: 500 };
  fs.writeFileSync(path.join(task.runDir, 'summary.json'), JSON.stringify(summary));
  return { status: 'completed' };
}
