/**
 * Gradient noise estimation from group statistics, as pure functions (no tfjs).
 *
 * Input of one measurement (`GroupStats`): the n samples of one rollout split into K groups (single samples, blocks of
 * an env's segment, whole segments, episodes or micro-batches); per group k its size m_k, the squared norm of its
 * SUMMED per-sample gradient u_k = Σ_{i∈k} g_i and the dot product u_k·U with the whole batch's sum U = Σ_i g_i;
 * optionally the dot products u_k·u_{k+1} of groups that follow each other in the same env segment ("neighbours").
 *
 * ## The pairwise estimator (McCandlish et al. 2018, App. A.1, generalised)
 * |U|² = Σ_{k,l} u_k·u_l. Call a pair of groups NEAR when k = l or k, l are neighbours, FAR otherwise. If samples are
 * correlated only within a group and with its neighbours, a far pair has E[u_k·u_l] = m_k m_l |G|², so
 *
 *     |G|²  = (|U|² − S) / (n² − M),     S = Σ_near u_k·u_l,   M = Σ_near m_k m_l,
 *     tr(Σ) = (S − M·|G|²) / n,
 *
 * where tr(Σ) is the EFFECTIVE per-sample noise n·tr Cov(ḡ) = (1/n) Σ_segments E|S_e − m_e G|²: the noise a batch made
 * of these segments sees, correlations included. Both are exactly unbiased for any fixed group sizes under that
 * assumption. Without neighbours (independent groups) and with equal sizes this is the paper's two-batch formula with
 * B_small = n/K and B_big = n (`twoBatchEstimate`), i.e. the between-group mean square of ANOVA; with single samples
 * it is the per-sample formula of docs/science.md. Neighbour terms make contiguous blocks of an env's segment usable
 * as groups: the correlation across a block boundary, which blocks alone would miss, is counted, and only
 * correlations reaching past a whole neighbouring block are left out (grouping.ts chooses blocks long enough).
 *
 * ## Outcome-dependent group sizes (episodes)
 * When a group's size depends on what happened in it (an episode ends when the pole falls), E|u_k|² ≠ m_k²|G|² +
 * m_k·tr(Σ): long and short episodes differ in their per-sample gradients, and the estimator above is biased (on
 * CartPole |G|² came out significantly negative late in training). With `randomSizes` the groups are treated as i.i.d.
 * units (u_k, m_k) instead, as a ratio estimator: the batch gradient is ḡ = Σu_k/Σm_k, whose variance is
 * E|u − mG|²/(K·m̄²), so
 *
 *     tr(Σ) = Σ_k |u_k − m_k ḡ|² / ((K − 1)·m̄),    |G|² = |ḡ|² − tr(Σ)/n,    m̄ = n/K,
 *
 * consistent, with an O(1/K) bias that the jackknife removes (estimates below are bias-corrected by it). For equal
 * sizes it reduces to the fixed-size formulas. It needs u_k·W with W = Σ_k m_k u_k for the jackknife.
 *
 * ## Uncertainty
 * A delete-one-group jackknife gives the variances and covariance of the two estimates of ONE measurement (exact
 * leave-one-out recomputation, O(K), needs K ≥ 3). For independent single samples it is conservative: |G|² is a
 * degree-2 U-statistic, Var = 4ζ1/K + 2δ2/(K(K−1)) (ζ1 = GᵀΣ_hG, δ2 = tr(Σ_h²), Σ_h the covariance of a group mean),
 * while the jackknife's expectation is 4ζ1/K + 4δ2/(K(K−2)): exact where the linear term dominates, up to 2× the
 * variance where B_simple ≫ n. For correlated samples the per-sample jackknife is NOT conservative: it assumes
 * independence and misses the correlation — one more reason to group by blocks.
 */
import type { NoiseMoments } from './intervals.js';

export { fiellerInterval, hasFiniteMoments, noiseScale, normalQuantile, tQuantile, type NoiseMoments, type NoiseScale } from './intervals.js';
export { NoiseSmoother, NoiseWindow, poolMoments } from './smoothing.js';

/** Per-group gradient statistics of one measurement. All norms are of SUMMED per-sample gradients. */
export interface GroupStats {
  /** m_k ≥ 1, samples in group k. */
  readonly sizes: ArrayLike<number>;
  /** |u_k|², u_k = Σ_{i∈k} g_i. */
  readonly sumSq: ArrayLike<number>;
  /** u_k·U with U = Σ_i g_i (Σ_k of it is |U|²); needed by the jackknife. */
  readonly sumDot: ArrayLike<number>;
  /** |U|² = n²·|ḡ|². */
  readonly totalSq: number;
  /**
   * Neighbours (K − 1 entries): `linked[k]` = 1 when groups k and k + 1 follow each other in one env segment, and then
   * `neighborDot[k]` = u_k·u_{k+1}.
   */
  readonly linked?: ArrayLike<number>;
  readonly neighborDot?: ArrayLike<number>;
  /** Group sizes depend on the outcome (episodes): use the ratio estimator (see the header). */
  readonly randomSizes?: boolean;
  /** With `randomSizes`: u_k·W, W = Σ_l m_l u_l (needed for the jackknife). */
  readonly weightedDot?: ArrayLike<number>;
}

export interface NoiseEstimate extends NoiseMoments {
  /** B_big: samples in the measurement. */
  readonly n: number;
  /** K: groups. */
  readonly groups: number;
  /** B_small = n/K, the mean group size. */
  readonly bSmall: number;
  /** |ḡ|², the big-batch gradient's squared norm. */
  readonly bigBatchGradSq: number;
}

/** The paper's two-batch formula (App. A.1) for equal small batches: |G_small|² averaged over the small batches. */
export function twoBatchEstimate(
  bSmall: number,
  bBig: number,
  smallSq: number,
  bigSq: number,
): { gradSq: number; traceSigma: number } {
  return {
    gradSq: (bBig * bigSq - bSmall * smallSq) / (bBig - bSmall),
    traceSigma: (smallSq - bigSq) / (1 / bSmall - 1 / bBig),
  };
}

/** Sums behind one pairwise estimate (see the header); the leave-one-out versions subtract one group's terms. */
interface PairwiseSums {
  n: number;
  /** |U|². */
  total: number;
  /** Σ_near u_k·u_l. */
  near: number;
  /** Σ_near m_k m_l. */
  nearSizes: number;
}

/** |G|² and tr(Σ) from the pairwise sums; NaN when no far pair is left. */
export function pairwiseEstimate(s: PairwiseSums): { gradSq: number; traceSigma: number } {
  const far = s.n * s.n - s.nearSizes;
  if (!(far > 0)) return { gradSq: NaN, traceSigma: NaN };
  const gradSq = (s.total - s.near) / far;
  return { gradSq, traceSigma: (s.near - s.nearSizes * gradSq) / s.n };
}

/** Sums behind one ratio estimate: K, n, Σ|u_k|², Σm_k², ⟨W, U⟩ and |U|². */
interface RatioSums {
  groups: number;
  n: number;
  sumSq: number;
  sizesSq: number;
  weighted: number;
  total: number;
}

function ratioEstimate(s: RatioSums): { gradSq: number; traceSigma: number } {
  if (s.groups < 2) return { gradSq: NaN, traceSigma: NaN };
  const residual = s.sumSq - (2 * s.weighted) / s.n + (s.total * s.sizesSq) / (s.n * s.n);
  const traceSigma = (s.groups * residual) / ((s.groups - 1) * s.n);
  return { gradSq: s.total / (s.n * s.n) - traceSigma / s.n, traceSigma };
}

/** Checks the arrays of `stats` against K and returns n. */
function checkStats(stats: GroupStats): number {
  const groups = stats.sizes.length;
  const lengths = [stats.sumSq.length, stats.sumDot.length];
  if (lengths.some((l) => l !== groups)) {
    throw new RangeError(`estimateNoise: sizes, sumSq and sumDot must have one entry per group (got ${groups}, ${lengths.join(', ')})`);
  }
  if (stats.linked && (stats.linked.length !== Math.max(0, groups - 1) || stats.neighborDot?.length !== stats.linked.length)) {
    throw new RangeError(`estimateNoise: linked and neighborDot must have K − 1 = ${groups - 1} entries`);
  }
  let n = 0;
  for (let k = 0; k < groups; k++) {
    const m = stats.sizes[k]!;
    if (!(m >= 1)) throw new RangeError(`estimateNoise: group ${k} has size ${m}; sizes must be ≥ 1`);
    n += m;
  }
  return n;
}

/** Delete-one-group jackknife (co)variances of leave-one-out estimates; `correct` also returns the bias-corrected point. */
function jackknife(
  full: { gradSq: number; traceSigma: number },
  loo: readonly { gradSq: number; traceSigma: number }[],
  correct: boolean,
): Pick<NoiseMoments, 'gradSq' | 'traceSigma' | 'gradSqVar' | 'traceSigmaVar' | 'covariance'> {
  const k = loo.length;
  const meanG = loo.reduce((s, e) => s + e.gradSq, 0) / k;
  const meanT = loo.reduce((s, e) => s + e.traceSigma, 0) / k;
  let ssG = 0;
  let ssT = 0;
  let spGT = 0;
  for (const e of loo) {
    ssG += (e.gradSq - meanG) ** 2;
    ssT += (e.traceSigma - meanT) ** 2;
    spGT += (e.gradSq - meanG) * (e.traceSigma - meanT);
  }
  const factor = (k - 1) / k;
  return {
    gradSq: correct ? k * full.gradSq - (k - 1) * meanG : full.gradSq,
    traceSigma: correct ? k * full.traceSigma - (k - 1) * meanT : full.traceSigma,
    gradSqVar: factor * ssG,
    traceSigmaVar: factor * ssT,
    covariance: factor * spGT,
  };
}

/** |G|² and tr(Σ) of one measurement (pairwise, or ratio with `randomSizes`), with jackknife (co)variances. */
export function estimateNoise(stats: GroupStats): NoiseEstimate {
  const n = checkStats(stats);
  const groups = stats.sizes.length;
  const base = { n, groups, bSmall: groups > 0 ? n / groups : NaN, bigBatchGradSq: n > 0 ? stats.totalSq / (n * n) : NaN };
  const none = { gradSq: NaN, traceSigma: NaN, gradSqVar: NaN, traceSigmaVar: NaN, covariance: NaN, df: 0 };
  if (groups < 2) return { ...base, ...none };
  const point = stats.randomSizes ? ratioPointAndLoo(stats, n) : pairwisePointAndLoo(stats, n);
  if (groups < 3 || point.loo === null) return { ...base, ...none, gradSq: point.full.gradSq, traceSigma: point.full.traceSigma, df: 1 };
  return { ...base, ...jackknife(point.full, point.loo, stats.randomSizes === true), df: groups - 1 };
}

function pairwisePointAndLoo(stats: GroupStats, n: number) {
  const groups = stats.sizes.length;
  const m = stats.sizes;
  const linked = (k: number) => (stats.linked && k >= 0 && k < groups - 1 ? stats.linked[k]! !== 0 : false);
  let near = 0;
  let nearSizes = 0;
  for (let k = 0; k < groups; k++) {
    near += stats.sumSq[k]!;
    nearSizes += m[k]! * m[k]!;
    if (linked(k)) {
      near += 2 * stats.neighborDot![k]!;
      nearSizes += 2 * m[k]! * m[k + 1]!;
    }
  }
  const full = pairwiseEstimate({ n, total: stats.totalSq, near, nearSizes });
  if (groups < 3) return { full, loo: null };
  const loo = Array.from({ length: groups }, (_, j) => {
    let nearJ = near - stats.sumSq[j]!;
    let sizesJ = nearSizes - m[j]! * m[j]!;
    if (linked(j - 1)) {
      nearJ -= 2 * stats.neighborDot![j - 1]!;
      sizesJ -= 2 * m[j - 1]! * m[j]!;
    }
    if (linked(j)) {
      nearJ -= 2 * stats.neighborDot![j]!;
      sizesJ -= 2 * m[j]! * m[j + 1]!;
    }
    return pairwiseEstimate({ n: n - m[j]!, total: stats.totalSq - 2 * stats.sumDot[j]! + stats.sumSq[j]!, near: nearJ, nearSizes: sizesJ });
  });
  return { full, loo };
}

function ratioPointAndLoo(stats: GroupStats, n: number) {
  const groups = stats.sizes.length;
  const m = stats.sizes;
  let sumSq = 0;
  let sizesSq = 0;
  let weighted = 0;
  for (let k = 0; k < groups; k++) {
    sumSq += stats.sumSq[k]!;
    sizesSq += m[k]! * m[k]!;
    weighted += m[k]! * stats.sumDot[k]!;
  }
  const full = ratioEstimate({ groups, n, sumSq, sizesSq, weighted, total: stats.totalSq });
  const w = stats.weightedDot;
  if (groups < 3 || w === undefined) return { full, loo: null };
  if (w.length !== groups) throw new RangeError(`estimateNoise: weightedDot must have one entry per group (got ${w.length} for ${groups})`);
  const loo = Array.from({ length: groups }, (_, j) =>
    ratioEstimate({
      groups: groups - 1,
      n: n - m[j]!,
      sumSq: sumSq - stats.sumSq[j]!,
      sizesSq: sizesSq - m[j]! * m[j]!,
      weighted: weighted - w[j]! - m[j]! * stats.sumDot[j]! + m[j]! * stats.sumSq[j]!,
      total: stats.totalSq - 2 * stats.sumDot[j]! + stats.sumSq[j]!,
    }),
  );
  return { full, loo };
}
