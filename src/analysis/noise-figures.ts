/**
 * Analysis of finished runs as pure functions: ratio-of-means noise figures over chosen measurements, B_simple at
 * matched progress, its growth over training, and across-seed aggregation with bootstrap intervals.
 *
 * Input is what a run folder holds: per noise measurement the single-measurement unbiased estimates |G|² (`grad_sq`)
 * and tr(Σ) (`trace_sigma`) from noise.csv, and the rolling mean return per update from metrics.csv.
 *
 * Rules (docs/science.md, "Smoothing, windows and intervals": never average a ratio):
 * - Ratio of means: B = mean tr(Σ) / mean |G|² over the chosen measurements, each measurement weighted equally. Its
 *   interval is Fieller's, with the (co)variance of the two means estimated from the spread of the k measurements
 *   (df = k − 1; measurements come from fresh rollouts, so they are independent; a drifting target only widens it).
 *   As everywhere in gradnoise the point value is NaN unless mean |G|² is significantly > 0 ("resolved"); fewer than
 *   3 measurements never resolve.
 * - Matched progress: within a group of runs that differ only in seed (one "level"), returns are normalised between
 *   the lowest and the highest `return_mean` any of them logged; the target is `min + fraction·(max − min)`
 *   (fraction 0.5 by default). For each run, the matched point is the first update whose `return_mean` reaches the
 *   target, and B_simple there is the ratio of means over the `window` measurements centred on that update. Runs that
 *   never reach the target have no matched figure.
 * - Growth over training: ratio of means over the last quarter of the run (by env steps) divided by that over the
 *   first quarter.
 * - Across seeds: figures pool the per-seed mean |G|² and mean tr(Σ) (mean over seeds of each, then divide), and the
 *   interval is a percentile bootstrap over seeds (resampling runs with replacement; deterministic seed). With three
 *   seeds that interval is rough; five or more make it meaningful.
 */
import { isNoiseComponent, type NoiseComponent } from '../core/components.js';
import { quantileSorted } from '../core/stats.js';
import { cellNumber, type CsvTable } from '../run/csv.js';
import type { RunFolder, RunSummary } from '../run/run-folder.js';
import { noiseScale } from '../monitor/estimator.js';
import type { NoiseFigure } from '../monitor/monitor.js';
import { Rng } from '../core/rng.js';

/** One noise measurement of one component (one noise.csv row with layer `all`). */
export interface NoiseMeasurement {
  readonly update: number;
  readonly envSteps: number;
  /** Single-measurement unbiased |G|² (may be negative). */
  readonly gradSq: number;
  /** Single-measurement unbiased tr(Σ). */
  readonly traceSigma: number;
}

/** One metrics.csv row: the rolling mean return after an update (NaN before the first episode ends). */
export interface ReturnPoint {
  readonly update: number;
  readonly envSteps: number;
  readonly returnMean: number;
}

/** A run's series as the analysis uses them, read from its folder. */
export interface RunSeries {
  readonly summary: RunSummary | null;
  readonly returns: ReturnPoint[];
  /** Per component, the component rows of noise.csv (per-layer rows left out), in order. */
  readonly noise: Record<NoiseComponent, NoiseMeasurement[]>;
}

/** metrics.csv rows → return points. */
export function returnPoints(metrics: CsvTable | null): ReturnPoint[] {
  return (metrics?.rows ?? []).map((row) => ({
    update: cellNumber(row['update']),
    envSteps: cellNumber(row['env_steps']),
    returnMean: cellNumber(row['return_mean']),
  }));
}

/** noise.csv rows → per-component measurements (rows with a `layer` other than `all` are per-layer detail). */
export function noiseMeasurements(noise: CsvTable | null): Record<NoiseComponent, NoiseMeasurement[]> {
  return componentRows(noise, (row) => ({
    update: cellNumber(row['update']),
    envSteps: cellNumber(row['env_steps']),
    gradSq: cellNumber(row['grad_sq']),
    traceSigma: cellNumber(row['trace_sigma']),
  }));
}

/** noise.csv's component rows (per-layer rows, with a `layer` other than `all`, left out), each read by `read`, per component in order. */
export function componentRows<T>(noise: CsvTable | null, read: (row: Readonly<Record<string, string>>) => T): Record<NoiseComponent, T[]> {
  const out: Record<NoiseComponent, T[]> = { policy: [], value: [], total: [] };
  for (const row of noise?.rows ?? []) {
    const component = row['component'];
    const layer = row['layer'];
    if (!isNoiseComponent(component) || (layer !== undefined && layer !== '' && layer !== 'all')) continue;
    out[component].push(read(row));
  }
  return out;
}

export function runSeries(folder: RunFolder): RunSeries {
  return { summary: folder.summary, returns: returnPoints(folder.metrics), noise: noiseMeasurements(folder.noise) };
}

/** A ratio-of-means B_simple figure: the same record the monitor's summary uses (NaN point value unless resolved). */
export type WindowFigure = NoiseFigure;

/** The two means a ratio-of-means figure is made of; what pools across seeds. */
export interface NoiseMeans {
  readonly gradSq: number;
  readonly traceSigma: number;
}

const EMPTY_FIGURE: WindowFigure = {
  bSimple: NaN,
  lo: NaN,
  hi: NaN,
  resolved: false,
  gradSq: NaN,
  traceSigma: NaN,
  measurements: 0,
  envStepsFrom: NaN,
  envStepsTo: NaN,
};

/** Ratio of means over `measurements` (non-finite ones skipped), with a Fieller interval at `confidence`. */
export function ratioOfMeans(measurements: readonly NoiseMeasurement[], confidence = 0.95): WindowFigure {
  const ms = measurements.filter((m) => Number.isFinite(m.gradSq) && Number.isFinite(m.traceSigma));
  const k = ms.length;
  if (k === 0) return EMPTY_FIGURE;
  let g = 0;
  let t = 0;
  for (const m of ms) {
    g += m.gradSq;
    t += m.traceSigma;
  }
  g /= k;
  t /= k;
  const span = { measurements: k, envStepsFrom: ms[0]!.envSteps, envStepsTo: ms[k - 1]!.envSteps, gradSq: g, traceSigma: t };
  if (k < 3) return { ...span, bSimple: NaN, lo: NaN, hi: Infinity, resolved: false };
  let vg = 0;
  let vt = 0;
  let c = 0;
  for (const m of ms) {
    vg += (m.gradSq - g) ** 2;
    vt += (m.traceSigma - t) ** 2;
    c += (m.gradSq - g) * (m.traceSigma - t);
  }
  // Variance of the mean: sample variance / k.
  const scale = 1 / ((k - 1) * k);
  const figure = noiseScale(
    { gradSq: g, traceSigma: t, gradSqVar: vg * scale, traceSigmaVar: vt * scale, covariance: c * scale, df: k - 1 },
    confidence,
  );
  return { ...span, bSimple: figure.bSimple, lo: figure.lo, hi: figure.hi, resolved: figure.resolved };
}

/** The measurements whose env steps lie in (from, to]. */
export function measurementsBetween(measurements: readonly NoiseMeasurement[], from: number, to: number): NoiseMeasurement[] {
  return measurements.filter((m) => m.envSteps > from && m.envSteps <= to);
}

/** First and last quarter of a run by env steps (0 .. the last measurement), and their ratio of means. */
export interface GrowthFigure {
  readonly start: WindowFigure;
  readonly end: WindowFigure;
  /** end.bSimple / start.bSimple, NaN unless both are resolved. */
  readonly growth: number;
}

export function growthOverTraining(measurements: readonly NoiseMeasurement[], confidence = 0.95): GrowthFigure {
  const finite = measurements.filter((m) => Number.isFinite(m.envSteps));
  if (finite.length === 0) return { start: EMPTY_FIGURE, end: EMPTY_FIGURE, growth: NaN };
  const total = Math.max(...finite.map((m) => m.envSteps));
  const start = ratioOfMeans(measurementsBetween(finite, -Infinity, total / 4), confidence);
  const end = ratioOfMeans(measurementsBetween(finite, (3 * total) / 4, total), confidence);
  return { start, end, growth: start.resolved && end.resolved ? end.bSimple / start.bSimple : NaN };
}

/** Lowest and highest finite `return_mean` over a group of runs (the "level's" return range). */
export function returnRange(runs: readonly (readonly ReturnPoint[])[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const run of runs) {
    for (const p of run) {
      if (!Number.isFinite(p.returnMean)) continue;
      min = Math.min(min, p.returnMean);
      max = Math.max(max, p.returnMean);
    }
  }
  return Number.isFinite(min) ? { min, max } : { min: NaN, max: NaN };
}

/** The return that counts as `fraction` of the way from the range's min to its max. */
export function targetReturn(range: { min: number; max: number }, fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`targetReturn: fraction must be in [0, 1] (got ${fraction})`);
  return range.min + fraction * (range.max - range.min);
}

/** The first logged point whose return_mean reaches `target` (≥), or null. */
export function firstReaching(returns: readonly ReturnPoint[], target: number): ReturnPoint | null {
  for (const p of returns) if (Number.isFinite(p.returnMean) && p.returnMean >= target) return p;
  return null;
}

/**
 * `size` consecutive measurements centred on the first one taken at or after `envSteps` (shifted inwards at the ends
 * of the run). Measurements are assumed sorted by env steps.
 */
export function windowAround(measurements: readonly NoiseMeasurement[], envSteps: number, size: number): NoiseMeasurement[] {
  const n = measurements.length;
  if (n === 0 || size <= 0) return [];
  let centre = measurements.findIndex((m) => m.envSteps >= envSteps);
  if (centre < 0) centre = n - 1;
  const width = Math.min(size, n);
  const first = Math.min(Math.max(0, centre - Math.floor(width / 2)), n - width);
  return measurements.slice(first, first + width);
}

export interface MatchedProgressOptions {
  /** Fraction of the level's return range that defines the matched point (default 0.5). */
  readonly fraction?: number;
  /** Measurements in the window around the matched point (default 10). */
  readonly window?: number;
  readonly confidence?: number;
}

/** Matched point of one run within its group. */
export interface MatchedPoint {
  /** The return target (same for every run of the group). */
  readonly target: number;
  readonly range: { readonly min: number; readonly max: number };
  /** Where the run first reached the target, or null. */
  readonly reached: ReturnPoint | null;
}

/** The matched point of every run in a group of seeds (the order of `runs` is kept). */
export function matchedPoints(runs: readonly (readonly ReturnPoint[])[], fraction = 0.5): MatchedPoint[] {
  const range = returnRange(runs);
  const target = Number.isFinite(range.min) ? targetReturn(range, fraction) : NaN;
  return runs.map((returns) => ({ target, range, reached: Number.isFinite(target) ? firstReaching(returns, target) : null }));
}

/** B_simple at a run's matched point: ratio of means over the window of measurements around it. */
export function matchedFigure(measurements: readonly NoiseMeasurement[], point: MatchedPoint, options: MatchedProgressOptions = {}): WindowFigure {
  if (!point.reached) return EMPTY_FIGURE;
  return ratioOfMeans(windowAround(measurements, point.reached.envSteps, options.window ?? 10), options.confidence ?? 0.95);
}

// ---------------------------------------------------------------------------------------------------------------
// Across seeds

/**
 * Pool per-seed means: mean over seeds of tr(Σ) divided by mean over seeds of |G|². +∞ when the pooled |G|² ≤ 0 while
 * tr(Σ) > 0 (B_simple is then larger than anything the data can resolve); NaN when there is nothing to pool.
 */
export function pooledBSimple(items: readonly NoiseMeans[]): number {
  const { gradSq: g, traceSigma: t, n } = pooledMeans(items);
  if (n === 0) return NaN;
  if (g > 0) return Math.max(t, 0) / g;
  return t > 0 ? Infinity : NaN;
}

/** Sums of the finite per-seed means (|G|² and tr(Σ), or their H-weighted versions) and how many there were. */
export function pooledMeans(items: readonly NoiseMeans[]): { gradSq: number; traceSigma: number; n: number } {
  let gradSq = 0;
  let traceSigma = 0;
  let n = 0;
  for (const m of items) {
    if (!Number.isFinite(m.gradSq) || !Number.isFinite(m.traceSigma)) continue;
    gradSq += m.gradSq;
    traceSigma += m.traceSigma;
    n++;
  }
  return { gradSq, traceSigma, n };
}

/** a / b for noise scales: ∞/x = ∞, x/∞ = 0, ∞/∞ = NaN. */
export function scaleRatio(a: number, b: number): number {
  if (a === Infinity && b === Infinity) return NaN;
  if (b === Infinity) return Number.isFinite(a) ? 0 : NaN;
  return a / b;
}

export interface Interval {
  /** The statistic on the full sample. */
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
  /** Replicates whose statistic was defined (not NaN). */
  readonly replicates: number;
}

export interface BootstrapOptions {
  readonly replicates?: number;
  readonly confidence?: number;
  /** Seed of the resampling stream, so the same data always gives the same interval. */
  readonly seed?: string;
}

/**
 * Percentile bootstrap over independent groups: every replicate resamples each group with replacement (keeping its
 * size) and recomputes `statistic`. NaN replicates are dropped; ±∞ are kept (they sort to the ends).
 */
export function bootstrapGroups<T>(groups: readonly (readonly T[])[], statistic: (samples: readonly (readonly T[])[]) => number, options: BootstrapOptions = {}): Interval {
  return bootstrapMany(groups, (samples) => [statistic(samples)], options)[0]!;
}

/** `bootstrapGroups` for several statistics computed together from the same replicates. */
export function bootstrapMany<T>(
  groups: readonly (readonly T[])[],
  statistics: (samples: readonly (readonly T[])[]) => readonly number[],
  options: BootstrapOptions = {},
): Interval[] {
  const estimates = statistics(groups);
  const reps = options.replicates ?? 2000;
  const confidence = options.confidence ?? 0.95;
  const rng = new Rng(options.seed ?? 'gradnoise-bootstrap');
  const values: number[][] = estimates.map(() => []);
  for (let r = 0; r < reps; r++) {
    const samples = groups.map((group) => {
      const sample = new Array<T>(group.length);
      for (let i = 0; i < group.length; i++) sample[i] = group[rng.int(group.length)]!;
      return sample;
    });
    statistics(samples).forEach((value, i) => {
      if (!Number.isNaN(value)) values[i]!.push(value);
    });
  }
  const alpha = (1 - confidence) / 2;
  return estimates.map((estimate, i) => {
    const sorted = values[i]!.sort((a, b) => a - b);
    if (sorted.length === 0) return { estimate, lo: NaN, hi: NaN, replicates: 0 };
    return { estimate, lo: quantileSorted(sorted, alpha), hi: quantileSorted(sorted, 1 - alpha), replicates: sorted.length };
  });
}

/** Bootstrap over one group (e.g. the seeds of one setting). */
export function bootstrap<T>(items: readonly T[], statistic: (sample: readonly T[]) => number, options: BootstrapOptions = {}): Interval {
  return bootstrapGroups([items], (samples) => statistic(samples[0]!), options);
}


/** Across-seed B_simple of one setting: pooled ratio of means with a bootstrap interval over seeds. */
export function seedAggregate(perSeed: readonly NoiseMeans[], options: BootstrapOptions = {}): Interval {
  return bootstrap(perSeed, pooledBSimple, options);
}

/** Per-seed first- and last-quarter means, for the across-seed growth factor. */
export interface GrowthMeans {
  readonly start: NoiseMeans;
  readonly end: NoiseMeans;
}

/** Growth over training across seeds: pooled end-quarter B over pooled start-quarter B, bootstrap over seeds. */
export function growthAggregate(perSeed: readonly GrowthMeans[], options: BootstrapOptions = {}): Interval {
  const statistic = (sample: readonly GrowthMeans[]) =>
    scaleRatio(
      pooledBSimple(sample.map((s) => s.end)),
      pooledBSimple(sample.map((s) => s.start)),
    );
  return bootstrap(perSeed, statistic, options);
}

/**
 * Ratio of two settings' pooled B_simple (e.g. hardest level over level 0), with a bootstrap that resamples the seeds
 * of each setting independently.
 */
export function settingRatio(numerator: readonly NoiseMeans[], denominator: readonly NoiseMeans[], options: BootstrapOptions = {}): Interval {
  return bootstrapGroups([numerator, denominator], ([a, b]) => scaleRatio(pooledBSimple(a!), pooledBSimple(b!)), options);
}
