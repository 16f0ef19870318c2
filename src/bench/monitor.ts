/**
 * `gradnoise bench monitor`: what the noise monitor costs per PPO update, cartpole PPO config, same seed for every
 * variant: monitor off; the defaults (block grouping with the per-sample figure beside it, fast path); the defaults
 * with B_noise every 10 updates; the fast path with single-sample and with env-segment groups; and the per-group
 * autodiff fallback at per-sample granularity (grouping `sample`, method `fallback`; n backward passes per component,
 * so it gets few updates).
 *
 * Each variant has its own env and agent from the same seed and runs the trainer's per-update work (collect, drain
 * episodes, noise probe + measure when on, learn). Variants take turns update by update, so a change in machine load
 * hits them alike. Times are per update: medians over the measured updates (robust to load spikes) and means (what
 * a run pays: B_noise costs only every 10th update, which a median would hide). The overheads compare means over
 * the same rounds.
 */
import { createAgent } from '../../agents/index.js';
import type { Agent } from '../../agents/agent.js';
import { monitorSection, type MonitorConfig, type RunConfig } from '../config/schema.js';
import { NoiseMonitor } from '../monitor/monitor.js';
import { envOptionsOf, makeEnv } from '../run/registry.js';
import { Rng } from '../core/rng.js';
import { benchConfig, describeConfig, useBackend, usedFrom, type BackendUsed, type ConcreteBackend } from './setup.js';
import { loadAverage } from '../run/machine.js';
import { mean, median } from '../core/stats.js';

export type MonitorVariant = 'off' | 'default' | 'default+bnoise' | 'fast-block' | 'fast-sample' | 'fast-segment' | 'fallback-sample';

/**
 * `default` is the schema's monitor defaults (block grouping, a measurement every 2 updates), `default+bnoise` the
 * same with B_noise every 10 updates; the `fast-*` and `fallback-*` variants measure at EVERY update, for the cost of
 * one measurement by grouping (`fast-block` is the default grouping at `every: 1`).
 */
export const MONITOR_VARIANTS: readonly MonitorVariant[] = ['off', 'default', 'default+bnoise', 'fast-block', 'fast-sample', 'fast-segment', 'fallback-sample'];

/** The defaults add at most 15% to an update; B_noise every 10 updates at most 15% more; the fallback is ≥ 10× slower. */
export const MONITOR_TARGETS = { maxOverheadPct: 15, maxBNoiseOverheadPct: 15, minFallbackRatio: 10 } as const;

/** B_noise interval of the `default+bnoise` variant (updates). */
export const BENCH_BNOISE_EVERY = 10;

export interface MonitorBenchOptions {
  /** Backends to measure (default wasm and cpu; those that do not load are skipped; webgpu when listed). */
  backends?: readonly ConcreteBackend[];
  /** `path=value` overrides of the cartpole PPO config (as `--set`). */
  overrides?: readonly string[];
  /** Measured updates per variant (default 20 on wasm/tensorflow/webgpu on a GPU: whole B_noise cycles; 10 on cpu and on a software WebGPU adapter). */
  updates?: number;
  /** Updates before measuring (default 20, 5 where 4 are measured; JIT warm-up and the fast path's one-off autodiff self-check fall in them). */
  warmupUpdates?: number;
  /** Measured updates of the fallback (default 2, after 1 warm-up). */
  fallbackUpdates?: number;
  /** Backends on which the fallback is measured (default wasm, tensorflow and webgpu; on cpu it takes minutes per update). */
  fallbackBackends?: readonly ConcreteBackend[];
  log?: (line: string) => void;
}

export interface MonitorRow {
  backend: ConcreteBackend;
  variant: MonitorVariant;
  grouping: MonitorConfig['grouping'] | null;
  method: MonitorConfig['method'] | null;
  /** Updates measured, after `warmupUpdates` untimed ones. */
  updates: number;
  warmupUpdates: number;
  /** Whole update (collect + measure + learn), median over the measured updates; the phases are medians too. */
  msPerUpdate: number;
  /** Whole update, mean over the measured updates. */
  meanMsPerUpdate: number;
  /** Measuring, mean over the measured updates. */
  meanMeasureMs: number;
  collectMs: number;
  measureMs: number;
  learnMs: number;
  /** Method the monitor actually used (the fast path falls back when a probe does not fit it). */
  methodUsed: string | null;
}

export interface MonitorBackendSummary {
  backend: ConcreteBackend;
  /** (default − off) / off of the mean update, in %. Under machine load the update times of different variants
   * scatter by more than the monitor costs; the `measured*` figures below are steadier. */
  overheadPct: number;
  /** The monitor's own time (probe + measure, mean per update) / the off variant's mean update, in %: defaults, and
   * what B_noise every 10 updates adds to them. */
  measuredOverheadPct: number;
  measuredBNoiseOverheadPct: number;
  /** (default+bnoise − default) / off of the mean update, in %: what B_noise every 10 updates adds. */
  bNoiseOverheadPct: number;
  /** The same, measuring at every update, for the default grouping, single-sample groups (the old default) and env segments. */
  blockOverheadPct: number;
  sampleOverheadPct: number;
  segmentOverheadPct: number;
  /** fallback / fast measure time (the monitor's own cost), and of the whole update; NaN when the fallback was not run. */
  fallbackFastRatio: number;
  fallbackFastUpdateRatio: number;
}

export interface MonitorBenchResult {
  config: ReturnType<typeof describeConfig>;
  rows: MonitorRow[];
  summary: MonitorBackendSummary[];
  skipped: { backend: ConcreteBackend; reason: string }[];
  /** Each backend that loaded, as the trainer describes it (webgpu: with its adapter). */
  backendsUsed: BackendUsed[];
  targets: typeof MONITOR_TARGETS;
  load: { start: number[]; end: number[] };
  wallS: number;
}

interface VariantState {
  variant: MonitorVariant;
  agent: Agent;
  monitor: NoiseMonitor | null;
  env: ReturnType<typeof makeEnv>;
  update: number;
  envSteps: number;
  /** Per measured update: collect, measure, learn (ms). */
  times: { collect: number; measure: number; learn: number }[];
}

function monitorFor(variant: MonitorVariant, base: RunConfig, rng: Rng): NoiseMonitor | null {
  if (variant === 'off') return null;
  const settings: Partial<MonitorConfig> =
    variant === 'default' ? {} : variant === 'default+bnoise' ? { bNoise: true, bNoiseEvery: BENCH_BNOISE_EVERY } : (() => {
      const [method, grouping] = variant.split('-') as [MonitorConfig['method'], MonitorConfig['grouping']];
      return { method, grouping, every: 1 };
    })();
  const config = monitorSection.parse({ ...base.monitor, enabled: true, ...settings });
  return new NoiseMonitor(config, { rng });
}

function makeVariant(variant: MonitorVariant, config: RunConfig): VariantState {
  const env = makeEnv(config.env.id, envOptionsOf(config.env));
  // Seeded exactly as the trainer seeds a run.
  const root = new Rng(config.run.seed);
  env.reset(root.split('env').uint32());
  const agent = createAgent(config.agent, env, root.split('agent'));
  const monitor = monitorFor(variant, config, root.split('monitor'));
  return { variant, agent, monitor, env, update: 0, envSteps: 0, times: [] };
}

/** One trainer-like update; adds its phase times when `timed`. */
function step(s: VariantState, totalSteps: number, timed: boolean): void {
  let t = performance.now();
  const batch = s.agent.collect();
  s.envSteps += s.agent.stepsPerUpdate;
  s.update += 1;
  s.env.drainEpisodes();
  const collect = performance.now() - t;
  t = performance.now();
  if (s.monitor?.shouldMeasure(s.update)) s.monitor.measure(s.agent.noiseProbe(batch), { update: s.update, envSteps: s.envSteps });
  const measure = performance.now() - t;
  t = performance.now();
  s.agent.learn(batch, Math.min(1, (s.envSteps - s.agent.stepsPerUpdate) / totalSteps));
  const learn = performance.now() - t;
  if (timed) s.times.push({ collect, measure, learn });
}

export async function runMonitorBench(options: MonitorBenchOptions = {}): Promise<MonitorBenchResult> {
  const log = options.log ?? (() => {});
  const start = performance.now();
  const loadStart = loadAverage();
  const bench = benchConfig(options.overrides);
  const config = bench.config;
  const fallbackUpdates = options.fallbackUpdates ?? 2;
  const fallbackBackends = options.fallbackBackends ?? ['wasm', 'tensorflow', 'webgpu'];
  const rows: MonitorRow[] = [];
  const summary: MonitorBackendSummary[] = [];
  const skipped: MonitorBenchResult['skipped'] = [];
  const backendsUsed: BackendUsed[] = [];

  for (const backend of options.backends ?? (['wasm', 'cpu'] as const)) {
    const ok = await useBackend(backend, config.run.webgpuSoftware);
    if (!ok.ok) {
      skipped.push({ backend, reason: ok.reason });
      log(`${backend}: skipped (${ok.reason})`);
      continue;
    }
    backendsUsed.push(usedFrom(backend, ok));
    // A software WebGPU adapter is as slow as cpu: the same short defaults.
    const slow = backend === 'cpu' || ok.adapter?.software === true;
    const updates = options.updates ?? (slow ? BENCH_BNOISE_EVERY : 2 * BENCH_BNOISE_EVERY);
    const warmup = options.warmupUpdates ?? (slow ? 5 : 20);
    const withFallback = fallbackBackends.includes(backend) && fallbackUpdates > 0;
    const variants = MONITOR_VARIANTS.filter((v) => v !== 'fallback-sample' || withFallback).map((v) => makeVariant(v, config));
    const planned = (v: VariantState) => (v.variant === 'fallback-sample' ? { warmup: 1, updates: fallbackUpdates } : { warmup, updates });
    try {
      // Warm-up, then measured rounds; variants take turns each round.
      for (let round = 0; round < warmup; round++) for (const v of variants) if (round < planned(v).warmup) step(v, config.run.totalSteps, false);
      const rounds = Math.max(...variants.map((v) => planned(v).updates));
      for (let round = 0; round < rounds; round++) for (const v of variants) if (round < planned(v).updates) step(v, config.run.totalSteps, true);
    } finally {
      for (const v of variants) v.agent.dispose();
    }
    const byVariant = new Map<MonitorVariant, MonitorRow>();
    for (const v of variants) {
      const n = v.times.length;
      const methodUsed = v.monitor ? (v.monitor.summary().components.total?.method ?? v.monitor.config.method) : null;
      const row: MonitorRow = {
        backend,
        variant: v.variant,
        grouping: v.monitor?.config.grouping ?? null,
        method: v.monitor?.config.method ?? null,
        updates: n,
        warmupUpdates: planned(v).warmup,
        msPerUpdate: median(v.times.map((t) => t.collect + t.measure + t.learn)),
        meanMsPerUpdate: mean(v.times.map((t) => t.collect + t.measure + t.learn)),
        meanMeasureMs: mean(v.times.map((t) => t.measure)),
        collectMs: median(v.times.map((t) => t.collect)),
        measureMs: median(v.times.map((t) => t.measure)),
        learnMs: median(v.times.map((t) => t.learn)),
        methodUsed,
      };
      rows.push(row);
      byVariant.set(v.variant, row);
      log(`${backend} monitor ${v.variant}: ${row.msPerUpdate.toFixed(1)} ms/update (measure ${row.measureMs.toFixed(1)} ms)`);
    }
    const off = byVariant.get('off')!;
    const overhead = (variant: MonitorVariant, base: MonitorRow = off) => (100 * (byVariant.get(variant)!.meanMsPerUpdate - base.meanMsPerUpdate)) / off.meanMsPerUpdate;
    const fast = byVariant.get('fast-sample')!;
    const fallback = byVariant.get('fallback-sample');
    summary.push({
      backend,
      overheadPct: overhead('default'),
      measuredOverheadPct: (100 * byVariant.get('default')!.meanMeasureMs) / off.meanMsPerUpdate,
      measuredBNoiseOverheadPct: (100 * (byVariant.get('default+bnoise')!.meanMeasureMs - byVariant.get('default')!.meanMeasureMs)) / off.meanMsPerUpdate,
      bNoiseOverheadPct: overhead('default+bnoise', byVariant.get('default')!),
      blockOverheadPct: overhead('fast-block'),
      sampleOverheadPct: overhead('fast-sample'),
      segmentOverheadPct: overhead('fast-segment'),
      fallbackFastRatio: fallback ? fallback.measureMs / fast.measureMs : NaN,
      fallbackFastUpdateRatio: fallback ? fallback.msPerUpdate / fast.msPerUpdate : NaN,
    });
  }

  return {
    config: describeConfig(bench),
    rows,
    summary,
    skipped,
    backendsUsed,
    targets: MONITOR_TARGETS,
    load: { start: loadStart, end: loadAverage() },
    wallS: (performance.now() - start) / 1000,
  };
}
