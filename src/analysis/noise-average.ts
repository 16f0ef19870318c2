/**
 * The noise-scale averages that B_crit should be compared with (docs/science.md, "Comparing the noise scale with
 * B_crit"): over a run's measurements up to the update that reached the target,
 *
 * - w-weighted: B̄_w = Σ_t w_t B_t / Σ_t w_t with w_t = 1/(1 + B_t/B) (MKA eq. 2.7: the full-batch progress an update
 *   at batch B makes), B_t the monitor's default figure at that measurement (the `b_simple` / `b_noise` column: EMA of
 *   the correlation-aware estimates; unresolved NaN rows are skipped, a resolved +∞ counts with w_t = 0 and
 *   w_t·B_t = B, its limit);
 * - ratio of means: mean tr(Σ)/mean |G|² (B_simple, from `trace_sigma`, `grad_sq`) or mean tr(HΣ)/mean GᵀHG (B_noise,
 *   from `trace_h_sigma`, `g_h_g`, rows where both are finite; NaN unless both pooled means are positive — a
 *   non-positive GᵀHG leaves B_noise undefined).
 *
 * Across runs both pool sums (Σ numerators over Σ denominators) and carry a percentile bootstrap over runs.
 */
import type { NoiseComponent } from '../core/components.js';
import { cellNumber, type CsvTable } from '../run/csv.js';
import { bootstrap, componentRows, pooledMeans, seedAggregate, type BootstrapOptions, type Interval, type NoiseMeans } from './noise-figures.js';

export interface NoisePoint {
  readonly update: number;
  readonly envSteps: number;
  /** Default figure B_simple (EMA, correlation-aware). */
  readonly bSimple: number;
  readonly gradSq: number;
  readonly traceSigma: number;
  /** Default figure B_noise; NaN without monitor.bNoise or between its measurements. */
  readonly bNoise: number;
  readonly traceHSigma: number;
  readonly gHG: number;
}

/** noise.csv rows (layer `all`) → per-component points. */
export function noisePoints(noise: CsvTable | null): Record<NoiseComponent, NoisePoint[]> {
  return componentRows(noise, (row) => ({
    update: cellNumber(row['update']),
    envSteps: cellNumber(row['env_steps']),
    bSimple: cellNumber(row['b_simple']),
    gradSq: cellNumber(row['grad_sq']),
    traceSigma: cellNumber(row['trace_sigma']),
    bNoise: cellNumber(row['b_noise']),
    traceHSigma: cellNumber(row['trace_h_sigma']),
    gHG: cellNumber(row['g_h_g']),
  }));
}

/** Σ w_t B_t and Σ w_t of one run (w_t = 1/(1 + B_t/B)), over finite or +∞ positive B_t. */
export interface WeightedSums {
  readonly num: number;
  readonly den: number;
  readonly measurements: number;
}

export function weightedSums(values: readonly number[], batchSize: number): WeightedSums {
  let num = 0;
  let den = 0;
  let measurements = 0;
  for (const b of values) {
    if (Number.isNaN(b) || !(b > 0)) continue;
    measurements++;
    if (b === Infinity) {
      num += batchSize;
      continue;
    }
    const w = 1 / (1 + b / batchSize);
    num += w * b;
    den += w;
  }
  return { num, den, measurements };
}

/** Σ num / Σ den over runs; +∞ when only infinite noise scales were seen, NaN with nothing to pool. */
export function pooledWeighted(items: readonly WeightedSums[]): number {
  let num = 0;
  let den = 0;
  let n = 0;
  for (const s of items) {
    if (s.measurements === 0) continue;
    num += s.num;
    den += s.den;
    n++;
  }
  if (n === 0) return NaN;
  return den > 0 ? num / den : num > 0 ? Infinity : NaN;
}

/** One run's share of the averages: its measurements up to (and including) env step `upTo`. */
export interface RunAverages {
  readonly bSimpleW: WeightedSums;
  readonly bSimpleMeans: NoiseMeans & { readonly measurements: number };
  readonly bNoiseW: WeightedSums;
  readonly bNoiseMeans: NoiseMeans & { readonly measurements: number };
}

function means(pairs: readonly (readonly [number, number])[]): NoiseMeans & { measurements: number } {
  const ok = pairs.filter(([g, t]) => Number.isFinite(g) && Number.isFinite(t));
  if (ok.length === 0) return { gradSq: NaN, traceSigma: NaN, measurements: 0 };
  let g = 0;
  let t = 0;
  for (const [a, b] of ok) {
    g += a;
    t += b;
  }
  return { gradSq: g / ok.length, traceSigma: t / ok.length, measurements: ok.length };
}

export function runAverages(points: readonly NoisePoint[], upTo: number, batchSize: number): RunAverages {
  const kept = points.filter((p) => p.envSteps <= upTo);
  return {
    bSimpleW: weightedSums(kept.map((p) => p.bSimple), batchSize),
    bSimpleMeans: means(kept.map((p) => [p.gradSq, p.traceSigma] as const)),
    bNoiseW: weightedSums(kept.map((p) => p.bNoise), batchSize),
    bNoiseMeans: means(kept.map((p) => [p.gHG, p.traceHSigma] as const)),
  };
}

export interface AveragedFigures {
  readonly bSimpleW: Interval;
  readonly bSimpleRatio: Interval;
  readonly bNoiseW: Interval;
  readonly bNoiseRatio: Interval;
  /** Runs that contributed (reached the target in a kept cell). */
  readonly runs: number;
}

/**
 * mean tr(HΣ) / mean GᵀHG pooled over runs, NaN unless both pooled means are > 0: with GᵀHG ≤ 0 the quadratic model
 * behind B_noise does not hold (the loss is not locally convex along G), so no B_noise is defined.
 */
export function pooledCurvature(items: readonly NoiseMeans[]): number {
  const { gradSq: g, traceSigma: t, n } = pooledMeans(items);
  return n > 0 && g > 0 && t > 0 ? t / g : NaN;
}

/**
 * An interval over runs says nothing where fewer than two runs fed it (every resample is that one run: a point) or
 * where the estimate on all the runs is undefined (some resamples may still give a value, e.g. a positive pooled
 * GᵀHG): there it has no bounds (lo = hi = NaN) and the figure reads as unresolved.
 */
function overRuns(interval: Interval, contributing: number): Interval {
  return contributing >= 2 && !Number.isNaN(interval.estimate) ? interval : { ...interval, lo: NaN, hi: NaN };
}

/** Pool runs' averages with bootstrap intervals over runs. */
export function averageOverRuns(runs: readonly RunAverages[], options: BootstrapOptions = {}): AveragedFigures {
  const withSimple = runs.filter((r) => r.bSimpleMeans.measurements > 0);
  const withNoise = runs.filter((r) => r.bNoiseMeans.measurements > 0);
  const weighted = (pick: (r: RunAverages) => WeightedSums, seed: string) =>
    overRuns(
      bootstrap(runs, (s) => pooledWeighted(s.map(pick)), { ...options, seed: options.seed ?? seed }),
      runs.filter((r) => pick(r).measurements > 0).length,
    );
  return {
    bSimpleW: weighted((r) => r.bSimpleW, 'gradnoise-bsimple-w'),
    bSimpleRatio: overRuns(seedAggregate(withSimple.map((r) => r.bSimpleMeans), options), withSimple.length),
    bNoiseW: weighted((r) => r.bNoiseW, 'gradnoise-bnoise-w'),
    bNoiseRatio: overRuns(
      bootstrap(withNoise.map((r) => r.bNoiseMeans), pooledCurvature, { ...options, seed: options.seed ?? 'gradnoise-bnoise-ratio' }),
      withNoise.length,
    ),
    runs: runs.length,
  };
}
