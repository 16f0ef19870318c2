/**
 * B_noise = tr(HΣ)/(GᵀHG) (McCandlish et al. 2018, eq. 2.8) from cross-fitted H-norm statistics, as pure functions.
 *
 * The two-batch identity holds in any inner product, so with ⟨a, b⟩_H = aᵀHb: E⟨h_k, h_k⟩_H = GᵀHG + tr(HΣ)/m_k for
 * a group mean h_k, and the pairwise estimator of estimator.ts applies unchanged to H-norm sums (near pairs, neighbour
 * terms and all). H is not known; it is the curvature of the loss's local model, estimated from data: H̄_Y = Σ_j H_j/n_Y,
 * H_j the Hessian of unit j's summed curvature loss. Using the same samples for the directions and for H would add a
 * bias of the signal's order (h_kᵀH_k h_k correlates the noise of h_k with that of H_k), so we CROSS-FIT: the envs are
 * split into halves A and B; directions (group sums u_k) come from A with curvature from B, then the other way round,
 * and the two estimates are averaged. Given H̄_Y each half's estimate is unbiased for the H̄_Y-norm figures, and
 * E H̄_Y = H, so the average is unbiased for tr(HΣ) and GᵀHG (both linear in H).
 *
 * Inputs per half X (curvature.ts measures them by Hessian-vector products): for direction unit k ∈ X and curvature
 * unit j ∈ Y, q_kj = u_kᵀH_j u_k, a_kj = u_{k+1}ᵀH_j u_k (k, k+1 neighbours in X) and d_kj = U_XᵀH_j u_k.
 *
 * Uncertainty: a stratified delete-one-unit jackknife over all units of both halves. Deleting unit g ∈ A removes it
 * as a direction from the A→B estimate AND its curvature from the B→A estimate (H̄_A without H_g), so the variance
 * includes the noise of the estimated curvature, not only that of the directions. Variance =
 * Σ_halves (K_h − 1)/K_h Σ_{g∈h} (θ₋g − θ̄_h)², df = K − 2.
 */
import { pairwiseEstimate } from './estimator.js';
import type { NoiseMoments } from './intervals.js';

/** One half's H-norm measurements: directions from this half, curvature from the other. */
export interface CrossFitHalf {
  /** m_k of the direction units. */
  readonly sizes: ArrayLike<number>;
  /** S − 1 flags: direction units k, k + 1 are neighbours in one segment. */
  readonly linked: ArrayLike<number>;
  /** m_j of the other half's (curvature) units. */
  readonly curvatureSizes: ArrayLike<number>;
  /** [S × J] row-major: u_kᵀH_j u_k. */
  readonly q: ArrayLike<number>;
  /** [S × J]: u_{k+1}ᵀH_j u_k (rows of unlinked k are ignored). */
  readonly a: ArrayLike<number>;
  /** [S × J]: U_XᵀH_j u_k. */
  readonly d: ArrayLike<number>;
}

/** The half's pairwise estimate with curvature weights w_j (H̄ = Σ_j w_j H_j), leaving out direction unit `drop`. */
function halfEstimate(half: CrossFitHalf, weights: ArrayLike<number>, drop = -1): { gradSq: number; traceSigma: number } {
  const units = half.sizes.length;
  const curv = half.curvatureSizes.length;
  const weighted = (values: ArrayLike<number>, k: number) => {
    let s = 0;
    for (let j = 0; j < curv; j++) s += weights[j]! * values[k * curv + j]!;
    return s;
  };
  let n = 0;
  let near = 0;
  let nearSizes = 0;
  let total = 0;
  const s = Array.from({ length: units }, (_, k) => weighted(half.q, k));
  const d = Array.from({ length: units }, (_, k) => weighted(half.d, k));
  for (let k = 0; k < units; k++) {
    total += d[k]!;
    if (k === drop) continue;
    const m = half.sizes[k]!;
    n += m;
    near += s[k]!;
    nearSizes += m * m;
    if (k + 1 < units && k + 1 !== drop && half.linked[k]) {
      near += 2 * weighted(half.a, k);
      nearSizes += 2 * m * half.sizes[k + 1]!;
    }
  }
  // Without u_g: (U − u_g)ᵀH(U − u_g) = UᵀHU − 2 u_gᵀHU + u_gᵀHu_g.
  if (drop >= 0) total += -2 * d[drop]! + s[drop]!;
  return pairwiseEstimate({ n, total, near, nearSizes });
}

function curvatureWeights(sizes: ArrayLike<number>, drop = -1): Float64Array {
  let n = 0;
  for (let j = 0; j < sizes.length; j++) if (j !== drop) n += sizes[j]!;
  return Float64Array.from({ length: sizes.length }, (_, j) => (j === drop ? 0 : 1 / n));
}

/** GᵀHG (`gradSq`) and tr(HΣ) (`traceSigma`) of one measurement, averaged over the two cross-fitted halves. */
export function crossFitEstimate(a: CrossFitHalf, b: CrossFitHalf): NoiseMoments & { groups: number } {
  const ua = a.sizes.length;
  const ub = b.sizes.length;
  const none = { gradSq: NaN, traceSigma: NaN, gradSqVar: NaN, traceSigmaVar: NaN, covariance: NaN, df: 0, groups: ua + ub };
  if (a.curvatureSizes.length !== ub || b.curvatureSizes.length !== ua) {
    throw new RangeError(`crossFitEstimate: each half's curvature units must be the other half's direction units (${a.curvatureSizes.length} vs ${ub}, ${b.curvatureSizes.length} vs ${ua})`);
  }
  if (ua < 2 || ub < 2) return none;
  const average = (x: { gradSq: number; traceSigma: number }, y: { gradSq: number; traceSigma: number }) => ({
    gradSq: (x.gradSq + y.gradSq) / 2,
    traceSigma: (x.traceSigma + y.traceSigma) / 2,
  });
  const full = average(halfEstimate(a, curvatureWeights(a.curvatureSizes)), halfEstimate(b, curvatureWeights(b.curvatureSizes)));
  if (ua < 3 || ub < 3) return { ...none, ...full, df: 1 };
  // Unit g of A: a direction of a's estimate and a curvature unit of b's (and the other way round).
  const looA = Array.from({ length: ua }, (_, g) => average(halfEstimate(a, curvatureWeights(a.curvatureSizes), g), halfEstimate(b, curvatureWeights(b.curvatureSizes, g))));
  const looB = Array.from({ length: ub }, (_, g) => average(halfEstimate(a, curvatureWeights(a.curvatureSizes, g)), halfEstimate(b, curvatureWeights(b.curvatureSizes), g)));
  let gradSqVar = 0;
  let traceSigmaVar = 0;
  let covariance = 0;
  for (const loo of [looA, looB]) {
    const k = loo.length;
    const meanG = loo.reduce((s, e) => s + e.gradSq, 0) / k;
    const meanT = loo.reduce((s, e) => s + e.traceSigma, 0) / k;
    const factor = (k - 1) / k;
    for (const e of loo) {
      gradSqVar += factor * (e.gradSq - meanG) ** 2;
      traceSigmaVar += factor * (e.traceSigma - meanT) ** 2;
      covariance += factor * (e.gradSq - meanG) * (e.traceSigma - meanT);
    }
  }
  return { ...full, gradSqVar, traceSigmaVar, covariance, df: ua + ub - 2, groups: ua + ub };
}
