/**
 * Intervals for noise-scale figures: the (co)variance record that every estimate carries (`NoiseMoments`), Fieller's
 * interval for a ratio of jointly normal estimates, the B_simple / B_noise figure built from it (`noiseScale`), and the
 * normal and Student-t quantiles behind them. Pure functions, no tfjs.
 *
 * A noise scale is a ratio num/den (tr(Σ)/|G|², or tr(HΣ)/GᵀHG) whose denominator is often not significantly positive;
 * its interval is Fieller's (the set of ρ for which num − ρ·den = 0 is not rejected), which is bounded exactly when the
 * denominator is significantly > 0 — so "resolved" and "the interval is finite" are the same statement. Unresolved
 * figures keep a finite lower bound and hi = ∞; their point value is NaN so nobody prints a meaningless number.
 */

/**
 * Two unbiased estimates with their (co)variance: the unit that smoothing and pooling work on. For B_simple they are
 * |G|² (`gradSq`) and tr(Σ) (`traceSigma`); for B_noise the same fields hold GᵀHG and tr(HΣ) (the H-norm versions).
 */
export interface NoiseMoments {
  readonly gradSq: number;
  readonly traceSigma: number;
  readonly gradSqVar: number;
  readonly traceSigmaVar: number;
  readonly covariance: number;
  /** Degrees of freedom of `gradSqVar` (K − 1 for one measurement). */
  readonly df: number;
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
