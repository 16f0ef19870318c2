/**
 * `gradnoise bench monitor`: what the noise monitor costs per PPO update, cartpole PPO config, same seed for every
 * variant: monitor off, the fast one-pass per-sample path, the fast path with env-segment groups, and the per-group
 * autodiff fallback at per-sample granularity (grouping `sample`, method `fallback`; n backward passes per component,
 * so it gets few updates).
 *
 * Each variant has its own env and agent from the same seed and runs the trainer's per-update work (collect, drain
 * episodes, noise probe + measure when on, learn). Variants take turns update by update, so a change in machine load
 * hits them alike. Times are per update (medians over the measured updates, robust to load spikes): collect, measure
 * (probe built + monitor.measure, all components), learn.
 */
import { createAgent } from '../../agents/index.js';
import type { Agent } from '../../agents/agent.js';
import { monitorSection, type MonitorConfig, type RunConfig } from '../config/schema.js';
import { NoiseMonitor } from '../monitor/monitor.js';
import { makeEnv } from '../run/registry.js';
import { Rng } from '../core/rng.js';
import { benchConfig, describeConfig, useBackend, usedFrom, type BackendUsed, type ConcreteBackend } from './setup.js';
import { loadAverage } from '../run/machine.js';
import { median } from '../core/stats.js';

export type MonitorVariant = 'off' | 'fast-sample' | 'fast-segment' | 'fallback-sample';

export const MONITOR_VARIANTS: readonly MonitorVariant[] = ['off', 'fast-sample', 'fast-segment', 'fallback-sample'];

export const MONITOR_TARGETS = { maxOverheadPct: 15, minFallbackRatio: 10 } as const;

export interface MonitorBenchOptions {
  /** Backends to measure (default wasm and cpu; those that do not load are skipped; webgpu when listed). */
  backends?: readonly ConcreteBackend[];
  /** `path=value` overrides of the cartpole PPO config (as `--set`). */
  overrides?: readonly string[];
  /** Measured updates per variant (default 12; 4 on cpu and on a software WebGPU adapter). */
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
  collectMs: number;
  measureMs: number;
  learnMs: number;
  /** Method the monitor actually used (the fast path falls back when a probe does not fit it). */
  methodUsed: string | null;
}

export interface MonitorBackendSummary {
  backend: ConcreteBackend;
  /** (fast − off) / off of the whole update, in %. */
  overheadPct: number;
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
  const [method, grouping] = variant.split('-') as [MonitorConfig['method'], MonitorConfig['grouping']];
  const config = monitorSection.parse({ ...base.monitor, enabled: true, every: 1, method, grouping });
  return new NoiseMonitor(config, { rng });
}

function makeVariant(variant: MonitorVariant, config: RunConfig): VariantState {
  const env = makeEnv(config.env.id, { numEnvs: config.env.numEnvs, level: config.env.level, params: config.env.params, wrappers: config.env.wrappers });
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
    const updates = options.updates ?? (slow ? 4 : 12);
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
    const fast = byVariant.get('fast-sample')!;
    const segment = byVariant.get('fast-segment')!;
    const fallback = byVariant.get('fallback-sample');
    summary.push({
      backend,
      overheadPct: (100 * (fast.msPerUpdate - off.msPerUpdate)) / off.msPerUpdate,
      segmentOverheadPct: (100 * (segment.msPerUpdate - off.msPerUpdate)) / off.msPerUpdate,
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
