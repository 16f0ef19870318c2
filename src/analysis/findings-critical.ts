/**
 * Critical-batch findings as data: one fit per target (as critical-batch.json or critical-batch.csv hold it), where it
 * belongs on the B_crit vs B_simple figure (a point, or only a bound when B_crit lies outside the batch sizes tried),
 * and the steps and samples each run needed to reach a target.
 */
import type { TargetSpec } from './critical-batch-fit.js';
import { bootstrapMany, firstReaching, type BootstrapOptions } from './noise-figures.js';
import type { Figure, RunData } from './findings.js';

/** Steps and samples (env steps) one run, or one batch size's median seed, needed to reach a target. */
export interface StepsToTarget {
  readonly batchSize: number;
  /** Optimizer steps S. */
  readonly steps: number;
  /** Samples E. */
  readonly samples: number;
  readonly seed?: number;
}

/** One target's fit. */
export interface CriticalFit {
  /** The target as asked for (`80%` of the return range, or a return); null when the file does not say. */
  readonly spec: Pick<TargetSpec, 'kind' | 'label'> | null;
  /** The return the target came to (NaN when unknown). */
  readonly target: number;
  /** `fit`, `b_crit_below_range`, `b_crit_above_range`, `not_fitted` (critical-batch.ts), or '' when not given. */
  readonly regime: string;
  readonly sMin: number;
  readonly eMin: number;
  /** +∞ when it lies above the batch sizes tried. */
  readonly bCrit: Figure;
  /** B_simple averaged up to the target (ratio of means). */
  readonly bSimple: Figure;
  readonly points: readonly StepsToTarget[];
  /** The protocol's further figures (critical-batch.json from this version on; absent in older files). */
  readonly extra?: CriticalExtra;
}

/** A fit's protocol figures: intervals of S_min and E_min, the normalised score, and the like-with-like noise scales. */
export interface CriticalExtra {
  /** Normalised score of the target (NaN without R_ref). */
  readonly score: number;
  readonly sMin: Figure;
  readonly eMin: Figure;
  /** B_simple w-weighted (Σ w_t B_t / Σ w_t), B_noise as ratio of means and w-weighted; NaN where not measured. */
  readonly bSimpleW: Figure;
  readonly bNoise: Figure;
  readonly bNoiseW: Figure;
  /** `2048:high`: batch sizes whose kept lr sat at an edge of its grid. */
  readonly edges: readonly string[];
}

/** The noise-scale measures compared with B_crit, in the order the report lists them. */
export const NOISE_MEASURES = ['B_simple (ratio of means)', 'B_simple (w-weighted)', 'B_noise (ratio of means)', 'B_noise (w-weighted)'] as const;
export type NoiseMeasure = (typeof NOISE_MEASURES)[number];

/** A fit's value of one measure (NO_FIGURE-like NaN where the file does not hold it). */
export function measureOf(fit: CriticalFit, measure: NoiseMeasure): Figure {
  const none = { value: NaN, lo: NaN, hi: NaN, n: 0 };
  switch (measure) {
    case 'B_simple (ratio of means)':
      return fit.bSimple;
    case 'B_simple (w-weighted)':
      return fit.extra?.bSimpleW ?? none;
    case 'B_noise (ratio of means)':
      return fit.extra?.bNoise ?? none;
    case 'B_noise (w-weighted)':
      return fit.extra?.bNoiseW ?? none;
  }
}

/** Least squares of log y on log x: y ∝ x^slope; r² of the log fit. Needs two distinct positive x. */
export interface LogLogFit {
  readonly slope: number;
  /** log10 of the prefactor: log10 y = intercept + slope·log10 x. */
  readonly intercept: number;
  readonly r2: number;
  readonly n: number;
}

export function logLogFit(pairs: readonly { x: number; y: number }[]): LogLogFit {
  const ok = pairs.filter((p) => positiveFinite(p.x) && positiveFinite(p.y));
  const n = ok.length;
  const xs = ok.map((p) => Math.log10(p.x));
  const ys = ok.map((p) => Math.log10(p.y));
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    syy += (ys[i]! - my) ** 2;
  }
  if (n < 2 || !(sxx > 0)) return { slope: NaN, intercept: NaN, r2: NaN, n };
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1, n };
}

/** A log-log fit with percentile-bootstrap intervals (points resampled with replacement) on its slope and r². */
export interface LogLogFitIntervals extends LogLogFit {
  readonly slopeLo: number;
  readonly slopeHi: number;
  readonly r2Lo: number;
  readonly r2Hi: number;
}

/**
 * `logLogFit` with intervals: the task-levels are the units resampled (each point one task-level and target), so the
 * intervals say how much the slope and r² depend on which task-levels happened to be measured. NaN below 3 points.
 */
export function logLogFitIntervals(pairs: readonly { x: number; y: number }[], options: BootstrapOptions = {}): LogLogFitIntervals {
  const fit = logLogFit(pairs);
  const ok = pairs.filter((p) => positiveFinite(p.x) && positiveFinite(p.y));
  if (ok.length < 3 || !Number.isFinite(fit.slope)) return { ...fit, slopeLo: NaN, slopeHi: NaN, r2Lo: NaN, r2Hi: NaN };
  const [slope, r2] = bootstrapMany(
    [ok],
    ([sample]) => {
      const f = logLogFit(sample!);
      return [f.slope, f.r2];
    },
    { seed: 'log-log-fit', ...options },
  );
  return { ...fit, slopeLo: slope!.lo, slopeHi: slope!.hi, r2Lo: r2!.lo, r2Hi: r2!.hi };
}

/** Why a fit is not on the B_crit vs B_simple figure. */
export type MissingReason = 'b-simple-unresolved' | 'above-range' | 'below-range' | 'not-fitted' | 'no-b-crit';

/** Where a fit goes on the B_crit vs B_simple figure: a point, a bound (B_crit ≥ / ≤ the value), or nowhere. */
export type Placement = { readonly kind: 'point' | 'lower' | 'upper'; readonly bCrit: number } | { readonly kind: 'missing'; readonly reason: MissingReason };

const positiveFinite = (x: number) => Number.isFinite(x) && x > 0;

/**
 * A fit above the range is drawn at its interval's lower end (else the largest batch size tried) as a lower bound;
 * one below the range at its interval's upper end (else the smallest batch size) as an upper bound, whether or not
 * the fit's estimate itself is finite; a fit inside the range as a point.
 */
export function placeFit(fit: CriticalFit, batchSizes: readonly number[]): Placement {
  if (!positiveFinite(fit.bSimple.value)) return { kind: 'missing', reason: 'b-simple-unresolved' };
  const b = fit.bCrit.value;
  // The regime first: the profile fit gives a finite estimate beyond the range too, but only its bound is known.
  if (fit.regime === 'b_crit_above_range' || b === Infinity) {
    const lower = positiveFinite(fit.bCrit.lo) ? fit.bCrit.lo : batchSizes.at(-1);
    return lower !== undefined && lower > 0 ? { kind: 'lower', bCrit: lower } : { kind: 'missing', reason: 'above-range' };
  }
  if (fit.regime === 'b_crit_below_range' || b === 0) {
    const upper = positiveFinite(fit.bCrit.hi) ? fit.bCrit.hi : batchSizes[0];
    return upper !== undefined && upper > 0 ? { kind: 'upper', bCrit: upper } : { kind: 'missing', reason: 'below-range' };
  }
  if (positiveFinite(b)) return { kind: 'point', bCrit: b };
  return { kind: 'missing', reason: fit.regime === 'not_fitted' ? 'not-fitted' : 'no-b-crit' };
}

/** B_simple / B_crit (the paper finds it within about 10× either way); NaN unless both are known. */
export function bSimpleOverBCrit(fit: CriticalFit): number {
  return fit.bSimple.value / fit.bCrit.value;
}

/**
 * The steps and samples to `target` of every run that reached it, read off its returns: per batch size and seed the
 * run with the fewest steps (several learning rates per batch size: the paper keeps the best-tuned one).
 */
export function stepsFromRuns(runs: readonly RunData[], target: number): StepsToTarget[] {
  const best = new Map<string, StepsToTarget>();
  for (const run of runs) {
    const hit = run.config ? firstReaching(run.series.returns, target) : null;
    if (!hit || !run.config) continue;
    const batchSize = run.config.env.numEnvs * run.config.agent.numSteps;
    const point = { batchSize, steps: hit.update, samples: hit.envSteps, ...(run.seed !== null ? { seed: run.seed } : {}) };
    const key = `${batchSize}|${run.seed}`;
    const previous = best.get(key);
    if (!previous || point.steps < previous.steps) best.set(key, point);
  }
  return [...best.values()].sort((a, b) => a.batchSize - b.batchSize);
}

/** One task-level's E_min at one target, as the difficulty verdict compares them. */
export interface LevelEMin {
  readonly env: string;
  readonly level: number;
  readonly target: string;
  readonly eMin: Figure;
}

/** A level against the lowest level of its env measured at the same target. */
export interface DifficultyVerdict extends LevelEMin {
  /** The lowest level measured (the comparison's base). */
  readonly baseLevel: number;
  /** E_min ÷ the base level's E_min. */
  readonly ratio: number;
  /**
   * `harder`: the interval lies wholly above the base level's; `easier`: wholly below; `not distinguishable`:
   * the intervals overlap; `base`: the base level itself; `unknown`: no E_min interval on one side.
   */
  readonly verdict: 'harder' | 'easier' | 'not distinguishable' | 'base' | 'unknown';
}

/**
 * Difficulty measured, not assumed (docs/science.md, the critical-batch protocol): per env and target, every level's
 * E_min against the lowest level's; a level counts as harder only where its E_min interval lies above the base's.
 */
export function difficultyVerdicts(entries: readonly LevelEMin[]): DifficultyVerdict[] {
  const known = (f: Figure) => Number.isFinite(f.value) && Number.isFinite(f.lo) && Number.isFinite(f.hi) && f.value > 0;
  const groups = new Map<string, LevelEMin[]>();
  for (const e of entries) groups.set(`${e.env}|${e.target}`, [...(groups.get(`${e.env}|${e.target}`) ?? []), e]);
  return [...groups.values()].flatMap((group) => {
    const sorted = [...group].sort((a, b) => a.level - b.level);
    const base = sorted[0]!;
    return sorted.map((e): DifficultyVerdict => {
      const ratio = e.eMin.value / base.eMin.value;
      if (e === base) return { ...e, baseLevel: base.level, ratio, verdict: 'base' };
      if (!known(e.eMin) || !known(base.eMin)) return { ...e, baseLevel: base.level, ratio, verdict: 'unknown' };
      const verdict = e.eMin.lo > base.eMin.hi ? 'harder' : e.eMin.hi < base.eMin.lo ? 'easier' : 'not distinguishable';
      return { ...e, baseLevel: base.level, ratio, verdict };
    });
  });
}
