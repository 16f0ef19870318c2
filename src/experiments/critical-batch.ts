/**
 * Measuring the critical batch size B_crit the way the paper did (docs/science.md, "Critical batch size and how to measure it"), and
 * comparing it with the measured B_simple.
 *
 * Runs: for every batch size B (samples per update, B = numEnvs × numSteps), learning-rate multiplier and seed, one
 * run of the config, through the sweep machinery (same workers, same resumable folder layout, ids like
 * `batch=512,seed=2` or `batch=512,lrx=2,seed=2`).
 * - Batch size → (numEnvs, numSteps): `scale: 'envs'` (default) keeps the config's numSteps and sets numEnvs = B/numSteps
 *   (like the paper's Atari runs: more parallel envs, same rollout length, so the bootstrap horizon and advantage
 *   estimates do not change with B); `scale: 'steps'` keeps numEnvs and sets numSteps = B/numEnvs. B must divide.
 *   Other hyperparameters (PPO's numMinibatches and updateEpochs, so the optimizer steps per update) stay as configured.
 * - Learning rate per batch size: `fixed` uses the config's lr everywhere; `paper` (default) follows (2.6) with an
 *   exponent, ε(B) = ε₀·((1 + B_s/B₀)/(1 + B_s/B))^α — equal to the config's lr ε₀ at its own batch B₀; B_s (default
 *   B₀) is a guess of the noise scale, α defaults to 1 for SGD/momentum and 0.5 for Adam/RMSProp (the paper's
 *   observation for Adam). `lrMultipliers` (default [1]) runs each batch size at several multiples of that rate and,
 *   per batch size and target, keeps the one that reaches the target in the fewest steps (tuning per batch size as
 *   the paper did).
 *
 * Analysis (per target): steps S (updates) and samples E (env steps) at which each run's return_mean first reaches
 * the target; median over seeds; fit S = S_min(1 + B_crit/B) (critical-batch-fit.ts); E_min = S_min·B_crit. Targets
 * are absolute returns (`200`) or fractions of the range of return_mean any run logged (`50%` = min + 0.5·(max − min)).
 * The B_simple compared with B_crit is the run average up to the target: per run that reached it (in the kept cells),
 * the ratio of means over its measurements taken up to the update that reached it, pooled over those runs (mean
 * tr(Σ) over mean |G|²) with a bootstrap interval over runs. Only completed and diverged runs count (a diverged run is
 * one the learning rate did not suit); failed, interrupted and pending runs are left out and reported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { analyzeTarget, paperLearningRate, resolveTarget, type ReachOutcome, type TargetCell, type TargetSpec } from '../analysis/critical-batch-fit.js';
import {
  firstReaching,
  ratioOfMeans,
  returnRange,
  runSeries,
  seedAggregate,
  type BootstrapOptions,
  type NoiseMeans,
  type RunSeries,
} from '../analysis/noise-figures.js';
import type { RunConfig } from '../config/schema.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import { InvalidValueError } from '../core/errors.js';
import { writeCsvAtomic, type CsvValue } from '../run/csv.js';
import { readJson, readRunFolder, writeJsonAtomic } from '../run/run-folder.js';
import { runDirOf, SWEEP_MANIFEST, type SweepManifest } from './sweep/folder.js';
import { resolveRunConfig, type PlannedRun, type SweepPlan } from './sweep/plan.js';

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
  readonly name?: string;
}

/** The resolved experiment definition (what sweep.json stores and a resume compares). */
export interface CriticalBatchDefinition {
  readonly config: RunConfig;
  readonly batchSizes: readonly number[];
  readonly seeds: readonly number[];
  readonly scale: BatchScale;
  readonly lr: { readonly rule: LrRule; readonly base: number; readonly baseBatch: number; readonly noiseScale: number; readonly alpha: number; readonly multipliers: readonly number[] };
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
  const multipliers = request.lrMultipliers ?? [1];
  if (request.batchSizes.length < 2) throw new InvalidValueError('--batch-sizes', request.batchSizes.join(','), 'list at least two batch sizes');
  if (new Set(request.batchSizes).size !== request.batchSizes.length) throw new InvalidValueError('--batch-sizes', request.batchSizes.join(','), 'lists a batch size twice');
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
  const origin = { 'env.numEnvs': '--batch-sizes', 'agent.numSteps': '--batch-sizes', 'agent.lr': '--lr-rule' };
  const runs: PlannedRun[] = [];
  for (const batchSize of batchSizes) {
    const shape = batchShape(config, batchSize, scale);
    const lrAtBatch = rule === 'paper' ? paperLearningRate(config.agent.lr, baseBatch, batchSize, noiseScale, alpha) : config.agent.lr;
    for (const multiplier of multipliers) {
      const settings = { 'env.numEnvs': shape.numEnvs, 'agent.numSteps': shape.numSteps, 'agent.lr': Number((lrAtBatch * multiplier).toPrecision(6)) };
      const group = multipliers.length > 1 ? `batch=${batchSize},lrx=${multiplier}` : `batch=${batchSize}`;
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
    lr: { rule, base: config.agent.lr, baseBatch, noiseScale, alpha, multipliers: [...multipliers] },
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

/** `25%,50%,200` → fractions of the reached return range and absolute returns. */
export function parseTargets(text: string, name = '--targets'): TargetSpec[] {
  const parts = String(text)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) throw new InvalidValueError(name, text, 'expected a comma-separated list of returns or percentages');
  return parts.map((part): TargetSpec => {
    if (part.endsWith('%')) {
      const value = Number(part.slice(0, -1));
      if (!Number.isFinite(value) || value < 0 || value > 100) throw new InvalidValueError(name, part, 'percentages must lie in 0%..100%');
      return { kind: 'fraction', value: value / 100, label: part };
    }
    const value = Number(part);
    if (!Number.isFinite(value)) throw new InvalidValueError(name, part, "expected a return (e.g. 200) or a percentage of the reached range (e.g. 50%)");
    return { kind: 'return', value, label: part };
  });
}

export const DEFAULT_TARGETS = '25%,50%,75%';

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
}

export interface TargetResult {
  readonly spec: TargetSpec;
  readonly target: number;
  /** Left out of the fit: reached (median over seeds) at fewer than two batch sizes. */
  readonly excluded: boolean;
  readonly reason?: string;
  readonly bCrit: { estimate: number; lo: number; hi: number };
  readonly sMin: { estimate: number; lo: number; hi: number };
  readonly eMin: { estimate: number; lo: number; hi: number };
  readonly regime: string;
  readonly rmsRelativeResidual: number;
  readonly points: readonly { batchSize: number; lr: number; label: string; steps: number; samples: number; reached: number; seeds: number }[];
  readonly unreachedBatchSizes: readonly number[];
  /** B_simple of `component` up to the target. */
  readonly bSimple: { estimate: number; lo: number; hi: number; runs: number };
  readonly bSimpleByComponent: Readonly<Record<NoiseComponent, { estimate: number; lo: number; hi: number; runs: number }>>;
}

export interface CriticalBatchResult {
  readonly component: NoiseComponent;
  readonly returnRange: { min: number; max: number };
  readonly targets: readonly TargetResult[];
  readonly runsUsed: number;
  readonly runsLeftOut: readonly { id: string; status: string }[];
}

/** critical-batch.json: the rules in words, the definition and the result (written with non-finite numbers as null). */
export interface CriticalBatchFile extends CriticalBatchResult {
  readonly rules: Readonly<Record<string, string>>;
  readonly definition: Pick<CriticalBatchDefinition, 'batchSizes' | 'seeds' | 'scale' | 'lr'>;
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
] as const;

interface LoadedRun {
  readonly id: string;
  readonly group: string;
  readonly batchSize: number;
  readonly lr: number;
  readonly data: RunSeries;
}

/** Analyze the runs in a critical-batch folder (pure given the run data). */
export function criticalBatchFromRuns(runs: readonly LoadedRun[], batchSizes: readonly number[], options: CriticalBatchOptions = {}): CriticalBatchResult {
  const component = options.component ?? 'policy';
  const specs = options.targets ?? parseTargets(DEFAULT_TARGETS);
  const used = runs.filter((r) => r.data.summary?.status === 'completed' || r.data.summary?.status === 'diverged');
  const leftOut = runs.filter((r) => !used.includes(r)).map((r) => ({ id: r.id, status: r.data.summary?.status ?? 'pending' }));
  const range = returnRange(used.map((r) => r.data.returns));
  const groups = new Map<string, LoadedRun[]>();
  for (const run of used) {
    const list = groups.get(run.group) ?? [];
    list.push(run);
    groups.set(run.group, list);
  }
  const targets = specs.map((spec): TargetResult => {
    const target = Number.isFinite(range.min) || spec.kind === 'return' ? resolveTarget(spec, range) : NaN;
    const reach = new Map<string, ReachOutcome & { envSteps: number }>();
    for (const run of used) {
      const point = Number.isFinite(target) ? firstReaching(run.data.returns, target) : null;
      reach.set(run.id, point ? { steps: point.update, samples: point.envSteps, envSteps: point.envSteps } : { steps: Infinity, samples: Infinity, envSteps: Infinity });
    }
    const cells: TargetCell[] = [...groups.values()].map((members) => ({
      batchSize: members[0]!.batchSize,
      lr: members[0]!.lr,
      label: members[0]!.group,
      outcomes: members.map((m) => reach.get(m.id)!),
    }));
    const analysis = analyzeTarget(cells, options.bootstrap);
    const kept = new Set(analysis.points.map((p) => p.label));
    const bSimpleByComponent = {} as Record<NoiseComponent, { estimate: number; lo: number; hi: number; runs: number }>;
    for (const c of NOISE_COMPONENTS) {
      const means: NoiseMeans[] = [];
      for (const run of used) {
        const r = reach.get(run.id)!;
        if (!kept.has(run.group) || !Number.isFinite(r.envSteps)) continue;
        const figure = ratioOfMeans(run.data.noise[c].filter((m) => m.envSteps <= r.envSteps));
        if (figure.measurements > 0) means.push(figure);
      }
      bSimpleByComponent[c] = { ...pick(seedAggregate(means, options.bootstrap)), runs: means.length };
    }
    const excluded = analysis.fit.batchSizes < 2;
    const reachedSizes = analysis.points.length;
    return {
      spec,
      target,
      excluded,
      ...(excluded
        ? { reason: `reached (in the median seed) at ${reachedSizes} of ${batchSizes.length} batch sizes; a fit needs two` }
        : {}),
      bCrit: pick(analysis.bCrit),
      sMin: pick(analysis.sMin),
      eMin: pick(analysis.eMin),
      regime: excluded ? 'not_fitted' : analysis.fit.regime,
      rmsRelativeResidual: analysis.fit.rmsRelativeResidual,
      points: analysis.points,
      unreachedBatchSizes: analysis.unreachedBatchSizes,
      bSimple: bSimpleByComponent[component],
      bSimpleByComponent,
    };
  });
  return { component, returnRange: range, targets, runsUsed: used.length, runsLeftOut: leftOut };
}

function pick(interval: { estimate: number; lo: number; hi: number }): { estimate: number; lo: number; hi: number } {
  return { estimate: interval.estimate, lo: interval.lo, hi: interval.hi };
}

/** Read a critical-batch folder, analyze it, and write critical-batch.json and critical-batch.csv. */
export function analyzeCriticalBatch(dir: string, options: CriticalBatchOptions = {}): CriticalBatchResult {
  const manifestFile = path.join(dir, SWEEP_MANIFEST);
  if (!fs.existsSync(manifestFile)) throw new InvalidValueError('DIR', dir, `no ${SWEEP_MANIFEST} here; not a critical-batch folder`);
  const manifest = readJson<SweepManifest>(manifestFile);
  if (manifest.kind !== 'critical-batch') throw new InvalidValueError('DIR', dir, `holds a ${manifest.kind}, not a critical-batch experiment`);
  const definition = manifest.definition as CriticalBatchDefinition;
  const runs: LoadedRun[] = manifest.runs.map((run) => ({
    id: run.id,
    group: run.group,
    batchSize: run.config.env.numEnvs * run.config.agent.numSteps,
    lr: run.config.agent.lr,
    data: runSeries(readRunFolder(runDirOf(dir, run.id))),
  }));
  const result = criticalBatchFromRuns(runs, definition.batchSizes, options);
  writeCriticalBatchFiles(dir, result, definition);
  return result;
}

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
      b_simple_over_b_crit: Number.isNaN(ratio) ? null : ratio,
      n_batch_sizes_reached: t.points.length,
      n_batch_sizes: batchSizes,
      fit_regime: t.regime,
      rms_relative_residual: t.rmsRelativeResidual,
      component: result.component,
      b_simple_policy: t.bSimpleByComponent.policy.estimate,
      b_simple_value: t.bSimpleByComponent.value.estimate,
      b_simple_total: t.bSimpleByComponent.total.estimate,
    };
    return row;
  });
}

function writeCriticalBatchFiles(dir: string, result: CriticalBatchResult, definition: CriticalBatchDefinition): void {
  writeCsvAtomic(path.join(dir, 'critical-batch.csv'), CRITICAL_BATCH_COLUMNS, criticalBatchRows(result, definition.batchSizes.length));
  writeJsonAtomic(path.join(dir, 'critical-batch.json'), {
    rules: {
      batch: `B = numEnvs × numSteps; --scale ${definition.scale} (${definition.scale === 'envs' ? 'numSteps kept, numEnvs = B/numSteps' : 'numEnvs kept, numSteps = B/numEnvs'})`,
      lr:
        definition.lr.rule === 'paper'
          ? `ε(B) = ${definition.lr.base}·((1 + ${definition.lr.noiseScale}/${definition.lr.baseBatch})/(1 + ${definition.lr.noiseScale}/B))^${definition.lr.alpha}, × multipliers ${definition.lr.multipliers.join(', ')}; per batch size and target the multiplier with the fewest median steps is kept`
          : `config lr ${definition.lr.base} at every batch size, × multipliers ${definition.lr.multipliers.join(', ')}; per batch size and target the multiplier with the fewest median steps is kept`,
      steps: 'S = updates until return_mean (rolling mean over the last 20 episodes) first reaches the target; E = env steps then; median over seeds (a seed that never reaches counts as ∞)',
      fit: 'S = S_min + S_min·B_crit/B by least squares in 1/B with weights 1/S² (relative residuals); E_min = S_min·B_crit; intervals: percentile bootstrap over seeds',
      bSimple: `run average up to the target: per run (kept cells, reached) ratio of means of its measurements taken up to the update that reached the target, pooled over runs (mean tr(Σ) / mean |G|²); bootstrap over runs. b_simple columns: the ${result.component} component; b_simple_policy/value/total: each`,
      targets: 'an N% target is min + N/100·(max − min) of the return_mean logged by any used run',
    },
    definition: { batchSizes: definition.batchSizes, seeds: definition.seeds, scale: definition.scale, lr: definition.lr },
    ...result,
  } satisfies CriticalBatchFile);
}
