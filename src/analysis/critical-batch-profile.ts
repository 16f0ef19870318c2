/**
 * The tradeoff law S(B) = S_min(1 + B_crit/B) fitted to every seed's steps-to-target, with profile-likelihood
 * intervals for B_crit, S_min and E_min = S_min·B_crit (docs/science.md, "The critical-batch protocol").
 *
 * Model: log S_ij = log S_min + log(1 + B_crit/B_i) + ε_ij, ε ~ N(0, σ²) independent over seeds — the spread of
 * steps-to-target is multiplicative (it grows with S), so residuals are relative. Points: every seed that reached the
 * target in the cell kept for each batch size (a seed that never reached it cannot enter a log-normal likelihood and
 * is left out; the cell itself counts only when its median seed reached the target, see critical-batch-fit.ts).
 *
 * Fit: for fixed c = B_crit the best log S_min is the mean of log S − log(1 + c/B), so the residual sum of squares
 * RSS(c) is a one-dimensional function, minimised over a fine grid of log c (from e⁻⁷·B_min to e⁷·B_max) and its two
 * limits, c = 0 (S does not fall with B) and c = ∞ (S ∝ 1/B), then refined by golden section. The regime is
 * `b_crit_above_range` when the estimate lies above the largest batch size and the interval is open upwards (only a
 * lower bound is known), `b_crit_below_range` likewise below the smallest, else `fit`. Interval at confidence 1 − a: every value θ of the parameter whose profile RSS (minimised
 * over the other parameter) satisfies RSS_θ − RSS_min ≤ σ̂²·t²(1 − a/2; n − 2), σ̂² = RSS_min/(n − 2) — the F-calibrated
 * profile-likelihood interval, exact for a linear Gaussian model and checked for this one by simulation
 * (test/analysis/critical-batch-profile.test.ts: coverage of nominal 95% over 200 synthetic experiments). An end that
 * never crosses the threshold is 0 or ∞. With n ≤ 2 points (no degrees of freedom) the intervals are [0, ∞].
 * What the interval does not include: the optimism of picking the best of several learning rates per batch size.
 */
import { tQuantile } from '../monitor/intervals.js';

export interface SeedPoint {
  readonly batchSize: number;
  /** Optimizer steps to the target (finite, > 0). */
  readonly steps: number;
}

export interface Bounded {
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
}

export type ProfileRegime = 'fit' | 'b_crit_below_range' | 'b_crit_above_range';

export interface ProfileFit {
  readonly bCrit: Bounded;
  readonly sMin: Bounded;
  readonly eMin: Bounded;
  readonly regime: ProfileRegime;
  /** Points (seeds) in the fit and distinct batch sizes among them. */
  readonly points: number;
  readonly batchSizes: number;
  /** √(RSS/n) in natural-log units: the typical relative residual of one seed. */
  readonly rmsLogResidual: number;
}

const NONE: Bounded = { estimate: NaN, lo: NaN, hi: NaN };
const GRID_PAD = 7;
const GRID_STEP = 0.02;

interface Data {
  readonly y: Float64Array;
  readonly invB: Float64Array;
  readonly logB: Float64Array;
  readonly n: number;
}

/** RSS and best log S_min for fixed c (c = Infinity: log S = log E − log B). */
function rssAtC(d: Data, c: number): { rss: number; alpha: number } {
  let sum = 0;
  const r = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) {
    r[i] = c === Infinity ? d.y[i]! + d.logB[i]! : d.y[i]! - Math.log1p(c * d.invB[i]!);
    sum += r[i]!;
  }
  const alpha = sum / d.n;
  let rss = 0;
  for (let i = 0; i < d.n; i++) rss += (r[i]! - alpha) ** 2;
  return { rss, alpha };
}

/** RSS for fixed log S_min = alpha and c (finite). */
function rssAlphaC(d: Data, alpha: number, c: number): number {
  let rss = 0;
  for (let i = 0; i < d.n; i++) rss += (d.y[i]! - alpha - Math.log1p(c * d.invB[i]!)) ** 2;
  return rss;
}

/** RSS for fixed log E_min = beta and c (c > 0; Infinity allowed): log S = β + log(1/c + 1/B). */
function rssBetaC(d: Data, beta: number, c: number): number {
  let rss = 0;
  for (let i = 0; i < d.n; i++) {
    const model = beta + (c === Infinity ? -d.logB[i]! : Math.log(1 / c + d.invB[i]!));
    rss += (d.y[i]! - model) ** 2;
  }
  return rss;
}

/** Minimise f over log c on [lo, hi] by golden section (f unimodal there). */
function golden(f: (u: number) => number, lo: number, hi: number): { u: number; value: number } {
  const g = (Math.sqrt(5) - 1) / 2;
  let a = lo;
  let b = hi;
  let x1 = b - g * (b - a);
  let x2 = a + g * (b - a);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let k = 0; k < 60 && b - a > 1e-9; k++) {
    if (f1 <= f2) {
      b = x2;
      x2 = x1;
      f2 = f1;
      x1 = b - g * (b - a);
      f1 = f(x1);
    } else {
      a = x1;
      x1 = x2;
      f1 = f2;
      x2 = a + g * (b - a);
      f2 = f(x2);
    }
  }
  return f1 <= f2 ? { u: x1, value: f1 } : { u: x2, value: f2 };
}

/** The grid of log c and the minimum of g over it, its limits (c = 0 and/or ∞) included, refined. */
function minimiseOverC(grid: readonly number[], g: (c: number) => number, withZero: boolean): { c: number; value: number } {
  let best = { c: Infinity, value: g(Infinity) };
  if (withZero) {
    const zero = g(0);
    if (zero <= best.value) best = { c: 0, value: zero };
  }
  let bestIndex = -1;
  for (let k = 0; k < grid.length; k++) {
    const value = g(Math.exp(grid[k]!));
    if (value < best.value) {
      best = { c: Math.exp(grid[k]!), value };
      bestIndex = k;
    }
  }
  if (bestIndex >= 0) {
    const lo = grid[Math.max(0, bestIndex - 1)]!;
    const hi = grid[Math.min(grid.length - 1, bestIndex + 1)]!;
    const refined = golden((u) => g(Math.exp(u)), lo, hi);
    if (refined.value < best.value) best = { c: Math.exp(refined.u), value: refined.value };
  }
  return best;
}

/**
 * The end of {θ : profile(θ) ≤ threshold} in direction `dir` from θ0 (profile(θ0) ≤ threshold), or ±Infinity when it
 * never crosses within `reach`.
 */
function boundary(profile: (theta: number) => number, theta0: number, dir: 1 | -1, threshold: number, reach = 40): number {
  let inside = theta0;
  let step = 0.01;
  let outside = NaN;
  while (Math.abs(inside + dir * step - theta0) <= reach) {
    const theta = theta0 + dir * step;
    if (profile(theta) > threshold) {
      outside = theta;
      break;
    }
    inside = theta;
    step *= 2;
  }
  if (Number.isNaN(outside)) return dir * Infinity;
  for (let k = 0; k < 50 && Math.abs(outside - inside) > 1e-6; k++) {
    const mid = (inside + outside) / 2;
    if (profile(mid) > threshold) outside = mid;
    else inside = mid;
  }
  return (inside + outside) / 2;
}

/** Fit S = S_min(1 + B_crit/B) to seed points with profile-likelihood intervals at `confidence` (default 0.95). */
export function fitProfile(points: readonly SeedPoint[], confidence = 0.95): ProfileFit {
  const usable = points.filter((p) => Number.isFinite(p.steps) && p.steps > 0 && Number.isFinite(p.batchSize) && p.batchSize > 0);
  const batchSizes = new Set(usable.map((p) => p.batchSize)).size;
  if (batchSizes < 2) return { bCrit: NONE, sMin: NONE, eMin: NONE, regime: 'fit', points: usable.length, batchSizes, rmsLogResidual: NaN };
  const n = usable.length;
  const d: Data = {
    y: Float64Array.from(usable, (p) => Math.log(p.steps)),
    invB: Float64Array.from(usable, (p) => 1 / p.batchSize),
    logB: Float64Array.from(usable, (p) => Math.log(p.batchSize)),
    n,
  };
  const bs = usable.map((p) => p.batchSize);
  const uLo = Math.log(Math.min(...bs)) - GRID_PAD;
  const uHi = Math.log(Math.max(...bs)) + GRID_PAD;
  const grid: number[] = [];
  for (let u = uLo; u <= uHi + 1e-12; u += GRID_STEP) grid.push(u);

  const best = minimiseOverC(grid, (c) => rssAtC(d, c).rss, true);
  const rssMin = best.value;
  const cHat = best.c;
  const alphaHat = rssAtC(d, cHat).alpha;
  const sMinHat = cHat === Infinity ? 0 : Math.exp(alphaHat);
  // At c = ∞ alpha is log E_min; elsewhere log E_min = log S_min + log c (−∞ at c = 0).
  const betaHat = cHat === Infinity ? alphaHat : alphaHat + Math.log(cHat);
  const eMinHat = Math.exp(betaHat);
  const rmsLogResidual = Math.sqrt(rssMin / n);

  const df = n - 2;
  if (df < 1) {
    return {
      bCrit: { estimate: cHat, lo: 0, hi: Infinity },
      sMin: { estimate: sMinHat, lo: 0, hi: Infinity },
      eMin: { estimate: eMinHat, lo: 0, hi: Infinity },
      regime: cHat === 0 ? 'b_crit_below_range' : cHat === Infinity ? 'b_crit_above_range' : 'fit',
      points: n,
      batchSizes,
      rmsLogResidual,
    };
  }
  const t = tQuantile(1 - (1 - confidence) / 2, df);
  // A floor on σ̂² keeps exact (noiseless) data from giving an empty-width search a zero threshold.
  const threshold = rssMin + Math.max(rssMin / df, 1e-24) * t * t;

  // B_crit: the accepted set of log c, its limits included.
  const inC = (c: number) => rssAtC(d, c).rss <= threshold;
  let bLo: number;
  let bHi: number;
  if (inC(0)) bLo = 0;
  else {
    const u0 = cHat === Infinity ? uHi : Math.log(cHat);
    bLo = Math.exp(boundary((u) => rssAtC(d, Math.exp(u)).rss, u0, -1, threshold, u0 - uLo + 20));
  }
  if (inC(Infinity)) bHi = Infinity;
  else {
    const u0 = cHat === 0 ? uLo : Math.log(cHat);
    bHi = Math.exp(boundary((u) => rssAtC(d, Math.exp(u)).rss, u0, 1, threshold, uHi - u0 + 20));
  }

  // Profiles of S_min and E_min minimise over c on a coarser grid (refined by golden section all the same).
  const coarse = grid.filter((_, k) => k % 5 === 0);
  // S_min: profile over log S_min, minimising over c in [0, grid max].
  const profileAlpha = (alpha: number) => minimiseOverC(coarse, (c) => (c === Infinity ? Infinity : rssAlphaC(d, alpha, c)), true).value;
  const alpha0 = cHat === Infinity ? betaHat - uHi : alphaHat;
  const aLo = cHat === Infinity ? -Infinity : boundary(profileAlpha, alpha0, -1, threshold);
  const aHi = boundary(profileAlpha, alpha0, 1, threshold);

  // E_min: profile over log E_min, minimising over c in (0, ∞].
  const profileBeta = (beta: number) => minimiseOverC(coarse, (c) => rssBetaC(d, beta, c), false).value;
  const beta0 = cHat === 0 ? alphaHat + uLo : betaHat;
  const eLo = cHat === 0 ? -Infinity : boundary(profileBeta, beta0, -1, threshold);
  const eHi = boundary(profileBeta, beta0, 1, threshold);

  // Outside the batch sizes tried with an open-ended interval, B_crit has only a bound.
  const regime: ProfileRegime =
    cHat > Math.max(...bs) && bHi === Infinity ? 'b_crit_above_range' : cHat < Math.min(...bs) && bLo === 0 ? 'b_crit_below_range' : 'fit';
  return {
    bCrit: { estimate: cHat, lo: Math.min(bLo, cHat), hi: Math.max(bHi, cHat) },
    sMin: { estimate: sMinHat, lo: Math.min(Math.exp(aLo), sMinHat), hi: Math.max(Math.exp(aHi), sMinHat) },
    eMin: { estimate: cHat === 0 ? 0 : eMinHat, lo: cHat === 0 ? 0 : Math.min(Math.exp(eLo), eMinHat), hi: Math.max(Math.exp(eHi), cHat === 0 ? 0 : eMinHat) },
    regime,
    points: n,
    batchSizes,
    rmsLogResidual,
  };
}
