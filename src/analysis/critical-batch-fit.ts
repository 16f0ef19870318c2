/**
 * Measuring the critical batch size as pure functions (McCandlish et al. 2018, §2.3; docs/science.md,
 * "Critical batch size and how to measure it" and "The critical-batch protocol").
 *
 * For one performance target, every (batch size, learning rate) cell holds the seeds' steps S (updates) and samples E
 * (env steps) to first reach the target (∞ when a seed never did). Per cell the median over seeds is taken (∞ sorts
 * last, so a cell counts as reaching the target when more than half its seeds did); per batch size the learning rate
 * with the fewest median steps is kept (the paper tunes the learning rate per batch size), and flagged `low`/`high`
 * when it is the lowest/highest learning rate tried there (the grid should be extended that way, lr-grid.ts).
 *
 * The reported fit (`analyzeTarget`) is the profile-likelihood fit of critical-batch-profile.ts over every seed that
 * reached the target in the kept cells, with its intervals. `fitCriticalBatch` is the quick fit of the per-batch-size
 * medians, kept beside it as a cross-check: S(B) = S_min·(1 + B_crit/B) is linear in 1/B, S = a + b/B with a = S_min
 * and b = S_min·B_crit = E_min, fitted by weighted least squares with weights 1/Ŝ², Ŝ the fitted curve (iterative
 * reweighting starting from the observed S; relative residuals, since the spread of steps-to-target grows with S, and
 * weighting by the observed S would bias S_min low). A fit whose slope comes out negative is refitted with b = 0
 * (B_crit = 0); one whose intercept comes out ≤ 0 with a = 0 (B_crit = ∞).
 */
import { fitProfile, type Bounded, type ProfileRegime } from './critical-batch-profile.js';
import { median } from '../core/stats.js';

export interface StepsPoint {
  /** Samples per update, B = numEnvs × numSteps. */
  readonly batchSize: number;
  /** Optimizer updates to reach the target. */
  readonly steps: number;
}

export type FitRegime = 'fit' | 'b_crit_below_range' | 'b_crit_above_range';

export interface CriticalBatchFit {
  readonly sMin: number;
  readonly bCrit: number;
  /** E_min = S_min·B_crit, the slope of S against 1/B. */
  readonly eMin: number;
  readonly regime: FitRegime;
  /** Distinct batch sizes in the fit. */
  readonly batchSizes: number;
  /** Root-mean-square relative residual (S − Ŝ)/S. */
  readonly rmsRelativeResidual: number;
}

const NO_FIT: CriticalBatchFit = { sMin: NaN, bCrit: NaN, eMin: NaN, regime: 'fit', batchSizes: 0, rmsRelativeResidual: NaN };

/** Fit S = S_min(1 + B_crit/B) to finite, positive points; needs two distinct batch sizes. */
export function fitCriticalBatch(points: readonly StepsPoint[]): CriticalBatchFit {
  const usable = points.filter((p) => Number.isFinite(p.steps) && p.steps > 0 && Number.isFinite(p.batchSize) && p.batchSize > 0);
  const distinct = new Set(usable.map((p) => p.batchSize)).size;
  if (distinct < 2) return { ...NO_FIT, batchSizes: distinct };
  // Weighted least squares in x = 1/B with weights 1/Ŝ², Ŝ the fitted curve (iteratively reweighted, starting from the
  // observed S): weighting by the observed S would favour points whose noise happened to be low and bias S_min down.
  let weights = usable.map((p) => 1 / (p.steps * p.steps));
  let a = NaN;
  let b = NaN;
  let regime: FitRegime = 'fit';
  for (let iteration = 0; iteration < 20; iteration++) {
    ({ a, b, regime } = weightedFit(usable, weights));
    const next = usable.map((p) => {
      const fitted = a + b / p.batchSize;
      return fitted > 0 ? 1 / (fitted * fitted) : 1 / (p.steps * p.steps);
    });
    const change = Math.max(...next.map((w, i) => Math.abs(w / weights[i]! - 1)));
    weights = next;
    if (change < 1e-10) break;
  }
  const bCrit = regime === 'b_crit_above_range' ? Infinity : b / a;
  let rss = 0;
  for (const p of usable) rss += ((p.steps - a - b / p.batchSize) / p.steps) ** 2;
  return { sMin: a, bCrit, eMin: b, regime, batchSizes: distinct, rmsRelativeResidual: Math.sqrt(rss / usable.length) };
}

/** One weighted least-squares fit of S = a + b/B, refitted on the boundary when a ≤ 0 or b < 0. */
function weightedFit(points: readonly StepsPoint[], weights: readonly number[]): { a: number; b: number; regime: FitRegime } {
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  points.forEach((p, i) => {
    const w = weights[i]!;
    const x = 1 / p.batchSize;
    sw += w;
    sx += w * x;
    sy += w * p.steps;
    sxx += w * x * x;
    sxy += w * x * p.steps;
  });
  const det = sw * sxx - sx * sx;
  const a = (sxx * sy - sx * sxy) / det;
  const b = (sw * sxy - sx * sy) / det;
  if (b < 0) return { a: sy / sw, b: 0, regime: 'b_crit_below_range' };
  if (a <= 0) return { a: 0, b: sxy / sxx, regime: 'b_crit_above_range' };
  return { a, b, regime: 'fit' };
}

/** One seed's outcome for a target: ∞ steps and samples when it never reached it. */
export interface ReachOutcome {
  readonly steps: number;
  readonly samples: number;
}

/** One (batch size, learning rate) cell: its seeds' outcomes for one target. */
export interface TargetCell {
  readonly batchSize: number;
  readonly lr: number;
  /** Run-id fragment naming the cell, e.g. `batch=512,lrx=2`. */
  readonly label: string;
  /** Multiple of the batch size's rule lr (the grid coordinate); absent for hand-made cells. */
  readonly multiplier?: number;
  readonly outcomes: readonly ReachOutcome[];
}

/** Where the kept learning rate sits in the grid tried at its batch size. */
export type LrEdge = 'low' | 'high' | null;

/** The cell kept for one batch size: the learning rate with the fewest median steps. */
export interface TargetPoint {
  readonly batchSize: number;
  readonly lr: number;
  readonly label: string;
  readonly steps: number;
  readonly samples: number;
  readonly reached: number;
  readonly seeds: number;
  readonly multiplier?: number;
  /** `low`/`high`: the kept lr is the lowest/highest tried at this batch size (and beats every interior one). */
  readonly edge: LrEdge;
  /** Steps of the seeds that reached the target (what the profile fit uses). */
  readonly seedSteps: readonly number[];
}

/** Per batch size the best-tuned cell that reaches the target (median finite); batch sizes with none are listed apart. */
export function bestPerBatchSize(cells: readonly TargetCell[]): { points: TargetPoint[]; unreached: number[] } {
  const byBatch = new Map<number, TargetPoint[]>();
  for (const cell of cells) {
    const point: TargetPoint = {
      batchSize: cell.batchSize,
      lr: cell.lr,
      label: cell.label,
      steps: median(cell.outcomes.map((o) => o.steps)),
      samples: median(cell.outcomes.map((o) => o.samples)),
      reached: cell.outcomes.filter((o) => Number.isFinite(o.steps)).length,
      seeds: cell.outcomes.length,
      ...(cell.multiplier !== undefined ? { multiplier: cell.multiplier } : {}),
      edge: null,
      seedSteps: cell.outcomes.map((o) => o.steps).filter((x) => Number.isFinite(x)),
    };
    const list = byBatch.get(cell.batchSize) ?? [];
    list.push(point);
    byBatch.set(cell.batchSize, list);
  }
  const points: TargetPoint[] = [];
  const unreached: number[] = [];
  for (const [batchSize, candidates] of [...byBatch.entries()].sort((x, y) => x[0] - y[0])) {
    const best = candidates.filter((c) => Number.isFinite(c.steps)).sort((x, y) => x.steps - y.steps)[0];
    if (best) points.push({ ...best, edge: edgeOf(best, candidates) });
    else unreached.push(batchSize);
  }
  return { points, unreached };
}

/**
 * `low`/`high` when the best cell has the lowest/highest lr of the batch size's candidates and no other candidate ties
 * it (a tie with an interior lr means the optimum is inside the grid); null with a single candidate.
 */
function edgeOf(best: TargetPoint, candidates: readonly TargetPoint[]): LrEdge {
  if (candidates.length < 2) return null;
  const lrs = candidates.map((c) => c.lr);
  const lowest = Math.min(...lrs);
  const highest = Math.max(...lrs);
  const tied = candidates.filter((c) => c.steps === best.steps);
  if (tied.some((c) => c.lr !== lowest && c.lr !== highest)) return null;
  if (tied.some((c) => c.lr === lowest)) return 'low';
  return tied.some((c) => c.lr === highest) ? 'high' : null;
}

/** The fit `analyzeTarget` reports: the profile-likelihood fit's point values, and the median fit beside it. */
export interface TargetFit {
  readonly sMin: number;
  readonly bCrit: number;
  readonly eMin: number;
  readonly regime: ProfileRegime;
  /** Distinct batch sizes in the fit. */
  readonly batchSizes: number;
  /** Seeds in the fit. */
  readonly points: number;
  /** √(mean squared log residual) of the seeds: the typical relative residual. */
  readonly rmsRelativeResidual: number;
  /** The weighted least-squares fit of the per-batch-size medians (cross-check). */
  readonly medianFit: CriticalBatchFit;
}

export interface TargetAnalysis {
  readonly fit: TargetFit;
  readonly bCrit: Bounded;
  readonly sMin: Bounded;
  readonly eMin: Bounded;
  readonly points: readonly TargetPoint[];
  /** Batch sizes where no learning rate reached the target in most seeds (left out of the fit). */
  readonly unreachedBatchSizes: readonly number[];
}

/** Fit one target's cells: the profile-likelihood fit over the kept cells' seeds, intervals at `confidence`. */
export function analyzeTarget(cells: readonly TargetCell[], confidence = 0.95): TargetAnalysis {
  const { points, unreached } = bestPerBatchSize(cells);
  const profile = fitProfile(
    points.flatMap((p) => p.seedSteps.map((steps) => ({ batchSize: p.batchSize, steps }))),
    confidence,
  );
  const medianFit = fitCriticalBatch(points);
  return {
    fit: {
      sMin: profile.sMin.estimate,
      bCrit: profile.bCrit.estimate,
      eMin: profile.eMin.estimate,
      regime: profile.regime,
      batchSizes: profile.batchSizes,
      points: profile.points,
      rmsRelativeResidual: profile.rmsLogResidual,
      medianFit,
    },
    bCrit: profile.bCrit,
    sMin: profile.sMin,
    eMin: profile.eMin,
    points,
    unreachedBatchSizes: unreached,
  };
}

/**
 * A target: an absolute return, a fraction (`50%`) of the range of returns reached, or a normalised score s (return
 * R_random + s·(R_ref − R_random), score.ts).
 */
export type TargetSpec = { readonly kind: 'return' | 'fraction' | 'score'; readonly value: number; readonly label: string };

/**
 * The return a target stands for, given the lowest and highest return any run reached and, for scores, the score
 * scale (NaN without one).
 */
export function resolveTarget(spec: TargetSpec, range: { min: number; max: number }, scale?: { random: number; reference: number }): number {
  if (spec.kind === 'return') return spec.value;
  if (spec.kind === 'score') return scale ? scale.random + spec.value * (scale.reference - scale.random) : NaN;
  return range.min + spec.value * (range.max - range.min);
}

/**
 * Learning rate for batch size B by the paper's rule (McCandlish et al. 2018, App. A, eq. A.3: the centre of the
 * learning-rate grid, ε_central(B) = ε* / (1 + B* / B)^α, α = 1 for SGD/momentum and 0.5 < α < 1 for Adam/RMSProp):
 * ε(B) = ε_max / (1 + B_s/B)^α, with B_s the noise scale guessed in advance and ε_max chosen so that ε(B₀) = ε₀ (the
 * config's lr at the config's batch): ε(B) = ε₀·((1 + B_s/B₀)/(1 + B_s/B))^α.
 */
export function paperLearningRate(lr0: number, batch0: number, batch: number, bStar: number, alpha: number): number {
  return lr0 * ((1 + bStar / batch0) / (1 + bStar / batch)) ** alpha;
}
