/**
 * Synthetic gradnoise output folders for the report tests: run, sweep, critical-batch and reproduce folders written
 * through the writers' types (RunFolderConfig, RunSummary, the monitor's and trainer's CSV columns, SweepManifest,
 * CriticalBatchFile, ReproduceManifest), filled with noise statistics of a known shape (B_simple growing e-fold ×3 over
 * a run, ×2 per difficulty level, value noise 8× the policy's; single-measurement |G|² often negative).
 */
import fs from 'node:fs';
import path from 'node:path';
import { configSchema, type RunConfig } from '../../src/config/schema.js';
import type { NoiseComponent } from '../../src/core/components.js';
import type { CriticalBatchDefinition, CriticalBatchFile, TargetResult } from '../../src/experiments/critical-batch.js';
import type { PartRecord, ReproduceManifest } from '../../src/experiments/reproduce.js';
import { presetSchema } from '../../src/experiments/reproduce-preset.js';
import type { SweepManifest } from '../../src/experiments/sweep/folder.js';
import type { NoiseColumn, NoiseRow } from '../../src/monitor/monitor.js';
import { CsvLog, type CsvValue } from '../../src/run/csv.js';
import { writeJsonAtomic, type RunFolderConfig, type RunStatus, type RunSummary } from '../../src/run/run-folder.js';

/** metrics.csv's columns as the trainer writes them with the monitor on (trainer.ts metricsColumns(true)). */
export const METRICS_COLUMNS = [
  'update', 'env_steps', 'wall_s', 'sps', 'episodes', 'episodes_update', 'return_mean', 'return_std', 'length_mean', 'return_sum',
  'policy_loss', 'value_loss', 'entropy', 'approx_kl', 'clip_frac', 'grad_norm', 'lr', 'explained_variance', 'batch_size',
  'b_simple_policy', 'b_simple_value', 'b_simple_total',
];

/** Deterministic uniform [0, 1) stream. */
function lcg(seed: number): () => number {
  let s = (seed * 2654435761) % 2147483647 || 1;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}

/** The noise.csv columns the fixture writes (those the report reads and a few it ignores), in the monitor's order. */
export const NOISE_FIXTURE_COLUMNS: readonly NoiseColumn[] = [
  'update', 'env_steps', 'component', 'layer', 'grouping', 'method', 'n_groups', 'b_small', 'b_big', 'grad_sq', 'grad_sq_se',
  'trace_sigma', 'trace_sigma_se', 'grad_sq_ema', 'trace_sigma_ema', 'b_simple', 'b_simple_lo', 'b_simple_hi', 'resolved',
  'b_simple_window', 'measure_ms',
];

export interface RunFixture {
  envId?: string;
  level?: number;
  seed?: number;
  updates?: number;
  batch?: number;
  status?: RunStatus;
  /** Leave noise.csv out (monitor off). */
  noNoise?: boolean;
}

const COMPONENT_FACTOR: Record<NoiseComponent, number> = { policy: 1, value: 8, total: 3 };

/** The resolved config of a fixture run, as the trainer would write it (schema defaults filled in). */
export function fixtureConfig(options: RunFixture = {}): RunConfig {
  const batch = options.batch ?? 512;
  return configSchema.parse({
    env: { id: options.envId ?? 'CartPole-v1', numEnvs: 4, level: options.level ?? 0 },
    agent: { algo: 'ppo', lr: 3e-4, numSteps: batch / 4, optimizer: { type: 'adam' } },
    monitor: { enabled: true, grouping: 'sample', emaHorizon: 20000, confidence: 0.95, window: 10 },
    run: { totalSteps: (options.updates ?? 60) * batch, seed: options.seed ?? 1, logEvery: 1, backend: 'cpu' },
  });
}

export function writeRunFolder(dir: string, options: RunFixture = {}): RunFolderConfig {
  const config: RunFolderConfig = {
    ...fixtureConfig(options),
    meta: { package: 'gradnoise', version: '0.1.0', backend: 'cpu', backendRequested: 'auto', gpu: false, tfjs: '4.22.0', node: 'v20.0.0', startedAt: '2025-01-01T00:00:00.000Z' },
  };
  const envId = config.env.id;
  const level = config.env.level;
  const seed = config.run.seed;
  const updates = options.updates ?? 60;
  const batch = config.env.numEnvs * config.agent.numSteps;
  const familyFactor = envId.startsWith('Acrobot') ? 3 : 1;
  const rand = lcg(seed * 1000 + level * 17 + envId.length);
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, 'config.json'), config);

  const metrics = new CsvLog(path.join(dir, 'metrics.csv'), METRICS_COLUMNS);
  const noise = options.noNoise ? null : new CsvLog(path.join(dir, 'noise.csv'), NOISE_FIXTURE_COLUMNS);
  const ema: Partial<Record<NoiseComponent, { g: number; t: number }>> = {};
  let returnSum = 0;
  for (let u = 1; u <= updates; u++) {
    const envSteps = u * batch;
    const progress = u / updates;
    const latest: Partial<Record<NoiseComponent, number>> = {};
    for (const component of ['policy', 'value', 'total'] as const) {
      const bTrue = 25 * familyFactor * 2 ** level * COMPONENT_FACTOR[component] * Math.exp(3 * progress);
      const trace = 1;
      const gTrue = trace / bTrue;
      // Per-measurement sampling error of |G|²: sd ≈ tr(Σ)/batch · √2, so |G|² is often ≤ 0 once B_simple ≫ batch.
      const gradSq = gTrue + (trace / batch) * 0.3 * gauss(rand);
      const traceSigma = trace * (1 + 0.05 * gauss(rand));
      const previous = ema[component] ?? { g: gradSq, t: traceSigma };
      const e = { g: 0.9 * previous.g + 0.1 * gradSq, t: 0.9 * previous.t + 0.1 * traceSigma };
      ema[component] = e;
      const resolved = u > 3 && e.g > 0;
      const b = resolved ? e.t / e.g : NaN;
      latest[component] = b;
      const row: Partial<NoiseRow> = {
        update: u,
        env_steps: envSteps,
        component,
        layer: 'all',
        grouping: 'sample',
        method: 'fast',
        n_groups: batch,
        b_small: 1,
        b_big: batch,
        grad_sq: gradSq,
        grad_sq_se: (trace / batch) * 0.7,
        trace_sigma: traceSigma,
        trace_sigma_se: 0.05,
        grad_sq_ema: e.g,
        trace_sigma_ema: e.t,
        b_simple: b,
        b_simple_lo: resolved ? b / 1.6 : e.t / (Math.abs(e.g) + gTrue),
        b_simple_hi: resolved && b < 20 * bTrue ? b * 1.8 : Infinity,
        resolved: resolved ? 1 : 0,
        b_simple_window: b,
        measure_ms: 1.5,
      };
      noise?.append([row]);
    }
    const returnMean = u < 3 ? NaN : 20 + (480 / (1 + level)) * (1 - Math.exp(-4 * progress)) + 5 * gauss(rand);
    const row: Record<string, CsvValue> = {
      update: u,
      env_steps: envSteps,
      wall_s: u * 0.5,
      sps: batch / 0.5,
      episodes: u * 3,
      episodes_update: 3,
      return_mean: u < 3 ? null : returnMean,
      return_std: u < 3 ? null : 10,
      length_mean: u < 3 ? null : returnMean,
      return_sum: (returnSum += u < 3 ? 0 : 3 * returnMean),
      policy_loss: -0.01,
      value_loss: 1,
      entropy: 0.6,
      approx_kl: 0.01,
      clip_frac: 0.1,
      grad_norm: 0.5,
      lr: 3e-4 * (1 - progress),
      explained_variance: 0.5,
      batch_size: batch,
      b_simple_policy: latest.policy,
      b_simple_value: latest.value,
      b_simple_total: latest.total,
    };
    metrics.append([row]);
  }
  const summary: RunSummary = {
    status: options.status ?? 'completed',
    envId,
    algo: config.agent.algo,
    seed,
    backend: 'cpu',
    gpu: false,
    updates,
    envSteps: updates * batch,
    episodes: updates * 3,
    wallS: updates * 0.5,
    returnMean: 400,
    returnBest: 420,
  };
  writeJsonAtomic(path.join(dir, 'summary.json'), summary);
  return config;
}

export interface SweepFixture {
  envs?: string[];
  levels?: number[];
  seeds?: number[];
  updates?: number;
}

type PlannedRun = SweepManifest['runs'][number];

/** A sweep folder as `gradnoise sweep` writes it: sweep.json, runs/<id>/, sweep.csv, sweep-summary.json. */
export function writeSweepFolder(dir: string, options: SweepFixture = {}): string[] {
  const envs = options.envs ?? ['CartPole-v1', 'Acrobot-v1'];
  const levels = options.levels ?? [0, 2, 4];
  const seeds = options.seeds ?? [1, 2];
  const runs: PlannedRun[] = [];
  const rows: Record<string, CsvValue>[] = [];
  for (const envId of envs) {
    for (const level of levels) {
      for (const seed of seeds) {
        const id = `id=${envId},level=${level},seed=${seed}`;
        const group = `id=${envId},level=${level}`;
        const config = writeRunFolder(path.join(dir, 'runs', id), { envId, level, seed, updates: options.updates ?? 48 });
        runs.push({ id, group, settings: { 'env.id': envId, 'env.level': level }, seed, config });
        rows.push({ run_id: id, group, status: 'completed', 'env.id': envId, 'env.level': level, seed, env_id: envId });
      }
    }
  }
  const manifest: SweepManifest = {
    kind: 'sweep',
    name: 'difficulty',
    definition: { name: 'difficulty', base: {}, grid: { 'env.id': envs, 'env.level': levels }, seeds },
    keys: ['env.id', 'env.level'],
    configDir: '.',
    version: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
    runs,
  };
  writeJsonAtomic(path.join(dir, 'sweep.json'), manifest);
  const log = new CsvLog(path.join(dir, 'sweep.csv'), ['run_id', 'group', 'status', 'env.id', 'env.level', 'seed', 'env_id']);
  log.append(rows);
  writeJsonAtomic(path.join(dir, 'sweep-summary.json'), { name: 'difficulty', rules: SWEEP_RULES, groups: [], levelRatios: [] });
  return runs.map((r) => r.id);
}

/** The rules sweep-summary.json states (as sweep/results.ts writes them). */
export const SWEEP_RULES = {
  runAverage: 'ratio of means over all measurements of the run: mean trace_sigma / mean grad_sq',
  matchedProgress:
    "within each group (runs differing only in seed), target = min + 0.5·(max − min) of the return_mean its completed runs logged; each run's matched point is its first update with return_mean ≥ target; B_simple there is the ratio of means over the monitor.window measurements centred on that update",
  growth: 'ratio of means over the last quarter of the run (by env steps) / ratio of means over the first quarter',
};

export interface CriticalFixture {
  envId?: string;
  level?: number;
  /** The second target's fit lies above the batch sizes tried (B_crit = ∞, only a lower bound). */
  aboveRange?: boolean;
}

const BATCH_SIZES = [64, 128, 256, 512, 1024, 2048];

const interval = (estimate: number, lo: number, hi: number) => ({ estimate, lo, hi });

/** B_simple up to a target: `component`'s figure, the others' scaled as the fixture's runs scale them. */
function bSimpleOf(estimate: number, lo: number, hi: number, runs: number): Pick<TargetResult, 'bSimple' | 'bSimpleByComponent'> {
  const scaled = (f: number) => ({ estimate: estimate * f, lo: lo * f, hi: hi * f, runs });
  return { bSimple: scaled(COMPONENT_FACTOR.total), bSimpleByComponent: { policy: scaled(COMPONENT_FACTOR.policy), value: scaled(COMPONENT_FACTOR.value), total: scaled(COMPONENT_FACTOR.total) } };
}

/**
 * A critical-batch folder as `gradnoise critical-batch` writes it: sweep.json of kind `critical-batch`, runs per batch
 * size and seed, critical-batch.json (per target: fit with bootstrap intervals, kept points, B_simple up to the target)
 * and critical-batch.csv. The second target is given as a fraction of the return range, the third was not fitted.
 */
export function writeCriticalBatchFolder(dir: string, options: CriticalFixture = {}): void {
  const envId = options.envId ?? 'CartPole-v1';
  const level = options.level ?? 0;
  fs.mkdirSync(dir, { recursive: true });
  const fitted: TargetResult[] = [
    { spec: { kind: 'return', value: 100, label: '100' }, target: 100, sMin: 40, bCrit: 600 } as const,
    { spec: { kind: 'fraction', value: 0.8, label: '80%' }, target: 300, sMin: 90, bCrit: 1400 } as const,
  ].map((t, i) => {
    const points = BATCH_SIZES.map((batchSize, k) => {
      const steps = t.sMin * (1 + t.bCrit / batchSize) * (1 + 0.08 * Math.sin(k * 2.1));
      return { batchSize, lr: 3e-4, label: `batch=${batchSize}`, steps, samples: steps * batchSize, reached: 2, seeds: 2, edge: null };
    });
    const eMin = t.sMin * t.bCrit;
    // JSON holds ∞ as null: the regime tells it.
    const above = options.aboveRange === true && i === 1;
    return {
      spec: t.spec,
      target: t.target,
      excluded: false,
      bCrit: above ? interval(Infinity, 2600, Infinity) : interval(t.bCrit, t.bCrit * 0.6, t.bCrit * 1.7),
      sMin: interval(t.sMin, t.sMin * 0.8, t.sMin * 1.2),
      eMin: interval(eMin, eMin * 0.7, eMin * 1.4),
      regime: above ? 'b_crit_above_range' : 'fit',
      rmsRelativeResidual: 0.05,
      medianFit: { bCrit: t.bCrit * 1.1, sMin: t.sMin, eMin: eMin * 1.1, regime: 'fit' },
      points,
      unreachedBatchSizes: [],
      edges: i === 0 ? [{ batchSize: 64, edge: 'high' as const }] : [],
      score: (t.target - 20) / 480,
      bSimpleW: interval(t.bCrit * 1.5, t.bCrit * 1.1, t.bCrit * 2.1),
      bNoiseW: interval(t.bCrit * 0.9, t.bCrit * 0.6, t.bCrit * 1.3),
      bNoise: interval(t.bCrit * 0.7, t.bCrit * 0.5, t.bCrit * 1.1),
      ...bSimpleOf((t.bCrit * 2.5) / COMPONENT_FACTOR.total, (t.bCrit * 1.8) / COMPONENT_FACTOR.total, (t.bCrit * 3.5) / COMPONENT_FACTOR.total, 12),
    };
  });
  const unfitted: TargetResult = {
    spec: { kind: 'return', value: 480, label: '480' },
    target: 480,
    excluded: true,
    reason: 'reached (in the median seed) at 1 of 6 batch sizes; a fit needs two',
    bCrit: interval(NaN, NaN, NaN),
    sMin: interval(NaN, NaN, NaN),
    eMin: interval(NaN, NaN, NaN),
    regime: 'not_fitted',
    rmsRelativeResidual: NaN,
    medianFit: { bCrit: NaN, sMin: NaN, eMin: NaN, regime: 'not_fitted' },
    points: [{ batchSize: 2048, lr: 3e-4, label: 'batch=2048', steps: 300, samples: 614400, reached: 2, seeds: 2, edge: null }],
    unreachedBatchSizes: [64, 128, 256, 512, 1024],
    edges: [],
    score: NaN,
    bSimpleW: interval(NaN, NaN, NaN),
    bNoiseW: interval(NaN, NaN, NaN),
    bNoise: interval(NaN, NaN, NaN),
    ...bSimpleOf(5000 / COMPONENT_FACTOR.total, 3000 / COMPONENT_FACTOR.total, 9000 / COMPONENT_FACTOR.total, 2),
  };
  const base = fixtureConfig({ envId, level, batch: 128 });
  const definition: CriticalBatchDefinition = {
    config: base,
    batchSizes: BATCH_SIZES,
    seeds: [1, 2],
    scale: 'envs',
    lr: { rule: 'paper', base: 3e-4, baseBatch: 128, noiseScale: 128, alpha: 0.5, multipliers: [1], extensions: 2 },
  };
  const file: CriticalBatchFile = {
    rules: { fit: 'S = S_min + S_min·B_crit/B' },
    definition: { batchSizes: definition.batchSizes, seeds: definition.seeds, scale: definition.scale, lr: definition.lr },
    component: 'total',
    returnRange: { min: 10, max: 360 },
    scale: { random: 20, reference: 500 },
    returnEstimate: 'post-update',
    reachEpisodes: 10,
    targets: [...fitted, unfitted],
    runsUsed: 12,
    runsLeftOut: [],
  };
  writeJsonAtomic(path.join(dir, 'critical-batch.json'), file);
  const runs: PlannedRun[] = [128, 512].map((batch) => {
    const id = `batch=${batch},seed=1`;
    const config = writeRunFolder(path.join(dir, 'runs', id), { batch, updates: 24, envId, level });
    return { id, group: `batch=${batch}`, settings: { 'env.numEnvs': config.env.numEnvs, 'agent.numSteps': config.agent.numSteps, 'agent.lr': config.agent.lr }, seed: 1, config };
  });
  const manifest: SweepManifest = {
    kind: 'critical-batch',
    name: path.basename(dir),
    definition,
    keys: ['env.numEnvs', 'agent.numSteps', 'agent.lr'],
    configDir: '.',
    version: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
    runs,
  };
  writeJsonAtomic(path.join(dir, 'sweep.json'), manifest);
}

function partRecord(name: string, kind: PartRecord['kind'], runs: number, wallS: number): PartRecord {
  return {
    name,
    kind,
    source: `configs/sweeps/${name}.json`,
    dir: name,
    runs,
    envSteps: runs * 16384,
    status: 'completed',
    completed: runs,
    skipped: 0,
    failed: 0,
    wallS,
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:10:00.000Z',
    backends: ['cpu'],
  };
}

/** reproduce.json as `gradnoise reproduce` writes it for the fixture's three parts; `preset` names the preset. */
export function reproduceManifest(preset = 'quick'): ReproduceManifest {
  const definition = presetSchema.parse({ name: preset, sweeps: ['../sweeps/difficulty.json'] });
  return {
    preset: { name: preset, file: `/pkg/configs/reproduce/${preset}.json`, description: 'The headline figures in minutes.', definition },
    version: '0.1.0',
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:21:40.000Z',
    status: 'completed',
    workers: 2,
    machine: { platform: 'linux 6.1', arch: 'x64', cpus: 2, cpuModel: 'Test CPU 9000', memoryGiB: 7.5, node: 'v20.0.0', loadAverage: [0.1, 0.2, 0.3] },
    rules: {
      growth: 'B_simple over the last quarter of a run (by env steps) / over the first quarter',
      difficulty: 'B_simple per level at matched progress: target = min + 0.5·(max − min) of the return_mean; also the whole-run average',
    },
    parts: [partRecord('difficulty', 'sweep', 4, 754.2), partRecord('critical-batch', 'critical-batch', 2, 300), partRecord('critical-batch-level2', 'critical-batch', 2, 245.8)],
    timings: { totalS: 1300, reportS: 4.2, runsS: 1295.8 },
    history: [],
  };
}

/**
 * A reproduce folder as `gradnoise reproduce` writes it: a difficulty sweep and two critical-batch parts (CartPole
 * levels 0 and 2; at level 2 one target's B_crit lies above the batch sizes tried), with reproduce.json.
 */
export function writeReproduceFolder(dir: string): void {
  writeSweepFolder(path.join(dir, 'difficulty'), { envs: ['CartPole-v1'], levels: [0, 4], seeds: [1, 2], updates: 32 });
  writeCriticalBatchFolder(path.join(dir, 'critical-batch'));
  writeCriticalBatchFolder(path.join(dir, 'critical-batch-level2'), { level: 2, aboveRange: true });
  writeJsonAtomic(path.join(dir, 'reproduce.json'), reproduceManifest());
}
