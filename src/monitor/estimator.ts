/**
 * Gradient noise scale estimation as pure functions over gradient statistics (no tfjs).
 *
 * Input of one measurement (`GroupStats`): the n samples of one rollout split into K groups (single samples, env
 * segments, episodes or micro-batches); per group k its size m_k, the squared norm of its SUMMED per-sample gradient
 * u_k = Σ_{i∈k} g_i and the dot product u_k·U with the whole batch's sum U = Σ_i g_i.
 *
 * Estimator (McCandlish et al. 2018, App. A.1, generalised to unequal groups). Each group mean h_k = u_k/m_k satisfies
 * E|h_k|² = |G|² + tr(Σ)/m_k, the big-batch mean ḡ = U/n satisfies E|ḡ|² = |G|² + tr(Σ)/n. With the sample-weighted
 * small-batch average S = Σ_k (m_k/n)|h_k|² = (1/n)Σ_k |u_k|²/m_k we get E S = |G|² + tr(Σ)·K/n, i.e. the two-batch
 * formula with B_small = n/K (the mean group size) and B_big = n:
 *
 *     tr(Σ) = (Σ_k |u_k|²/m_k − |U|²/n) / (K − 1)      (the between-group mean square of ANOVA)
 *     |G|²  = (K·|U|²/n² − Σ_k |u_k|²/(n·m_k)) / (K − 1)
 *
 * Both are exactly unbiased for any group sizes when the groups are independent and samples within a group are
 * i.i.d.; for correlated samples (segments, episodes) tr(Σ) is the effective per-sample noise m·Cov(h_k), the noise a
 * batch made of whole groups sees. With single samples (K = n) these reduce to the per-sample formulas of docs/science.md, and for
 * equal groups to the paper's (B_big|G_big|² − B_small|G_small|²)/(B_big − B_small) etc. (see `twoBatchEstimate`).
 *
 * Uncertainty: a delete-one-group jackknife gives the variances and covariance of the two estimates of ONE
 * measurement (exact leave-one-out recomputation, O(K), needs K ≥ 3). It is conservative: |G|² is a degree-2
 * U-statistic over groups, Var = 4ζ1/K + 2δ2/(K(K−1)) (ζ1 = GᵀΣ_hG, δ2 = tr(Σ_h²), Σ_h the covariance of a group
 * mean), while the jackknife's expectation is 4ζ1/K + 4δ2/(K(K−2)): exact where the linear term dominates, up to 2×
 * the variance where B_simple ≫ n (docs/science.md, "Smoothing, windows and intervals"). An unbiased correction would need tr(Σ²), i.e.
 * pairwise products of per-sample gradients, which the one-pass statistics do not give.
 *
 * B_simple = tr(Σ)/|G|² is a ratio whose denominator is often not significantly positive; its interval is Fieller's
 * (the set of ρ for which tr − ρ|G|² = 0 is not rejected), which is bounded exactly when |G|² is significantly > 0 —
 * so "resolved" and "the interval is finite" are the same statement. Unresolved figures keep a finite lower bound (B_simple is at
 * least lo) and hi = ∞; their point value is NaN so nobody prints a meaningless number.
 *
 * Smoothing across measurements keeps separate estimates of |G|² and tr(Σ) and divides them (never averages a
 * ratio). Variances of smoothed / pooled estimates are propagated from the per-measurement jackknife variances as
 * Var(Σ w_t x_t / Σ w_t) = Σ w_t² v_t / (Σ w_t)² (measurements come from fresh rollouts, hence independent), with
 * Welch–Satterthwaite degrees of freedom. This interval covers the weighted mean of the true values over the horizon;
 * it does not include the lag of a drifting target.
 */

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
}

/** Two unbiased estimates with their (co)variance: the unit that smoothing and pooling work on. */
export interface NoiseMoments {
  readonly gradSq: number;
  readonly traceSigma: number;
  readonly gradSqVar: number;
  readonly traceSigmaVar: number;
  readonly covariance: number;
  /** Degrees of freedom of `gradSqVar` (K − 1 for one measurement). */
  readonly df: number;
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

/** A noise scale figure: B_simple = tr(Σ)/|G|² with its interval, and the inverse |G|²/tr(Σ) with its own. */
export interface NoiseScale {
  /** tr(Σ)/|G|² when resolved, else NaN. */
  readonly bSimple: number;
  /** Lower end of the interval (≥ 0); finite even when unresolved (B_simple is at least this). */
  readonly lo: number;
  /** Upper end; +∞ when unresolved. */
  readonly hi: number;
  /** |G|² is significantly > 0 at the chosen confidence (equivalently: the interval is bounded). */
  readonly resolved: boolean;
  /** |G|²/tr(Σ) (per-sample signal-to-noise), defined whether or not resolved, with a Fieller interval. */
  readonly inverse: number;
  readonly inverseLo: number;
  readonly inverseHi: number;
  readonly gradSq: number;
  readonly traceSigma: number;
  readonly gradSqSe: number;
  readonly traceSigmaSe: number;
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

/** The grouped estimator from n, K, Q = Σ_k |u_k|²/m_k and |U|². */
function groupedEstimate(n: number, groups: number, q: number, totalSq: number): { gradSq: number; traceSigma: number } {
  return {
    gradSq: ((groups * totalSq) / (n * n) - q / n) / (groups - 1),
    traceSigma: (q - totalSq / n) / (groups - 1),
  };
}

/** Unbiased |G|² and tr(Σ) of one measurement, with delete-one-group jackknife (co)variances. */
export function estimateNoise(stats: GroupStats): NoiseEstimate {
  const groups = stats.sizes.length;
  if (stats.sumSq.length !== groups || stats.sumDot.length !== groups) {
    throw new RangeError(
      `estimateNoise: sizes, sumSq and sumDot must have one entry per group (got ${groups}, ${stats.sumSq.length}, ${stats.sumDot.length})`,
    );
  }
  let n = 0;
  let q = 0;
  for (let k = 0; k < groups; k++) {
    const m = stats.sizes[k]!;
    if (!(m >= 1)) throw new RangeError(`estimateNoise: group ${k} has size ${m}; sizes must be ≥ 1`);
    n += m;
    q += stats.sumSq[k]! / m;
  }
  const base = { n, groups, bSmall: groups > 0 ? n / groups : NaN, bigBatchGradSq: n > 0 ? stats.totalSq / (n * n) : NaN };
  if (groups < 2) {
    return { ...base, gradSq: NaN, traceSigma: NaN, gradSqVar: NaN, traceSigmaVar: NaN, covariance: NaN, df: 0 };
  }
  const { gradSq, traceSigma } = groupedEstimate(n, groups, q, stats.totalSq);
  if (groups < 3) {
    return { ...base, gradSq, traceSigma, gradSqVar: NaN, traceSigmaVar: NaN, covariance: NaN, df: 1 };
  }
  const looG = new Float64Array(groups);
  const looT = new Float64Array(groups);
  let meanG = 0;
  let meanT = 0;
  for (let j = 0; j < groups; j++) {
    const m = stats.sizes[j]!;
    const qj = stats.sumSq[j]!;
    const loo = groupedEstimate(n - m, groups - 1, q - qj / m, stats.totalSq - 2 * stats.sumDot[j]! + qj);
    looG[j] = loo.gradSq;
    looT[j] = loo.traceSigma;
    meanG += loo.gradSq / groups;
    meanT += loo.traceSigma / groups;
  }
  let ssG = 0;
  let ssT = 0;
  let spGT = 0;
  for (let j = 0; j < groups; j++) {
    const dG = looG[j]! - meanG;
    const dT = looT[j]! - meanT;
    ssG += dG * dG;
    ssT += dT * dT;
    spGT += dG * dT;
  }
  const factor = (groups - 1) / groups;
  return {
    ...base,
    gradSq,
    traceSigma,
    gradSqVar: factor * ssG,
    traceSigmaVar: factor * ssT,
    covariance: factor * spGT,
    df: groups - 1,
  };
}

/** Whether all moments are finite (a measurement with K < 3 has estimates but no variance). */
export function hasFiniteMoments(m: NoiseMoments): boolean {
  return (
    Number.isFinite(m.gradSq) &&
    Number.isFinite(m.traceSigma) &&
    Number.isFinite(m.gradSqVar) &&
    Number.isFinite(m.traceSigmaVar) &&
    Number.isFinite(m.covariance)
  );
}

/**
 * Fieller's confidence set for num/den from jointly normal estimates: {ρ : (num − ρ·den)² ≤ q²·Var(num − ρ·den)}.
 * Returns its hull [lo, hi]; `bounded` iff den² > q²·varDen. With `nonNegative` the set is intersected with [0, ∞).
 */
export function fiellerInterval(
  num: number,
  den: number,
  varNum: number,
  varDen: number,
  cov: number,
  q: number,
  nonNegative = false,
): { lo: number; hi: number; bounded: boolean } {
  const floor = nonNegative ? 0 : -Infinity;
  const whole = { lo: floor, hi: Infinity, bounded: false };
  if (![num, den, varNum, varDen, cov, q].every(Number.isFinite)) return { lo: NaN, hi: NaN, bounded: false };
  const q2 = q * q;
  const a = den * den - q2 * varDen;
  const b = -2 * (num * den - q2 * cov);
  const c = num * num - q2 * varNum;
  if (a > 0) {
    // ρ = num/den always lies in the set; a negative discriminant can only come from rounding.
    const disc = Math.max(0, b * b - 4 * a * c);
    const root = Math.sqrt(disc);
    // Numerically stable roots.
    const t = -0.5 * (b + Math.sign(b || 1) * root);
    const r1 = t / a;
    const r2 = t !== 0 ? c / t : r1;
    const lo = Math.min(r1, r2);
    const hi = Math.max(r1, r2);
    return { lo: Math.max(lo, floor), hi: Math.max(hi, floor), bounded: true };
  }
  if (a === 0) {
    // Linear: b·ρ + c ≤ 0.
    if (b > 0) return { lo: floor, hi: Math.max(-c / b, floor), bounded: false };
    if (b < 0) return { lo: Math.max(-c / b, floor), hi: Infinity, bounded: false };
    return whole;
  }
  const disc = b * b - 4 * a * c;
  if (disc <= 0) return whole;
  const root = Math.sqrt(disc);
  const lower = Math.min((-b + root) / (2 * a), (-b - root) / (2 * a));
  const upper = Math.max((-b + root) / (2 * a), (-b - root) / (2 * a));
  // The set is (−∞, lower] ∪ [upper, ∞); report the hull of its part above the floor.
  if (!nonNegative) return whole;
  if (upper <= 0 || lower >= 0) return whole;
  return { lo: upper, hi: Infinity, bounded: false };
}

/** B_simple = tr(Σ)/|G|², |G|²/tr(Σ) and their intervals at two-sided `confidence` (t quantile with `m.df`). */
export function noiseScale(m: NoiseMoments, confidence: number): NoiseScale {
  const q = tQuantile(1 - (1 - confidence) / 2, m.df);
  const interval = fiellerInterval(m.traceSigma, m.gradSq, m.traceSigmaVar, m.gradSqVar, m.covariance, q, true);
  const inverse = fiellerInterval(m.gradSq, m.traceSigma, m.gradSqVar, m.traceSigmaVar, m.covariance, q, false);
  const resolved = interval.bounded && m.gradSq > 0;
  return {
    bSimple: resolved ? Math.max(m.traceSigma / m.gradSq, 0) : NaN,
    lo: interval.lo,
    hi: resolved ? interval.hi : Number.isNaN(interval.hi) ? NaN : Infinity,
    resolved,
    inverse: m.traceSigma !== 0 ? m.gradSq / m.traceSigma : NaN,
    inverseLo: inverse.lo,
    inverseHi: inverse.hi,
    gradSq: m.gradSq,
    traceSigma: m.traceSigma,
    gradSqSe: Math.sqrt(m.gradSqVar),
    traceSigmaSe: Math.sqrt(m.traceSigmaVar),
  };
}

/**
 * Weighted pooling of independent measurements: Σ w x / Σ w, variance Σ w² v / (Σ w)², Welch–Satterthwaite df for
 * the |G|² variance. Equal weights give the ratio-of-means figures (windows, run averages). Non-finite items are skipped.
 */
export function poolMoments(items: readonly NoiseMoments[], weights?: readonly number[]): NoiseMoments & { count: number } {
  const acc = new MomentAccumulator();
  items.forEach((item, i) => {
    if (hasFiniteMoments(item)) acc.add(item, weights?.[i] ?? 1);
  });
  return acc.moments();
}

/** Running weighted sums behind `poolMoments` and `NoiseSmoother`; `decay` multiplies the old weights. */
class MomentAccumulator {
  private w1 = 0;
  private w2 = 0;
  private g = 0;
  private t = 0;
  private vg = 0;
  private vt = 0;
  private c = 0;
  /** Σ w⁴ vG² / df, the Satterthwaite denominator. */
  private dfDen = 0;
  private count = 0;

  decay(beta: number): void {
    const b2 = beta * beta;
    this.w1 *= beta;
    this.g *= beta;
    this.t *= beta;
    this.w2 *= b2;
    this.vg *= b2;
    this.vt *= b2;
    this.c *= b2;
    this.dfDen *= b2 * b2;
  }

  add(m: NoiseMoments, weight: number): void {
    this.w1 += weight;
    this.w2 += weight * weight;
    this.g += weight * m.gradSq;
    this.t += weight * m.traceSigma;
    const w2 = weight * weight;
    this.vg += w2 * m.gradSqVar;
    this.vt += w2 * m.traceSigmaVar;
    this.c += w2 * m.covariance;
    if (Number.isFinite(m.df) && m.df > 0) this.dfDen += (w2 * m.gradSqVar) ** 2 / m.df;
    this.count++;
  }

  moments(): NoiseMoments & { count: number; effectiveCount: number } {
    if (this.w1 <= 0) {
      return { gradSq: NaN, traceSigma: NaN, gradSqVar: NaN, traceSigmaVar: NaN, covariance: NaN, df: 0, count: 0, effectiveCount: 0 };
    }
    const w1sq = this.w1 * this.w1;
    return {
      gradSq: this.g / this.w1,
      traceSigma: this.t / this.w1,
      gradSqVar: this.vg / w1sq,
      traceSigmaVar: this.vt / w1sq,
      covariance: this.c / w1sq,
      df: this.dfDen > 0 ? (this.vg * this.vg) / this.dfDen : Infinity,
      count: this.count,
      effectiveCount: w1sq / this.w2,
    };
  }
}

/**
 * Exponential moving averages of |G|² and tr(Σ), kept separately, bias-corrected (normalised weights, so the first
 * value is the first measurement), with the horizon in ENV STEPS: a measurement taken s env steps ago has weight
 * exp(−s/horizon). Per measurement the decay is exp(−Δsteps/horizon), Δsteps = env steps since the previous
 * measurement. We prefer this to 1 − batch/horizon because it is exact for any batch size or measuring interval
 * (the weights depend only on how long ago in env steps), stays in (0, 1) when batch ≥ horizon, and matches
 * 1 − batch/horizon to first order when batch ≪ horizon. Effective number of measurements ≈ 2·horizon/Δsteps.
 */
export class NoiseSmoother {
  readonly horizon: number;
  private readonly acc = new MomentAccumulator();
  private lastSteps: number | null = null;

  constructor(horizon: number) {
    if (!(horizon > 0)) throw new RangeError(`NoiseSmoother: horizon must be > 0 env steps (got ${horizon})`);
    this.horizon = horizon;
  }

  /** Add one measurement taken at `envSteps`; measurements without finite moments are skipped (returns false). */
  add(m: NoiseMoments, envSteps: number): boolean {
    if (!hasFiniteMoments(m)) return false;
    if (this.lastSteps !== null) this.acc.decay(Math.exp(-Math.max(0, envSteps - this.lastSteps) / this.horizon));
    this.acc.add(m, 1);
    this.lastSteps = envSteps;
    return true;
  }

  /** Smoothed moments; `effectiveCount` = (Σw)²/Σw², the effective number of measurements averaged. */
  moments(): NoiseMoments & { count: number; effectiveCount: number } {
    return this.acc.moments();
  }
}

/** Ratio-of-means over the last `size` measurements (equal weights). */
export class NoiseWindow {
  readonly size: number;
  private readonly items: NoiseMoments[] = [];

  constructor(size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`NoiseWindow: size must be an integer ≥ 1 (got ${size})`);
    this.size = size;
  }

  add(m: NoiseMoments): boolean {
    if (!hasFiniteMoments(m)) return false;
    this.items.push(m);
    if (this.items.length > this.size) this.items.shift();
    return true;
  }

  moments(): NoiseMoments & { count: number } {
    return poolMoments(this.items);
  }
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const r = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  } else if (p <= 1 - pLow) {
    const r = p - 0.5;
    const s = r * r;
    x =
      ((((((a[0]! * s + a[1]!) * s + a[2]!) * s + a[3]!) * s + a[4]!) * s + a[5]!) * r) /
      (((((b[0]! * s + b[1]!) * s + b[2]!) * s + b[3]!) * s + b[4]!) * s + 1);
  } else {
    const r = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * r + c[1]!) * r + c[2]!) * r + c[3]!) * r + c[4]!) * r + c[5]!) / ((((d[0]! * r + d[1]!) * r + d[2]!) * r + d[3]!) * r + 1);
  }
  return x;
}

/** Student-t quantile: exact for df 1 and 2, Cornish–Fisher expansion (A&S 26.7.5) above; normal for df = ∞. */
export function tQuantile(p: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const x = normalQuantile(p);
  if (!Number.isFinite(df)) return x;
  const x2 = x * x;
  const g1 = (x * (x2 + 1)) / 4;
  const g2 = (x * ((5 * x2 + 16) * x2 + 3)) / 96;
  const g3 = (x * (((3 * x2 + 19) * x2 + 17) * x2 - 15)) / 384;
  const g4 = (x * ((((79 * x2 + 776) * x2 + 1482) * x2 - 1920) * x2 - 945)) / 92160;
  return x + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}
