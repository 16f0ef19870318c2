/**
 * `gradnoise bench train`: env steps per second of the whole training loop (rollout + update, through the real
 * trainer `train()`, run folder and CSV logging included), monitor off and on, for the cartpole PPO config on every
 * backend that loads, plus a large-batch setting; a naive tfjs PPO (naive-ppo.ts) measured in the same run for the
 * speed-up ratio; the conv case (configs/minatar/breakout-ppo-conv.json on Breakout-MinAtar-v0 at a reduced batch,
 * monitor off) against the naive PPO with a Keras conv torso; and the wall time to a mean return of 475 (last 20
 * episodes) on wasm.
 *
 * Steps per second are taken from metrics.csv (one row per update): Δenv_steps / Δwall_s between the end of the
 * warm-up updates and the last update, so start-up, kernel compilation, JIT warm-up and the monitor's one-off
 * self-check are excluded. Each figure is the median of a few fresh trainer runs, monitor off and on alternating.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { envOptionsOf, makeEnv } from '../run/registry.js';
import { Rng } from '../core/rng.js';
import { train } from '../run/trainer.js';
import type { RunConfig } from '../config/schema.js';
import { GradnoiseError } from '../core/errors.js';
import { NaivePpo } from './naive-ppo.js';
import { machineLimit, profilePhases, profileRow, type ProfileRow } from './train-profile.js';
import {
  ALL_BACKENDS,
  benchConfig,
  convBenchConfig,
  cpuSecondsSince,
  describeConfig,
  ppoOf,
  useBackend,
  usedFrom,
  withOverrides,
  type BackendUsed,
  type ConcreteBackend,
} from './setup.js';
import { loadAverage } from '../run/machine.js';
import { median } from '../core/stats.js';

/** Figures from the issue, measured on the same 2-core machine with CleanRL's PyTorch ppo.py. */
export const TRAIN_REFERENCE = {
  cleanrlSps: 3900,
  cleanrlStepsTo475: 179000,
  cleanrlSecondsTo475: 46,
  targetSps: 5800,
  stretchSps: 7800,
} as const;

export interface TrainBenchOptions {
  /** Backends to try (default tensorflow, wasm, cpu; those that do not load are skipped). */
  backends?: readonly ConcreteBackend[];
  /** `path=value` overrides of the cartpole PPO config (as `--set`). */
  overrides?: readonly string[];
  /** Measured updates per SPS figure (default 16). */
  updates?: number;
  /** Updates run before measuring (default 30: a run's per-update time keeps falling for its first ~30 updates, V8 tiering up). */
  warmupUpdates?: number;
  /** Runs per cartpole-ppo figure, monitor off and on alternating; the median is reported (default 3, 1 on cpu). */
  repeats?: number;
  /** The large-batch setting, or false to skip it. */
  /** The large-batch setting (default 64 envs × 256 steps, 3 updates after 2 warm-up, fast backends only), or false to skip it. */
  largeBatch?: false | { numEnvs?: number; numSteps?: number; updates?: number; warmupUpdates?: number; backends?: readonly ConcreteBackend[] };
  /** Measured updates of the naive baseline (default 5, after 15 warm-up: it too speeds up over its first ~15), or false to skip it. */
  naive?: false | { updates?: number; warmupUpdates?: number };
  /**
   * The conv case, or false to skip it: gradnoise PPO with breakout-ppo-conv.json's settings, monitor off, at a
   * reduced batch (default 16 envs × 128 steps instead of 64 × 128; same epochs and minibatches), 1 warm-up + 3 timed
   * updates in one run, and the naive conv PPO timed the same way; fast backends only by default. Not --updates/--warmup.
   */
  conv?: false | { numEnvs?: number; numSteps?: number; updates?: number; warmupUpdates?: number; backends?: readonly ConcreteBackend[] };
  /** Phase profile (env, acting, advantages, update, monitor, bookkeeping) and matMul limit per fast backend (default 10 updates after 20 warm-up), or false to skip it. */
  profile?: false | { updates?: number; warmupUpdates?: number };
  /** Time to a mean return of `target` (default 475 within 500k env steps, wasm, monitor off), or false to skip it. */
  solve?: false | { target?: number; maxSteps?: number; backend?: ConcreteBackend };
  /** One line per finished figure (progress on stderr, say). */
  log?: (line: string) => void;
}

export interface SpsRow {
  backend: ConcreteBackend;
  setting: 'cartpole-ppo' | 'large-batch';
  numEnvs: number;
  numSteps: number;
  batch: number;
  monitor: 'off' | 'on';
  /** Monitor grouping/method when on. */
  monitorMode: string | null;
  /** The method the monitor actually used for the total component (the fast path falls back, with a warning, when its self-check fails). */
  monitorMethodUsed: string | null;
  /** Updates measured, after `warmupUpdates` untimed ones, per run. */
  updates: number;
  warmupUpdates: number;
  /** Median over the runs. */
  sps: number;
  msPerUpdate: number;
  /** SPS of each run (each a fresh trainer run: warm-up, then `updates` measured updates). */
  spsRuns: number[];
  /** Process CPU seconds / wall seconds over the whole run (warm-up included), median over the runs; well below 1 on a single-threaded backend means other load. */
  cpuShare: number;
}

export interface NaiveRow {
  backend: ConcreteBackend;
  updates: number;
  warmupUpdates: number;
  sps: number;
  msPerUpdate: number;
}

export interface RatioRow {
  backend: ConcreteBackend;
  gradnoiseSps: number;
  naiveSps: number;
  ratio: number;
}

export interface ConvRow {
  backend: ConcreteBackend;
  numEnvs: number;
  numSteps: number;
  batch: number;
  /** Timed updates after `warmupUpdates` untimed ones, for both. */
  updates: number;
  warmupUpdates: number;
  /** The trainer, monitor off (one run). */
  gradnoise: { sps: number; msPerUpdate: number; spsRuns: number[]; cpuShare: number };
  /** The naive conv PPO: its rate, its actor's Keras layers and its trainable numbers (actor + critic). */
  naive: { sps: number; msPerUpdate: number; actorLayers: string[]; parameters: number };
  /** gradnoise / naive env steps per second. */
  ratio: number;
}

export interface ConvBenchResult {
  /** The config's settings as run (numEnvs, numSteps, batch the reduced ones) and the config's own rollout. */
  config: ReturnType<typeof describeConfig> & { torso: string; configNumEnvs: number; configNumSteps: number };
  rows: ConvRow[];
}

export interface SolveResult {
  backend: ConcreteBackend;
  seed: number;
  target: number;
  maxSteps: number;
  reached: boolean;
  /** Env steps and trainer wall seconds at the first update whose 20-episode mean return reached the target (null if never). */
  envSteps: number | null;
  wallS: number | null;
  updates: number | null;
  /** Env steps run and the best mean return seen. */
  envStepsRun: number;
  bestReturnMean: number | null;
  sps: number;
}

export interface TrainBenchResult {
  config: ReturnType<typeof describeConfig>;
  rows: SpsRow[];
  naive: NaiveRow[];
  ratios: RatioRow[];
  /** Where an update's time goes, per backend, and the loop's matMul rate as a fraction of the backend's. */
  profiles: ProfileRow[];
  skipped: { backend: ConcreteBackend; reason: string }[];
  /** Each backend that loaded, as the trainer describes it (webgpu: with its adapter). */
  backendsUsed: BackendUsed[];
  /** The conv case (null when skipped or no fast backend loaded). */
  conv: ConvBenchResult | null;
  solve: SolveResult | null;
  reference: typeof TRAIN_REFERENCE;
  load: { start: number[]; end: number[] };
  wallS: number;
}

interface MetricsRow {
  update: number;
  env_steps: number;
  wall_s: number;
  return_mean: number | null;
}

function readMetrics(file: string): MetricsRow[] {
  if (!fs.existsSync(file)) return [];
  const records = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
  return records.map((r) => ({
    update: Number(r.update),
    env_steps: Number(r.env_steps),
    wall_s: Number(r.wall_s),
    return_mean: r.return_mean === '' || r.return_mean === undefined ? null : Number(r.return_mean),
  }));
}

/** Run the real trainer into a temporary folder; `watch` is polled while it runs and may abort it. Returns metrics.csv. */
async function trainInTemp(config: RunConfig, watch?: (rows: () => MetricsRow[]) => boolean) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-bench-'));
  const runDir = path.join(tmp, 'run');
  const metricsFile = path.join(runDir, 'metrics.csv');
  const controller = new AbortController();
  const timer = watch ? setInterval(() => watch(() => readMetrics(metricsFile)) && controller.abort(), 250) : null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const summary = await train(config, { runDir, progress: 'quiet', signal: controller.signal });
    if (summary.status === 'failed' || summary.status === 'diverged') {
      throw new GradnoiseError('runtime', `bench: training run ${summary.status}: ${summary.error ?? ''}`);
    }
    const wall = (performance.now() - t0) / 1000;
    return { rows: readMetrics(metricsFile), cpuShare: cpuSecondsSince(cpu0) / wall, summary };
  } finally {
    if (timer) clearInterval(timer);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** SPS of `updates` updates after `warmup` ones, through the trainer. */
async function measureSps(config: RunConfig, warmup: number, updates: number) {
  const agent = ppoOf(config);
  const stepsPerUpdate = config.env.numEnvs * agent.numSteps;
  const run = withOverrides(config, [`run.totalSteps=${(warmup + updates) * stepsPerUpdate}`, 'run.logEvery=1']);
  const { rows, cpuShare, summary } = await trainInTemp(run);
  const last = rows[rows.length - 1];
  if (!last || last.update !== warmup + updates) throw new GradnoiseError('runtime', `bench: expected ${warmup + updates} updates in metrics.csv, got ${rows.length}`);
  const first = warmup > 0 ? rows.find((r) => r.update === warmup)! : { env_steps: 0, wall_s: 0 };
  const wall = last.wall_s - first.wall_s;
  const methodUsed = summary.noise?.components.total?.method ?? null;
  return { sps: (last.env_steps - first.env_steps) / wall, msPerUpdate: (wall * 1000) / updates, cpuShare, methodUsed };
}

function summarizeRuns(runs: { sps: number; msPerUpdate: number; cpuShare: number; methodUsed: string | null }[]) {
  return {
    monitorMethodUsed: runs.map((r) => r.methodUsed).find((m) => m !== null) ?? null,
    sps: median(runs.map((r) => r.sps)),
    msPerUpdate: median(runs.map((r) => r.msPerUpdate)),
    spsRuns: runs.map((r) => r.sps),
    cpuShare: median(runs.map((r) => r.cpuShare)),
  };
}

/** SPS of the naive baseline on the active backend, with its actor's layer classes and parameter count. */
export function measureNaive(config: RunConfig, warmup: number, updates: number) {
  const env = makeEnv(config.env.id, envOptionsOf(config.env));
  const root = new Rng(config.run.seed);
  env.reset(root.split('env').uint32());
  const agent = new NaivePpo(ppoOf(config), env, root.split('agent'));
  try {
    const total = warmup + updates;
    for (let u = 0; u < warmup; u++) agent.update(u / total);
    const t0 = performance.now();
    for (let u = warmup; u < total; u++) agent.update(u / total);
    const wall = (performance.now() - t0) / 1000;
    return { sps: (updates * agent.stepsPerUpdate) / wall, msPerUpdate: (wall * 1000) / updates, actorLayers: agent.actorLayerClasses, parameters: agent.parameterCount };
  } finally {
    agent.dispose();
  }
}

/** Wall time and env steps until the 20-episode mean return first reaches `target` (trainer, monitor off). */
async function measureSolve(config: RunConfig, backend: ConcreteBackend, target: number, maxSteps: number): Promise<SolveResult> {
  const run = withOverrides(config, ['monitor.enabled=false', `run.totalSteps=${maxSteps}`, 'run.logEvery=1', `run.backend=${backend}`]);
  const hit = (rows: MetricsRow[]) => rows.find((r) => r.return_mean !== null && r.return_mean >= target);
  const { rows } = await trainInTemp(run, (read) => hit(read()) !== undefined);
  const first = hit(rows);
  const last = rows[rows.length - 1];
  const best = rows.reduce<number | null>((b, r) => (r.return_mean === null ? b : Math.max(b ?? -Infinity, r.return_mean)), null);
  return {
    backend,
    seed: run.run.seed,
    target,
    maxSteps,
    reached: first !== undefined,
    envSteps: first?.env_steps ?? null,
    wallS: first?.wall_s ?? null,
    updates: first?.update ?? null,
    envStepsRun: last?.env_steps ?? 0,
    bestReturnMean: best,
    sps: last ? last.env_steps / last.wall_s : NaN,
  };
}

/** The conv case on each of `backends` (all loaded before): the trainer, monitor off, then the naive conv PPO. */
async function measureConv(backends: readonly ConcreteBackend[], options: Exclude<TrainBenchOptions['conv'], false | undefined>, software: boolean, log: (line: string) => void) {
  const numEnvs = options.numEnvs ?? 16;
  const numSteps = options.numSteps ?? 128;
  const updates = options.updates ?? 3;
  const warmup = options.warmupUpdates ?? 1;
  const full = convBenchConfig();
  const bench = convBenchConfig(['monitor.enabled=false', `env.numEnvs=${numEnvs}`, `agent.numSteps=${numSteps}`, ...(software ? ['run.webgpuSoftware=true'] : [])]);
  const rows: ConvRow[] = [];
  for (const backend of backends) {
    await useBackend(backend, software);
    const config = withOverrides(bench.config, [`run.backend=${backend}`]);
    const ours = summarizeRuns([await measureSps(config, warmup, updates)]);
    await useBackend(backend, software);
    const naive = measureNaive(config, warmup, updates);
    const { monitorMethodUsed: _unused, ...gradnoise } = ours;
    rows.push({ backend, numEnvs, numSteps, batch: numEnvs * numSteps, updates, warmupUpdates: warmup, gradnoise, naive, ratio: ours.sps / naive.sps });
    log(`${backend} conv ${config.env.id} ${numEnvs}×${numSteps}: gradnoise ${ours.sps.toFixed(0)}, naive ${naive.sps.toFixed(0)} env steps/s`);
  }
  const fullAgent = ppoOf(full.config);
  return { config: { ...describeConfig(bench), torso: 'conv', configNumEnvs: full.config.env.numEnvs, configNumSteps: fullAgent.numSteps }, rows };
}

export async function runTrainBench(options: TrainBenchOptions = {}): Promise<TrainBenchResult> {
  const log = options.log ?? (() => {});
  const start = performance.now();
  const loadStart = loadAverage();
  const bench = benchConfig(options.overrides);
  const base = bench.config;
  const agent = ppoOf(base);
  const updates = options.updates ?? 16;
  const warmup = options.warmupUpdates ?? 30;
  const rows: SpsRow[] = [];
  const naive: NaiveRow[] = [];
  const profiles: ProfileRow[] = [];
  const skipped: TrainBenchResult['skipped'] = [];
  const available: ConcreteBackend[] = [];
  const backendsUsed: BackendUsed[] = [];
  const software = base.run.webgpuSoftware;
  const monitorMode = `${base.monitor.grouping}/${base.monitor.method}`;

  // First, in a process that has not trained yet, so that JIT warm-up counts as it does in a user's own run.
  let solve: SolveResult | null = null;
  if (options.solve !== false) {
    const s = options.solve ?? {};
    const backend = s.backend ?? 'wasm';
    if ((await useBackend(backend, software)).ok) {
      solve = await measureSolve(base, backend, s.target ?? 475, s.maxSteps ?? 500000);
      log(
        solve.reached
          ? `${backend} time to ${solve.target}: ${solve.wallS!.toFixed(1)} s, ${solve.envSteps} env steps`
          : `${backend} time to ${solve.target}: not reached within ${solve.maxSteps} env steps`,
      );
    } else {
      skipped.push({ backend, reason: 'solve: backend not available' });
    }
  }

  for (const backend of options.backends ?? ALL_BACKENDS) {
    const ok = await useBackend(backend, software);
    if (!ok.ok) {
      skipped.push({ backend, reason: ok.reason });
      log(`${backend}: skipped (${ok.reason})`);
      continue;
    }
    available.push(backend);
    backendsUsed.push(usedFrom(backend, ok));
    // One short untimed run first: the first trainer run in a process is slower than the next ones even after its own
    // warm-up updates (V8 tiering, backend first use), which would otherwise bias the first repeat.
    await measureSps(withOverrides(base, [`run.backend=${backend}`]), 1, 1);
    const repeats = options.repeats ?? (backend === 'cpu' ? 1 : 3);
    const runs: Record<'off' | 'on', Awaited<ReturnType<typeof measureSps>>[]> = { off: [], on: [] };
    for (let k = 0; k < repeats; k++) {
      for (const monitor of ['off', 'on'] as const) {
        const config = withOverrides(base, [`run.backend=${backend}`, `monitor.enabled=${monitor === 'on'}`]);
        runs[monitor].push(await measureSps(config, warmup, updates));
      }
    }
    for (const monitor of ['off', 'on'] as const) {
      const figure = summarizeRuns(runs[monitor]);
      rows.push({
        backend,
        setting: 'cartpole-ppo',
        numEnvs: base.env.numEnvs,
        numSteps: agent.numSteps,
        batch: base.env.numEnvs * agent.numSteps,
        monitor,
        monitorMode: monitor === 'on' ? monitorMode : null,
        updates,
        warmupUpdates: warmup,
        ...figure,
      });
      log(`${backend} cartpole-ppo monitor ${monitor}: ${figure.sps.toFixed(0)} env steps/s (runs ${figure.spsRuns.map((x) => x.toFixed(0)).join(', ')})`);
    }
    const slowBackend = backend === 'cpu' || ok.adapter?.software === true;
    if (options.profile !== false && !slowBackend) {
      const p = options.profile ?? {};
      const phases = await profilePhases(withOverrides(base, [`run.backend=${backend}`, 'monitor.enabled=false']), p.warmupUpdates ?? 20, p.updates ?? 10);
      const trainer = rows.find((r) => r.backend === backend && r.setting === 'cartpole-ppo' && r.monitor === 'off')!;
      const row = profileRow(backend, phases, trainer.msPerUpdate, machineLimit(phases.batch, base.agent.network.hidden[0] ?? 64));
      profiles.push(row);
      const share = (ms: number) => `${((100 * ms) / phases.totalMs).toFixed(0)}%`;
      log(
        `${backend} profile per update (${phases.totalMs.toFixed(1)} ms; trainer ${trainer.msPerUpdate.toFixed(1)} ms): env ${share(phases.ms.env)}, acting ${share(phases.ms.acting)}, ` +
          `advantages ${share(phases.ms.advantages)}, update ${share(phases.ms.update)}, bookkeeping ${share(phases.ms.bookkeeping)}; matMul ${(100 * row.fractionOfLimit.loop).toFixed(1)}% of ${row.machine.gflops.toFixed(1)} GFLOP/s`,
      );
    }
    if (options.naive !== false) {
      await useBackend(backend, software);
      const n = options.naive ?? {};
      const { sps, msPerUpdate } = measureNaive(base, n.warmupUpdates ?? 15, n.updates ?? 5);
      const figure = { sps, msPerUpdate };
      naive.push({ backend, updates: n.updates ?? 5, warmupUpdates: n.warmupUpdates ?? 15, ...figure });
      log(`${backend} naive tfjs PPO: ${figure.sps.toFixed(0)} env steps/s`);
    }
  }

  if (options.largeBatch !== false) {
    const lb = options.largeBatch ?? {};
    const numEnvs = lb.numEnvs ?? 64;
    const numSteps = lb.numSteps ?? 256;
    const lbUpdates = lb.updates ?? 3;
    const lbWarmup = lb.warmupUpdates ?? 2;
    // Default: the fast backends only (cpu takes ~20 s per 16k-step update, a software WebGPU adapter minutes).
    const slow = (b: ConcreteBackend) => b === 'cpu' || backendsUsed.some((u) => u.backend === b && u.adapter?.software === true);
    const lbBackends = (lb.backends ?? available.filter((b) => !slow(b))).filter((b) => available.includes(b));
    for (const backend of lbBackends) {
      for (const monitor of ['off', 'on'] as const) {
        const config = withOverrides(base, [`run.backend=${backend}`, `monitor.enabled=${monitor === 'on'}`, `env.numEnvs=${numEnvs}`, `agent.numSteps=${numSteps}`]);
        const figure = summarizeRuns([await measureSps(config, lbWarmup, lbUpdates)]);
        rows.push({ backend, setting: 'large-batch', numEnvs, numSteps, batch: numEnvs * numSteps, monitor, monitorMode: monitor === 'on' ? monitorMode : null, updates: lbUpdates, warmupUpdates: lbWarmup, ...figure });
        log(`${backend} large-batch ${numEnvs}×${numSteps} monitor ${monitor}: ${figure.sps.toFixed(0)} env steps/s`);
      }
    }
  }

  let conv: ConvBenchResult | null = null;
  if (options.conv !== false) {
    const cv = options.conv ?? {};
    const slow = (b: ConcreteBackend) => b === 'cpu' || backendsUsed.some((u) => u.backend === b && u.adapter?.software === true);
    const convBackends = (cv.backends ?? available.filter((b) => !slow(b))).filter((b) => available.includes(b));
    if (convBackends.length > 0) conv = await measureConv(convBackends, cv, software, log);
  }

  const ratios: RatioRow[] = naive.map((n) => {
    const ours = rows.find((r) => r.backend === n.backend && r.setting === 'cartpole-ppo' && r.monitor === 'off')!;
    return { backend: n.backend, gradnoiseSps: ours.sps, naiveSps: n.sps, ratio: ours.sps / n.sps };
  });

  return {
    config: describeConfig(bench),
    rows,
    naive,
    ratios,
    profiles,
    skipped,
    backendsUsed,
    conv,
    solve,
    reference: TRAIN_REFERENCE,
    load: { start: loadStart, end: loadAverage() },
    wallS: (performance.now() - start) / 1000,
  };
}
