/**
 * Where the time of one PPO update goes, and how close the update comes to the machine's matMul rate: the part of
 * `bench train` that says what stands between today's figure and a faster one.
 *
 * The loop is the trainer's own (collect → measure → learn), run by hand so each phase can be timed:
 * - env: time inside `env.step`, through a wrapper around the vector env the agent steps;
 * - advantages: GAE over the rollout, timed by running `computeGae` again on the same rollout (same inputs, same work);
 * - acting: the rest of `collect` (policy forward and sampling per step, the batched critic pass, sample arrays);
 * - update: `learn` (epochs × minibatches of tfjs forward/backward and Adam);
 * - monitor: `measure` with the config's monitor settings, on the updates it measures (0 with the monitor off);
 * - bookkeeping: the trainer's per-update work besides these (draining finished episodes, the rolling return
 *   statistics, one metrics.csv row appended to a file), done the same way into a temporary folder.
 * The phases are timed in one loop, so their shares are comparable whatever the machine's load; the trainer's own ms
 * per update from the same bench run is shown beside them (the difference is what the loop here does not see).
 *
 * FLOPs are the dense matMul work only: the update's from tfjs' kernel profile (BatchMatMul/_FusedMatMul shapes), the
 * rollout's from the layer sizes (2·in·out per sample per layer for the policy step by step and the critic pass).
 * The machine's limit is the best matMul rate of the backend, at the network's own shape and at 512³.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAgent } from '../../agents/index.js';
import { computeGae } from '../../agents/advantages.js';
import type { PpoAgent, PpoBatch } from '../../agents/ppo.js';
import { envOptionsOf, makeEnv } from '../run/registry.js';
import { Rng } from '../core/rng.js';
import { mean, median, std } from '../core/stats.js';
import { CsvLog } from '../run/csv.js';
import { metricsColumns } from '../run/trainer.js';
import { NoiseMonitor } from '../monitor/monitor.js';
import type { VectorEnv } from '../core/vector-env.js';
import type { RunConfig } from '../config/schema.js';
import { countKernels, matMulMs } from './ops.js';
import { ppoOf } from './setup.js';

export const PHASES = ['env', 'acting', 'advantages', 'update', 'monitor', 'bookkeeping'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseProfile {
  /** Median ms per update of each phase, over the measured updates. */
  ms: Record<Phase, number>;
  /** Sum of the phases. */
  totalMs: number;
  updates: number;
  warmupUpdates: number;
  batch: number;
  /** Dense matMul FLOPs of one update: learn (from the kernel profile) and the rollout's forward passes. */
  flops: { learn: number; rollout: number; perEnvStep: number };
}

export interface MachineLimit {
  /** matMul GFLOP/s on the active backend at the network's hidden shape [batch, h] × [h, h]. */
  denseShapeGflops: number;
  /** matMul GFLOP/s at [512, 512] × [512, 512]. */
  squareGflops: number;
  /** The larger of the two: the rate the fraction is taken of. */
  gflops: number;
}

/** `env` as seen by the agent, with the time spent in `step` added to `elapsed.ms`. */
export function timedEnv(env: VectorEnv, elapsed: { ms: number }): VectorEnv {
  return new Proxy(env, {
    get(target, key) {
      if (key === 'step') {
        return (actions: ArrayLike<number>) => {
          const t0 = performance.now();
          const result = target.step(actions);
          elapsed.ms += performance.now() - t0;
          return result;
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** 2·in·out summed over the dense layers of `indices`. */
function chainFlops(layers: readonly { inSize: number; outSize: number; weight: unknown }[], indices: readonly number[]): number {
  let flops = 0;
  for (const i of indices) {
    const layer = layers[i]!;
    if (layer.weight !== null) flops += 2 * layer.inSize * layer.outSize;
  }
  return flops;
}

/** Phase times of `updates` PPO updates after `warmup` ones, on the active backend, for `config` (PPO). */
export async function profilePhases(config: RunConfig, warmup: number, updates: number): Promise<PhaseProfile> {
  const agentConfig = ppoOf(config);
  const raw = makeEnv(config.env.id, envOptionsOf(config.env));
  const root = new Rng(config.run.seed);
  raw.reset(root.split('env').uint32());
  const envTime = { ms: 0 };
  const env = timedEnv(raw, envTime);
  const agent = createAgent(agentConfig, env, root.split('agent')) as PpoAgent;
  const monitor = config.monitor.enabled ? new NoiseMonitor(config.monitor, { rng: root.split('monitor') }) : null;
  const samples: Record<Phase, number[]> = { env: [], acting: [], advantages: [], update: [], monitor: [], bookkeeping: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-profile-'));
  const columns = metricsColumns(false);
  const metrics = new CsvLog(path.join(tmp, 'metrics.csv'), columns);
  const recent: number[] = [];
  const total = warmup + updates;
  let learnFlops = 0;
  let batchSize = 0;
  try {
    for (let u = 1; u <= total; u++) {
      envTime.ms = 0;
      const t0 = performance.now();
      const batch: PpoBatch = agent.collect();
      const collectMs = performance.now() - t0;
      const tb = performance.now();
      for (const episode of env.drainEpisodes()) recent.push(episode.return);
      if (recent.length > 20) recent.splice(0, recent.length - 20);
      const row: Record<string, number | null> = Object.fromEntries(columns.map((c) => [c, u]));
      row['return_mean'] = recent.length > 0 ? mean(recent) : null;
      row['return_std'] = recent.length > 0 ? std(recent) : null;
      metrics.append([row]);
      const bookkeepingMs = performance.now() - tb;
      const { rollout } = batch;
      const advantages = new Float32Array(rollout.advantages.length);
      const returns = new Float32Array(rollout.returns.length);
      const t1 = performance.now();
      computeGae({ ...rollout, gamma: agentConfig.gamma, lambda: agentConfig.gaeLambda }, advantages, returns);
      const gaeMs = performance.now() - t1;
      const t2 = performance.now();
      if (monitor?.shouldMeasure(u)) monitor.measure(agent.noiseProbe(batch), { update: u, envSteps: u * agent.stepsPerUpdate });
      const monitorMs = performance.now() - t2;
      const progress = (u - 1) / total;
      let learnMs: number;
      if (u === total) {
        // The last update also yields the kernel profile (its timing would include the profiler's own cost).
        const t3 = performance.now();
        learnFlops = (await countKernels(() => agent.learn(batch, progress))).flops;
        learnMs = performance.now() - t3;
      } else {
        const t3 = performance.now();
        agent.learn(batch, progress);
        learnMs = performance.now() - t3;
      }
      batchSize = agent.batchSize(batch);
      if (u <= warmup || u === total) continue;
      samples.env.push(envTime.ms);
      samples.advantages.push(gaeMs);
      samples.acting.push(Math.max(0, collectMs - envTime.ms - gaeMs));
      samples.update.push(learnMs);
      samples.monitor.push(monitorMs);
      samples.bookkeeping.push(bookkeepingMs);
    }
    const ms = Object.fromEntries(PHASES.map((p) => [p, samples[p].length > 0 ? median(samples[p]) : NaN])) as Record<Phase, number>;
    const { net } = agent;
    const rolloutFlops = batchSize * (chainFlops(net.layers, net.policyLayers) + chainFlops(net.layers, net.valueLayers));
    return {
      ms,
      totalMs: PHASES.reduce((s, p) => s + ms[p], 0),
      updates: samples.update.length,
      warmupUpdates: warmup,
      batch: batchSize,
      flops: { learn: learnFlops, rollout: rolloutFlops, perEnvStep: (learnFlops + rolloutFlops) / batchSize },
    };
  } finally {
    agent.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The backend's matMul rate at the network's hidden shape and at 512³ (GFLOP/s, wall). */
export function machineLimit(batch: number, hidden: number): MachineLimit {
  const dense = matMulMs(batch, hidden, hidden);
  const square = matMulMs(512, 512, 512);
  const denseShapeGflops = (2 * batch * hidden * hidden) / (dense.ms * 1e6);
  const squareGflops = (2 * 512 ** 3) / (square.ms * 1e6);
  return { denseShapeGflops, squareGflops, gflops: Math.max(denseShapeGflops, squareGflops) };
}

export interface ProfileRow {
  backend: string;
  phases: PhaseProfile;
  /** The real trainer's ms per update (monitor off) in the same bench run. */
  trainerMsPerUpdate: number;
  /** trainerMsPerUpdate − the profiled phases (monitor off): what the profile loop does not see, or load differences between the two. */
  unaccountedMs: number;
  machine: MachineLimit;
  /** Dense matMul FLOP/s of the profiled loop and of the update phase alone, as fractions of machine.gflops. */
  fractionOfLimit: { loop: number; update: number };
}

/** Put a phase profile beside the trainer's own ms per update and the backend's matMul limit. */
export function profileRow(backend: string, phases: PhaseProfile, trainerMsPerUpdate: number, machine: MachineLimit): ProfileRow {
  const perEnvStep = phases.flops.perEnvStep;
  const loopGflops = (perEnvStep * phases.batch) / (phases.totalMs * 1e6);
  const updateGflops = phases.flops.learn / (phases.ms.update * 1e6);
  return {
    backend,
    phases,
    trainerMsPerUpdate,
    unaccountedMs: trainerMsPerUpdate - phases.totalMs,
    machine,
    fractionOfLimit: { loop: loopGflops / machine.gflops, update: updateGflops / machine.gflops },
  };
}
