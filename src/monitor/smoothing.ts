/**
 * Combining measurements: weighted pooling (ratio of means), exponential moving averages over env steps and windows
 * in env steps. Each keeps separate sums of the two estimates (|G|² and tr(Σ), or their H-norm versions) and their
 * (co)variances, and the figure is the ratio of the sums — never an average of ratios.
 *
 * Variances are propagated from the per-measurement jackknife variances as Var(Σ w_t x_t / Σ w_t) = Σ w_t² v_t / (Σ w_t)²
 * (measurements come from fresh rollouts, hence independent), with Welch–Satterthwaite degrees of freedom. The interval
 * covers the weighted mean of the true values over the horizon; it does not include the lag of a drifting target.
 */
import { hasFiniteMoments, type NoiseMoments } from './intervals.js';

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

/**
 * Ratio of means over the measurements of the last `steps` env steps (equal weights): a measurement taken at s is in
 * the window at `envSteps` when envSteps − s < steps. Set in env steps, like the EMA horizon, so the window means the
 * same stretch of training whatever the batch size or measuring interval.
 */
export class NoiseWindow {
  readonly steps: number;
  private readonly items: { moments: NoiseMoments; envSteps: number }[] = [];

  constructor(steps: number) {
    if (!(steps > 0)) throw new RangeError(`NoiseWindow: steps must be > 0 env steps (got ${steps})`);
    this.steps = steps;
  }

  add(m: NoiseMoments, envSteps: number): boolean {
    if (!hasFiniteMoments(m)) return false;
    this.items.push({ moments: m, envSteps });
    while (this.items.length > 0 && envSteps - this.items[0]!.envSteps >= this.steps) this.items.shift();
    return true;
  }

  moments(): NoiseMoments & { count: number } {
    return poolMoments(this.items.map((item) => item.moments));
  }
}
