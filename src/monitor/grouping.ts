/**
 * The default, correlation-aware grouping: contiguous blocks of each env's segment, long enough that correlations
 * beyond the neighbouring block are negligible, with neighbour terms in the estimator (estimator.ts) for the
 * correlation across a block boundary.
 *
 * Why: samples of one env's rollout are correlated in time (the advantage of step t sums rewards far ahead; the value
 * error changes slowly with the state), so the noise a batch of whole segments carries is not the per-sample noise:
 * tr(Σ_eff) = Σ_l γ(l) (γ the trace autocovariance of the per-sample gradients along a segment, up to edge effects),
 * while per-sample grouping reports only γ(0). Over a 500k-step cartpole-ppo run the value gradient's effective trace
 * is 7–50× its per-sample trace (τ ≈ 20 steps) and the policy's about 1×. Whole segments are unbiased for the batch but give as few groups
 * as there are envs (4 in cartpole-ppo: 3 degrees of freedom per measurement); blocks give more.
 *
 * How long: with neighbour terms a block misses only the covariance of sample pairs more than one block apart. We
 * measure the integrated autocorrelation time τ = 1 + 2Σ_{l≥1} ρ(l) of the gradients along the segments from random
 * projections p_i = g_i·w (E[wwᵀ] = I, so E[p_i p_j] = g_i·g_j averaged over directions; stacked.ts), pooled over
 * measurements with exponential weights over `emaHorizon` env steps, with Sokal's automatic window (sum lags up to
 * the first W ≥ 5τ(W)); the lag products are accumulated every `AUTOCORR_EVERY`-th measurement (their cost in plain
 * TypeScript is n × projections × lags). Blocks are then at least `BLOCK_TAU_FACTOR`·τ long: for an AR(1)-like decay
 * ρ(l) = φ^l (τ = (1+φ)/(1−φ)) the covariance left beyond 2τ is φ^{2τ} ≈ e⁻⁴ ≈ 2% of the long-run variance. The
 * first measurement, before any τ is known, uses whole segments. One block length serves all components (the most
 * correlated one sets it), so the total's statistics can reuse the value's.
 *
 * Fewer than `MIN_GROUPS` groups (few envs, strongly correlated gradients): the monitor warns once. Single
 * measurements are then poorly resolved, but the smoothed and windowed figures pool many measurements, and the
 * variance of |G|² (which dominates B_simple's uncertainty once B_simple ≫ batch) hardly depends on the number of
 * groups: 4ζ1/n + (2tr(Σ²)/n²)·K/(K−1).
 */
import type { NoiseComponent } from '../core/components.js';
import { blockGroups, segmentRuns, type GroupAssignment } from './groups.js';

/** Blocks are at least this many autocorrelation times long. */
export const BLOCK_TAU_FACTOR = 2;
/** Below this many groups a measurement is poorly resolved (warned about once). */
export const MIN_GROUPS = 16;
/** Random projections per measurement for the autocorrelation. */
export const PROJECTIONS = 8;
/** The autocorrelation is updated at every this-many-th measurement (and at the first ones). */
export const AUTOCORR_EVERY = 4;
/** Sokal's window constant. */
const SOKAL_C = 5;

/** τ = 1 + 2Σ_{l=1}^{W} ρ(l) with Sokal's window: the smallest W with W ≥ c·τ(W) (or the last lag available). */
export function integratedTime(acf: ArrayLike<number>): { tau: number; window: number } {
  let tau = 1;
  for (let w = 1; w < acf.length; w++) {
    tau += 2 * acf[w]!;
    if (w >= SOKAL_C * tau) return { tau: Math.max(tau, 1e-3), window: w };
  }
  return { tau: Math.max(tau, 1e-3), window: acf.length - 1 };
}

/**
 * Pooled autocorrelation of projected gradients along env segments, per component: lag products of the centred
 * projections summed over segments and directions, divided by their counts, exponentially weighted by age in env steps.
 */
export class AutocorrelationTracker {
  private readonly sums = new Map<NoiseComponent, { products: Float64Array; counts: Float64Array; lastSteps: number }>();

  constructor(
    private readonly horizon: number,
    private readonly maxLag: number,
  ) {}

  /** Add one measurement's projections ([n × R], sample-major) along the segments. */
  add(component: NoiseComponent, projections: ArrayLike<number>, segments: ArrayLike<number>, count: number, envSteps: number): void {
    const n = segments.length;
    const runs = segmentRuns(segments);
    const longest = Math.max(...runs.map((r) => r.end - r.start));
    const lags = Math.min(this.maxLag, longest - 1);
    if (lags < 1) return;
    let entry = this.sums.get(component);
    if (!entry) {
      entry = { products: new Float64Array(this.maxLag + 1), counts: new Float64Array(this.maxLag + 1), lastSteps: envSteps };
      this.sums.set(component, entry);
    }
    const decay = Math.exp(-Math.max(0, envSteps - entry.lastSteps) / this.horizon);
    for (let l = 0; l <= this.maxLag; l++) {
      entry.products[l]! *= decay;
      entry.counts[l]! *= decay;
    }
    entry.lastSteps = envSteps;
    const centred = new Float64Array(n);
    for (let r = 0; r < count; r++) {
      let mean = 0;
      for (let i = 0; i < n; i++) mean += projections[i * count + r]!;
      mean /= n;
      for (let i = 0; i < n; i++) centred[i] = projections[i * count + r]! - mean;
      for (const { start, end } of runs) {
        for (let l = 0; l <= Math.min(lags, end - start - 1); l++) {
          let s = 0;
          for (let t = start; t + l < end; t++) s += centred[t]! * centred[t + l]!;
          entry.products[l]! += s;
          entry.counts[l]! += end - start - l;
        }
      }
    }
  }

  /** ρ(l) for l = 0.. (empty before any data). */
  acf(component: NoiseComponent): Float64Array {
    const entry = this.sums.get(component);
    if (!entry || !(entry.counts[0]! > 0)) return new Float64Array(0);
    let last = 0;
    while (last + 1 <= this.maxLag && entry.counts[last + 1]! > 0) last++;
    const g0 = entry.products[0]! / entry.counts[0]!;
    return Float64Array.from({ length: last + 1 }, (_, l) => entry.products[l]! / entry.counts[l]! / g0);
  }

  /** Integrated autocorrelation time (NaN before any data). */
  tau(component: NoiseComponent): number {
    const acf = this.acf(component);
    return acf.length > 1 ? integratedTime(acf).tau : NaN;
  }
}

/**
 * Blocks for the default grouping: `fixed` steps when set, else BLOCK_TAU_FACTOR·τ (whole segments while τ is
 * unknown), never longer than a segment. Where all segments have the same length T (fixed-length rollouts) the
 * number of blocks per segment is the largest divisor of T that keeps blocks that long, so blocks are equal and
 * contiguous (a reshape lays them out; unequal blocks need a gather, which is slow on wasm).
 */
export function defaultBlocks(segments: ArrayLike<number>, tau: number, fixed: number | null): { groups: GroupAssignment; length: number } {
  const runs = segmentRuns(segments);
  const lengths = runs.map((r) => r.end - r.start);
  const segmentLength = Math.max(...lengths);
  let length: number;
  if (fixed !== null) length = Math.min(fixed, segmentLength);
  else if (!Number.isFinite(tau)) length = segmentLength;
  else length = Math.min(segmentLength, Math.max(2, Math.ceil(BLOCK_TAU_FACTOR * tau)));
  let perSegment = Math.max(1, Math.floor(segmentLength / length));
  if (lengths.every((l) => l === segmentLength)) while (segmentLength % perSegment !== 0) perSegment--;
  const groups = blockGroups(segments, segmentLength / perSegment);
  return { groups, length: segmentLength / perSegment };
}
