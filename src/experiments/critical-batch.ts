/**
 * Measuring the critical batch size B_crit the way the paper did (docs/science.md, "Critical batch size and how to measure it"), and
 * comparing it with the measured B_simple.
 *
 * Protocol in full: docs/science.md, "The critical-batch protocol". In short:
 *
 * Runs: for every batch size B (samples per update, B = numEnvs × numSteps), learning-rate multiplier and seed, one
 * run of the config, through the sweep machinery (same workers, same resumable folder layout, ids like
 * `batch=512,lrx=2,seed=2`; `batch=512,seed=2` when the grid has a single multiplier).
 * - Batch sizes span at least `minBatchSpan` (default 16×) and are the user's choice, made before any measurement.
 * - Batch size → (numEnvs, numSteps): `scale: 'envs'` (default) keeps the config's numSteps and sets numEnvs = B/numSteps
 *   (like the paper's Atari runs: more parallel envs, same rollout length, so the bootstrap horizon and advantage
 *   estimates do not change with B); `scale: 'steps'` keeps numEnvs and sets numSteps = B/numEnvs. B must divide.
 *   Other hyperparameters (PPO's numMinibatches and updateEpochs, so the optimizer steps per update) stay as configured.
 * - Learning rate per batch size: `fixed` uses the config's lr everywhere; `paper` (default) follows McCandlish et al.
 *   eq. A.3 with an exponent, ε(B) = ε₀·((1 + B_s/B₀)/(1 + B_s/B))^α — equal to the config's lr ε₀ at its own batch B₀;
 *   B_s (default B₀) is a guess of the noise scale, α defaults to 1 for SGD/momentum and 0.5 for Adam/RMSProp. Around
 *   it a grid of `lrMultipliers` (default 0.5, 1, 2: three values spanning 4×); per batch size and target the one that
 *   reaches the target in the fewest median steps is kept, and a winner at the grid's edge extends that batch size's
 *   grid by one step (at most `lrExtensions` times per side; lr-grid.ts, critical-batch-run.ts) or is flagged `edge`.
 *
 * Analysis (per target): targets are normalised scores s (score.ts: s = (R − R_random)/(R_ref − R_random), R_random
 * from the random policy measured at the start, R_ref fixed per task), absolute returns, or fractions of the reached
 * return range. Steps S (updates) and samples E (env steps) at which each run's post-update return (score.ts: the mean
 * over the next `reachEpisodes` completed episodes; `return_mean` for folders written before metrics.csv had
 * `return_sum`) first reaches the target; median over seeds picks the lr; the profile-likelihood fit of every reaching
 * seed gives B_crit, S_min, E_min and their intervals (critical-batch-profile.ts). Beside B_crit: B_simple and B_noise
 * up to the target, w-weighted and as ratio of means (noise-average.ts), pooled over the runs that reached it in the
 * kept cells. Only completed and diverged runs count (a diverged run is one the learning rate did not suit); failed,
 * interrupted and pending runs are left out and reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { analyzeTarget, paperLearningRate, resolveTarget, type LrEdge, type ReachOutcome, type TargetCell, type TargetSpec } from '../analysis/critical-batch-fit.js';
import { multiplierFromLabel, roundMultiplier } from '../analysis/lr-grid.js';
import { averageOverRuns, noisePoints, runAverages, type NoisePoint, type RunAverages } from '../analysis/noise-average.js';
import { normalisedScore, postUpdateReturns, POST_UPDATE_EPISODES, reachEpisodesFor, type ScoreScale } from '../analysis/score.js';
import {
  firstReaching,
  ratioOfMeans,
  returnRange,
  runSeries,
  seedAggregate,
  type BootstrapOptions,
  type NoiseMeans,
  type ReturnPoint,
  type RunSeries,
} from '../analysis/noise-figures.js';
import type { RunConfig } from '../config/schema.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import { InvalidValueError } from '../core/errors.js';
import { writeCsvAtomic, type CsvValue } from '../run/csv.js';
import { readJson, readRunFolder, writeJsonAtomic } from '../run/run-folder.js';
import { runDirOf, SWEEP_MANIFEST, type SweepManifest } from './sweep/folder.js';
import { resolveRunConfig, type PlannedRun, type SweepPlan } from './sweep/plan.js';
import { readBaseline, scaleOf, type Baseline } from './critical-batch-baseline.js';

export type BatchScale = 'envs' | 'steps';
export type LrRule = 'fixed' | 'paper';

export interface CriticalBatchRequest {
  /** The base config (validated; overrides already applied). */
  readonly config: RunConfig;
  /** Folder that relative paths in the config resolve against. */
  readonly configDir: string;
  readonly batchSizes: readonly number[];
  readonly seeds: readonly number[];
  readonly scale?: BatchScale;
  readonly lrRule?: LrRule;
  /** B_s of the paper rule (default: the config's batch size). */
  readonly lrNoiseScale?: number;
  /** α of the paper rule (default 1 for sgd/momentum, 0.5 for adam/rmsprop). */
  readonly lrAlpha?: number;
  readonly lrMultipliers?: readonly number[];
  /** Grid extensions allowed per batch size and side (default 2). */
  readonly lrExtensions?: number;
  /** Smallest allowed ratio of the largest to the smallest batch size (default 16). */
  readonly minBatchSpan?: number;
  /** Multipliers added by grid extension, per batch size (not part of the definition: they follow from the data). */
  readonly extraMultipliers?: ReadonlyMap<number, readonly number[]>;
  readonly name?: string;
  /**
   * Stop every run once its post-update return (mean of the next `episodes` episodes) reaches `return`: the highest
   * target (`targetStop`). Steps to every target are those of a full-length run; the rest of the budget is not spent.
   */
  readonly stop?: { readonly return: number; readonly episodes: number };
  /** Episodes of the post-update return estimate (default 10; `reachEpisodesOf` derives it from the baseline). */
  readonly reachEpisodes?: number;
}

export const DEFAULT_LR_MULTIPLIERS = [0.5, 1, 2] as const;
export const DEFAULT_LR_EXTENSIONS = 2;
export const DEFAULT_MIN_BATCH_SPAN = 16;

/** The resolved experiment definition (what sweep.json stores and a resume compares). */
export interface CriticalBatchDefinition {
  readonly config: RunConfig;
  readonly batchSizes: readonly number[];
  readonly seeds: readonly number[];
  readonly scale: BatchScale;
  readonly lr: {
    readonly rule: LrRule;
    readonly base: number;
    readonly baseBatch: number;
    readonly noiseScale: number;
    readonly alpha: number;
    readonly multipliers: readonly number[];
    /** Extensions of the grid allowed per batch size and side. */
    readonly extensions: number;
  };
  /** Episodes of the post-update return estimate, where not the default 10 (the analysis reads them from here). */
  readonly reachEpisodes?: number;
}

export function defaultLrAlpha(config: RunConfig): number {
  const type = config.agent.optimizer.type;
  return type === 'sgd' || type === 'momentum' ? 1 : 0.5;
}

/** (numEnvs, numSteps) for batch size B under the scaling rule; InvalidValueError when B does not divide. */
export function batchShape(config: RunConfig, batchSize: number, scale: BatchScale): { numEnvs: number; numSteps: number } {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidValueError('--batch-sizes', batchSize, 'expected positive integers');
  if (scale === 'envs') {
    const numSteps = config.agent.numSteps;
    if (batchSize % numSteps !== 0) {
      throw new InvalidValueError('--batch-sizes', batchSize, `with --scale envs every batch size must be a multiple of agent.numSteps (${numSteps})`);
    }
    return { numEnvs: batchSize / numSteps, numSteps };
  }
  const numEnvs = config.env.numEnvs;
  if (batchSize % numEnvs !== 0) {
    throw new InvalidValueError('--batch-sizes', batchSize, `with --scale steps every batch size must be a multiple of env.numEnvs (${numEnvs})`);
  }
  return { numEnvs, numSteps: batchSize / numEnvs };
}

/** Expand the experiment into a sweep plan (validating every run's config). */
export function planCriticalBatch(request: CriticalBatchRequest): SweepPlan {
  const config = request.config;
  const scale = request.scale ?? 'envs';
  const rule = request.lrRule ?? 'paper';
  const baseBatch = config.env.numEnvs * config.agent.numSteps;
  const noiseScale = request.lrNoiseScale ?? baseBatch;
  const alpha = request.lrAlpha ?? defaultLrAlpha(config);
  const multipliers = request.lrMultipliers ?? [...DEFAULT_LR_MULTIPLIERS];
  const extensions = request.lrExtensions ?? DEFAULT_LR_EXTENSIONS;
  const minSpan = request.minBatchSpan ?? DEFAULT_MIN_BATCH_SPAN;
  if (request.batchSizes.length < 2) throw new InvalidValueError('--batch-sizes', request.batchSizes.join(','), 'list at least two batch sizes');
  if (new Set(request.batchSizes).size !== request.batchSizes.length) throw new InvalidValueError('--batch-sizes', request.batchSizes.join(','), 'lists a batch size twice');
  if (!(Number.isFinite(minSpan) && minSpan >= 1)) throw new InvalidValueError('--min-batch-span', minSpan, 'expected a number ≥ 1');
  const span = Math.max(...request.batchSizes) / Math.min(...request.batchSizes);
  if (span < minSpan * (1 - 1e-12)) {
    throw new InvalidValueError(
      '--batch-sizes',
      request.batchSizes.join(','),
      `spans ${Number(span.toPrecision(3))}× (largest/smallest); a B_crit fit needs at least ${minSpan}× (e.g. 64..1024), or lower --min-batch-span`,
    );
  }
  if (!(Number.isInteger(extensions) && extensions >= 0)) throw new InvalidValueError('--lr-extensions', extensions, 'expected an integer ≥ 0');
  if (request.seeds.length < 1) throw new InvalidValueError('--seeds', request.seeds.length, 'expected at least one seed');
  if (!(noiseScale > 0)) throw new InvalidValueError('--lr-noise-scale', noiseScale, 'expected a positive number');
  if (!Number.isFinite(alpha) || alpha < 0) throw new InvalidValueError('--lr-alpha', alpha, 'expected a number ≥ 0');
  if (multipliers.length === 0 || multipliers.some((m) => !(m > 0 && Number.isFinite(m)))) {
    throw new InvalidValueError('--lr-multipliers', multipliers.join(','), 'expected positive numbers');
  }
  if (new Set(multipliers).size !== multipliers.length) throw new InvalidValueError('--lr-multipliers', multipliers.join(','), 'lists a multiplier twice');

  const batchSizes = [...request.batchSizes].sort((a, b) => a - b);
  const base = structuredClone(config) as unknown as Record<string, unknown>;
  delete base.meta;
  if (request.stop) {
    if (!Number.isFinite(request.stop.return)) throw new InvalidValueError('--stop-at-target', request.stop.return, 'the stopping return must be a finite number');
    base.run = { ...(base.run as object), stopAtReturn: request.stop.return, stopEpisodes: request.stop.episodes };
  }
  const origin = { 'env.numEnvs': '--batch-sizes', 'agent.numSteps': '--batch-sizes', 'agent.lr': '--lr-rule' };
  const runs: PlannedRun[] = [];
  for (const batchSize of batchSizes) {
    const shape = batchShape(config, batchSize, scale);
    const lrAtBatch = rule === 'paper' ? paperLearningRate(config.agent.lr, baseBatch, batchSize, noiseScale, alpha) : config.agent.lr;
    const extra = (request.extraMultipliers?.get(batchSize) ?? []).map(roundMultiplier).filter((m) => !multipliers.includes(m));
    const grid = [...new Set([...multipliers, ...extra])].sort((a, b) => a - b);
    for (const multiplier of grid) {
      // A single-value grid keeps its ids (`batch=B`) when an extension adds cells, so completed runs stay valid.
      const named = multipliers.length > 1 || !multipliers.includes(multiplier);
      const settings = { 'env.numEnvs': shape.numEnvs, 'agent.numSteps': shape.numSteps, 'agent.lr': Number((lrAtBatch * multiplier).toPrecision(6)) };
      const group = named ? `batch=${batchSize},lrx=${multiplier}` : `batch=${batchSize}`;
      for (const seed of request.seeds) {
        const id = `${group},seed=${seed}`;
        runs.push({ id, group, settings, seed, config: resolveRunConfig(base, settings, seed, id, origin), origin });
      }
    }
  }
  const definition: CriticalBatchDefinition = {
    config: base as unknown as RunConfig,
    batchSizes,
    seeds: [...request.seeds],
    scale,
    lr: { rule, base: config.agent.lr, baseBatch, noiseScale, alpha, multipliers: [...multipliers], extensions },
    ...(request.reachEpisodes !== undefined && request.reachEpisodes !== POST_UPDATE_EPISODES ? { reachEpisodes: request.reachEpisodes } : {}),
  };
  return {
    kind: 'critical-batch',
    name: request.name ?? `critical-batch-${config.env.id}-${config.agent.algo}`,
    definition,
    keys: ['env.numEnvs', 'agent.numSteps', 'agent.lr'],
    configDir: request.configDir,
    runs,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Command-line lists

/** `64,128,256` → [64, 128, 256]; `name` is the flag for error messages. */
export function parseNumberList(text: string, name: string, options: { integer?: boolean; positive?: boolean } = {}): number[] {
  const parts = String(text)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new InvalidValueError(name, text, 'expected a comma-separated list of numbers');
  return parts.map((part) => {
    const value = Number(part);
    if (part === '' || !Number.isFinite(value)) throw new InvalidValueError(name, part, 'expected a number');
    if (options.integer && !Number.isInteger(value)) throw new InvalidValueError(name, part, 'expected an integer');
    if (options.positive && !(value > 0)) throw new InvalidValueError(name, part, 'expected a positive number');
    return value;
  });
}

/**
 * Every target as a return when all are fixed before the runs (absolute returns, or scores with the scale known);
 * null when some target is a fraction of the reached range, which is only known once every run has ended.
 */
function fixedTargetReturns(targets: readonly TargetSpec[], scale: ScoreScale | null): number[] | null {
  if (targets.length === 0 || targets.some((t) => t.kind !== 'return' && !(t.kind === 'score' && scale))) return null;
  const values = targets.map((t) => resolveTarget(t, { min: NaN, max: NaN }, scale ?? undefined));
  return values.every(Number.isFinite) ? values : null;
}

/** The return at which runs can stop: the highest target, when every target is fixed (`fixedTargetReturns`). */
export function targetStop(targets: readonly TargetSpec[], scale: ScoreScale | null): number | null {
  const values = fixedTargetReturns(targets, scale);
  return values ? Math.max(...values) : null;
}

/** Episodes of the post-update estimate (score.ts `reachEpisodesFor` at the lowest fixed target; else the default 10). */
export function reachEpisodesOf(targets: readonly TargetSpec[], baseline: Baseline): number {
  const values = fixedTargetReturns(targets, scaleOf(baseline));
  return (values && reachEpisodesFor(Math.min(...values), baseline.random)) ?? POST_UPDATE_EPISODES;
}

/** `25%,50%,200,s=0.8` → fractions of the reached return range, absolute returns and normalised scores. */
export function parseTargets(text: string, name = '--targets'): TargetSpec[] {
  const parts = String(text)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new InvalidValueError(name, text, 'expected a comma-separated list of returns or percentages');
  return parts.map((part): TargetSpec => {
    if (part.startsWith('s=')) return parseScores(part.slice(2), name)[0]!;
    if (part.endsWith('%')) {
      const value = Number(part.slice(0, -1));
      if (!Number.isFinite(value) || value < 0 || value > 100) throw new InvalidValueError(name, part, 'percentages must lie in 0%..100%');
      return { kind: 'fraction', value: value / 100, label: part };
    }
    const value = Number(part);
    if (!Number.isFinite(value)) throw new InvalidValueError(name, part, "expected a return (e.g. 200), a percentage of the reached range (e.g. 50%) or a normalised score (e.g. s=0.8)");
    return { kind: 'return', value, label: part };
  });
}

/** `0.5,0.8` → normalised-score targets (`--scores`). */
export function parseScores(text: string, name = '--scores'): TargetSpec[] {
  return parseNumberList(text, name).map((value) => {
    if (!(value > 0 && value <= 1.5)) throw new InvalidValueError(name, value, 'normalised scores lie in (0, 1.5] (0 = random policy, 1 = the reference return)');
    return { kind: 'score' as const, value, label: `s=${value}` };
  });
}

/** The default targets: range targets where a task has no reference return, score targets where it has one. */
export const DEFAULT_TARGETS = '25%,50%,75%';
export const DEFAULT_SCORES = '0.5,0.8';
/** The targets an experiment is analysed with when none are given (the CLI's and a `sweep finish`'s alike). */
export const defaultTargets = (baseline: Baseline | null): TargetSpec[] =>
  parseTargets(baseline?.reference ? DEFAULT_SCORES.split(',').map((x) => `s=${x}`).join(',') : DEFAULT_TARGETS);

// ---------------------------------------------------------------------------------------------------------------
// Analysis

export interface CriticalBatchOptions {
  readonly targets?: readonly TargetSpec[];
  /**
   * The gradient whose B_simple goes in the `b_simple` columns (default `policy`: return targets measure the policy's
   * progress, and with separate networks the value regression's far less noisy gradient dominates the total's |G|²).
   * All three components are reported as well.
   */
  readonly component?: NoiseComponent;
  readonly bootstrap?: BootstrapOptions;
  /** R_random and R_ref (score targets need it; with it every target also gets its normalised score). */
  readonly scale?: ScoreScale;
  /** Episodes in the post-update return estimate (default 10). */
  readonly reachEpisodes?: number;
}

type Figure3 = { estimate: number; lo: number; hi: number };

export interface TargetResult {
  readonly spec: TargetSpec;
  /** The raw return the target stands for. */
  readonly target: number;
  /** Its normalised score (NaN without a score scale). */
  readonly score: number;
  /** Left out of the fit: reached (median over seeds) at fewer than two batch sizes. */
  readonly excluded: boolean;
  readonly reason?: string;
  readonly bCrit: Figure3;
  readonly sMin: Figure3;
  readonly eMin: Figure3;
  readonly regime: string;
  /** √(mean squared log residual) of the seeds in the fit. */
  readonly rmsRelativeResidual: number;
  /** The weighted least-squares fit of the per-batch-size medians (cross-check of the profile fit). */
  readonly medianFit: { readonly bCrit: number; readonly sMin: number; readonly eMin: number; readonly regime: string };
  readonly points: readonly { batchSize: number; lr: number; label: string; steps: number; samples: number; reached: number; seeds: number; multiplier?: number; edge: LrEdge }[];
  readonly unreachedBatchSizes: readonly number[];
  /** Batch sizes whose kept lr sits at an edge of the grid run there. */
  readonly edges: readonly { batchSize: number; edge: Exclude<LrEdge, null> }[];
  /** B_simple of `component` up to the target: ratio of means pooled over runs. */
  readonly bSimple: { estimate: number; lo: number; hi: number; runs: number };
  readonly bSimpleByComponent: Readonly<Record<NoiseComponent, { estimate: number; lo: number; hi: number; runs: number }>>;
  /** Of `component` up to the target: B_simple w-weighted, B_noise w-weighted and as ratio of means (NaN without bNoise). */
  readonly bSimpleW: Figure3;
  readonly bNoiseW: Figure3;
  readonly bNoise: Figure3;
}

export interface CriticalBatchResult {
  readonly component: NoiseComponent;
  readonly returnRange: { min: number; max: number };
  /** R_random and R_ref, when known. */
  readonly scale: ScoreScale | null;
  /** Which return estimate the steps-to-target used: `post-update` (score.ts) or `rolling` (return_mean, old folders). */
  readonly returnEstimate: 'post-update' | 'rolling';
  readonly reachEpisodes: number;
  readonly targets: readonly TargetResult[];
  readonly runsUsed: number;
  readonly runsLeftOut: readonly { id: string; status: string }[];
}

/** critical-batch.json: the rules in words, the definition and the result (written with non-finite numbers as null). */
export interface CriticalBatchFile extends CriticalBatchResult {
  readonly rules: Readonly<Record<string, string>>;
  readonly definition: Pick<CriticalBatchDefinition, 'batchSizes' | 'seeds' | 'scale' | 'lr'>;
  readonly baseline?: unknown;
}

export const CRITICAL_BATCH_COLUMNS = [
  'target',
  'target_spec',
  'b_crit',
  'b_crit_lo',
  'b_crit_hi',
  's_min',
  's_min_lo',
  's_min_hi',
  'e_min',
  'e_min_lo',
  'e_min_hi',
  'b_simple',
  'b_simple_lo',
  'b_simple_hi',
  'b_simple_over_b_crit',
  'n_batch_sizes_reached',
  'n_batch_sizes',
  'fit_regime',
  'rms_relative_residual',
  'component',
  'b_simple_policy',
  'b_simple_value',
  'b_simple_total',
  'score',
  'b_simple_w',
  'b_simple_w_lo',
  'b_simple_w_hi',
  'b_noise',
  'b_noise_lo',
  'b_noise_hi',
  'b_noise_w',
  'b_noise_w_lo',
  'b_noise_w_hi',
  'lr_edges',
  'b_crit_median_fit',
] as const;

export interface LoadedRun {
  readonly id: string;
  readonly group: string;
  readonly batchSize: number;
  readonly lr: number;
  readonly data: RunSeries;
  /** Post-update returns (score.ts); without them `data.returns` (return_mean) is used. */
  readonly reach?: readonly ReturnPoint[];
  /** Default-figure noise points per component (noise-average.ts); without them the w-weighted and B_noise figures are NaN. */
  readonly noisePoints?: Record<NoiseComponent, NoisePoint[]>;
}

/** Analyze the runs in a critical-batch folder (pure given the run data). */
export function criticalBatchFromRuns(runs: readonly LoadedRun[], batchSizes: readonly number[], options: CriticalBatchOptions = {}): CriticalBatchResult {
  const component = options.component ?? 'policy';
  const scale = options.scale ?? null;
  const specs = options.targets ?? parseTargets(DEFAULT_TARGETS);
  const used = runs.filter((r) => r.data.summary?.status === 'completed' || r.data.summary?.status === 'diverged');
  const leftOut = runs.filter((r) => !used.includes(r)).map((r) => ({ id: r.id, status: r.data.summary?.status ?? 'pending' }));
  const postUpdate = used.length > 0 && used.every((r) => r.reach !== undefined);
  const reachSeries = (r: LoadedRun): readonly ReturnPoint[] => (postUpdate ? r.reach! : r.data.returns);
  const range = returnRange(used.map((r) => [...reachSeries(r)]));
  const groups = new Map<string, LoadedRun[]>();
  for (const run of used) {
    const list = groups.get(run.group) ?? [];
    list.push(run);
    groups.set(run.group, list);
  }
  const targets = specs.map((spec): TargetResult => {
    const target = spec.kind === 'score' ? resolveTarget(spec, range, scale ?? undefined) : Number.isFinite(range.min) || spec.kind === 'return' ? resolveTarget(spec, range) : NaN;
    const reach = new Map<string, ReachOutcome & { envSteps: number }>();
    for (const run of used) {
      const point = Number.isFinite(target) ? firstReaching(reachSeries(run), target) : null;
      reach.set(run.id, point ? { steps: point.update, samples: point.envSteps, envSteps: point.envSteps } : { steps: Infinity, samples: Infinity, envSteps: Infinity });
    }
    const cells: TargetCell[] = [...groups.values()].map((members) => {
      const multiplier = multiplierFromLabel(members[0]!.group);
      return {
        batchSize: members[0]!.batchSize,
        lr: members[0]!.lr,
        label: members[0]!.group,
        ...(multiplier !== null ? { multiplier } : {}),
        outcomes: members.map((m) => reach.get(m.id)!),
      };
    });
    const analysis = analyzeTarget(cells, options.bootstrap?.confidence);
    const kept = new Set(analysis.points.map((p) => p.label));
    const reachedKept = used.filter((run) => kept.has(run.group) && Number.isFinite(reach.get(run.id)!.envSteps));
    const bSimpleByComponent = {} as Record<NoiseComponent, { estimate: number; lo: number; hi: number; runs: number }>;
    for (const c of NOISE_COMPONENTS) {
      const means: NoiseMeans[] = [];
      for (const run of reachedKept) {
        const figure = ratioOfMeans(run.data.noise[c].filter((m) => m.envSteps <= reach.get(run.id)!.envSteps));
        if (figure.measurements > 0) means.push(figure);
      }
      bSimpleByComponent[c] = { ...pick(seedAggregate(means, options.bootstrap)), runs: means.length };
    }
    const perRun: RunAverages[] = reachedKept.filter((r) => r.noisePoints).map((run) => runAverages(run.noisePoints![component], reach.get(run.id)!.envSteps, run.batchSize));
    const averaged = averageOverRuns(perRun, options.bootstrap);
    const excluded = analysis.fit.batchSizes < 2;
    const reachedSizes = analysis.points.length;
    const median = analysis.fit.medianFit;
    return {
      spec,
      target,
      score: scale ? normalisedScore(target, scale) : NaN,
      excluded,
      ...(excluded
        ? { reason: `reached (in the median seed) at ${reachedSizes} of ${batchSizes.length} batch sizes; a fit needs two` }
        : {}),
      bCrit: pick(analysis.bCrit),
      sMin: pick(analysis.sMin),
      eMin: pick(analysis.eMin),
      regime: excluded ? 'not_fitted' : analysis.fit.regime,
      rmsRelativeResidual: analysis.fit.rmsRelativeResidual,
      medianFit: { bCrit: median.bCrit, sMin: median.sMin, eMin: median.eMin, regime: median.batchSizes < 2 ? 'not_fitted' : median.regime },
      points: analysis.points.map(({ seedSteps: _seedSteps, ...point }) => point),
      unreachedBatchSizes: analysis.unreachedBatchSizes,
      edges: analysis.points.flatMap((p) => (p.edge ? [{ batchSize: p.batchSize, edge: p.edge }] : [])),
      bSimple: bSimpleByComponent[component],
      bSimpleByComponent,
      bSimpleW: pick(averaged.bSimpleW),
      bNoiseW: pick(averaged.bNoiseW),
      bNoise: pick(averaged.bNoiseRatio),
    };
  });
  return {
    component,
    returnRange: range,
    scale,
    returnEstimate: postUpdate ? 'post-update' : 'rolling',
    reachEpisodes: options.reachEpisodes ?? POST_UPDATE_EPISODES,
    targets,
    runsUsed: used.length,
    runsLeftOut: leftOut,
  };
}

const pick = (i: { estimate: number; lo: number; hi: number }): { estimate: number; lo: number; hi: number } => ({ estimate: i.estimate, lo: i.lo, hi: i.hi });

/** Read a critical-batch folder, analyze it, and write critical-batch.json and critical-batch.csv. */
export function analyzeCriticalBatch(dir: string, options: CriticalBatchOptions = {}): CriticalBatchResult {
  const manifestFile = path.join(dir, SWEEP_MANIFEST);
  if (!fs.existsSync(manifestFile)) throw new InvalidValueError('DIR', dir, `no ${SWEEP_MANIFEST} here; not a critical-batch folder`);
  const manifest = readJson<SweepManifest>(manifestFile);
  if (manifest.kind !== 'critical-batch') throw new InvalidValueError('DIR', dir, `holds a ${manifest.kind}, not a critical-batch experiment`);
  const definition = manifest.definition as CriticalBatchDefinition;
  const episodes = options.reachEpisodes ?? definition.reachEpisodes ?? POST_UPDATE_EPISODES;
  const runs: LoadedRun[] = manifest.runs.map((run) => {
    const folder = readRunFolder(runDirOf(dir, run.id));
    const reach = postUpdateReturns(folder.metrics, episodes);
    return {
      id: run.id,
      group: run.group,
      batchSize: run.config.env.numEnvs * run.config.agent.numSteps,
      lr: run.config.agent.lr,
      data: runSeries(folder),
      ...(reach ? { reach } : {}),
      noisePoints: noisePoints(folder.noise),
    };
  });
  const baseline = readBaseline(dir);
  const scale = options.scale ?? scaleOf(baseline);
  const targets = options.targets ?? defaultTargets(baseline);
  const result = criticalBatchFromRuns(runs, definition.batchSizes, { ...options, targets, ...(scale ? { scale } : {}), reachEpisodes: episodes });
  writeCriticalBatchFiles(dir, result, definition, baseline);
  return result;
}

const num = (x: number): CsvValue => (Number.isNaN(x) ? null : x);

export function criticalBatchRows(result: CriticalBatchResult, batchSizes: number): Record<string, CsvValue>[] {
  return result.targets.map((t) => {
    const ratio = t.bSimple.estimate / t.bCrit.estimate;
    const row: Record<string, CsvValue> = {
      target: t.target,
      target_spec: t.spec.label,
      b_crit: t.bCrit.estimate,
      b_crit_lo: t.bCrit.lo,
      b_crit_hi: t.bCrit.hi,
      s_min: t.sMin.estimate,
      s_min_lo: t.sMin.lo,
      s_min_hi: t.sMin.hi,
      e_min: t.eMin.estimate,
      e_min_lo: t.eMin.lo,
      e_min_hi: t.eMin.hi,
      b_simple: t.bSimple.estimate,
      b_simple_lo: t.bSimple.lo,
      b_simple_hi: t.bSimple.hi,
      b_simple_over_b_crit: num(ratio),
      n_batch_sizes_reached: t.points.length,
      n_batch_sizes: batchSizes,
      fit_regime: t.regime,
      rms_relative_residual: t.rmsRelativeResidual,
      component: result.component,
      b_simple_policy: t.bSimpleByComponent.policy.estimate,
      b_simple_value: t.bSimpleByComponent.value.estimate,
      b_simple_total: t.bSimpleByComponent.total.estimate,
      score: num(t.score),
      b_simple_w: t.bSimpleW.estimate,
      b_simple_w_lo: t.bSimpleW.lo,
      b_simple_w_hi: t.bSimpleW.hi,
      b_noise: t.bNoise.estimate,
      b_noise_lo: t.bNoise.lo,
      b_noise_hi: t.bNoise.hi,
      b_noise_w: t.bNoiseW.estimate,
      b_noise_w_lo: t.bNoiseW.lo,
      b_noise_w_hi: t.bNoiseW.hi,
      lr_edges: t.edges.map((e) => `${e.batchSize}:${e.edge}`).join(' '),
      b_crit_median_fit: t.medianFit.bCrit,
    };
    return row;
  });
}

/** The rules critical-batch.json states in words (what the code above does). */
export function criticalBatchRules(result: CriticalBatchResult, definition: CriticalBatchDefinition): Record<string, string> {
  const lr = definition.lr;
  const grid = `× multipliers ${lr.multipliers.join(', ')} (extended by one step per side, at most ${lr.extensions ?? 0} times, where the kept multiplier sits at an edge; still at an edge after that: flagged in lr_edges)`;
  return {
    batch: `B = numEnvs × numSteps; --scale ${definition.scale} (${definition.scale === 'envs' ? 'numSteps kept, numEnvs = B/numSteps' : 'numEnvs kept, numSteps = B/numEnvs'})`,
    lr:
      lr.rule === 'paper'
        ? `ε(B) = ${lr.base}·((1 + ${lr.noiseScale}/${lr.baseBatch})/(1 + ${lr.noiseScale}/B))^${lr.alpha} (McCandlish et al. eq. A.3), ${grid}; per batch size and target the multiplier with the fewest median steps is kept`
        : `config lr ${lr.base} at every batch size, ${grid}; per batch size and target the multiplier with the fewest median steps is kept`,
    steps:
      result.returnEstimate === 'post-update'
        ? `S = updates until the post-update return (mean return of the first ${result.reachEpisodes} or more episodes completed after the update, whole updates) first reaches the target; E = env steps then; median over seeds picks the lr (a seed that never reaches counts as ∞)`
        : 'S = updates until return_mean (rolling mean over the last 20 episodes; this folder predates return_sum) first reaches the target; E = env steps then; median over seeds picks the lr (a seed that never reaches counts as ∞)',
    fit: 'log S = log S_min + log(1 + B_crit/B) + ε over every seed that reached the target in the kept cells, least squares (profile over B_crit); E_min = S_min·B_crit; intervals: profile likelihood, RSS − RSS_min ≤ σ̂²·t²(n − 2) (coverage checked on synthetic data); medianFit: S = a + b/B on the per-batch-size medians, weights 1/Ŝ² with Ŝ the fitted curve (iteratively reweighted)',
    bSimple: `run average up to the target, per run that reached it in a kept cell, pooled over runs, bootstrap over runs. b_simple: ratio of means (mean tr(Σ) / mean |G|² of its measurements); b_simple_w / b_noise_w: Σ w_t B_t / Σ w_t with w_t = 1/(1 + B_t/B), B_t the default figure (b_simple / b_noise column); b_noise: mean tr(HΣ) / mean GᵀHG, empty unless both pooled means are > 0. Columns: the ${result.component} component; b_simple_policy/value/total: ratio of means of each`,
    targets: result.scale
      ? `s=X targets: return R_random + X·(R_ref − R_random) with R_random ${result.scale.random.toPrecision(4)} (random policy) and R_ref ${result.scale.reference} (baseline.json); an N% target is min + N/100·(max − min) of the return estimate of any used run`
      : 'an N% target is min + N/100·(max − min) of the return estimate of any used run; no R_ref for this task, so no normalised scores',
  };
}

function writeCriticalBatchFiles(dir: string, result: CriticalBatchResult, definition: CriticalBatchDefinition, baseline: unknown): void {
  writeCsvAtomic(path.join(dir, 'critical-batch.csv'), CRITICAL_BATCH_COLUMNS, criticalBatchRows(result, definition.batchSizes.length));
  writeJsonAtomic(path.join(dir, 'critical-batch.json'), {
    rules: criticalBatchRules(result, definition),
    definition: { batchSizes: definition.batchSizes, seeds: definition.seeds, scale: definition.scale, lr: definition.lr },
    ...(baseline ? { baseline } : {}),
    ...result,
  } satisfies CriticalBatchFile);
}
