/**
 * noise.csv: its columns and how one row is filled from a measurement's estimates and the series' smoothed figures.
 * NaN means "no value" (unresolved figures, a measurement with < 3 groups, preconditioned or B_noise columns when
 * off or not measured at this update); an unresolved interval has hi = +∞. Flags are 0/1.
 */
import type { MonitorConfig } from '../config/schema.js';
import type { NoiseComponent } from '../core/components.js';
import type { NoiseEstimate } from './estimator.js';
import type { NoiseMoments } from './intervals.js';
import type { TrackedFigures } from './tracker.js';

/** noise.csv columns, in order. */
export const NOISE_COLUMNS = [
  'update',
  'env_steps',
  'component',
  'layer',
  'grouping',
  'method',
  'n_groups',
  'block_steps',
  'autocorr_time',
  'b_small',
  'b_big',
  'big_batch_grad_sq',
  'grad_sq',
  'grad_sq_se',
  'trace_sigma',
  'trace_sigma_se',
  'grad_trace_cov',
  'b_simple_raw',
  'b_simple_raw_lo',
  'b_simple_raw_hi',
  'raw_resolved',
  'grad_sq_ema',
  'grad_sq_ema_se',
  'trace_sigma_ema',
  'trace_sigma_ema_se',
  'ema_measurements',
  'b_simple',
  'b_simple_lo',
  'b_simple_hi',
  'resolved',
  'inv_b_simple',
  'inv_b_simple_lo',
  'inv_b_simple_hi',
  'b_simple_window',
  'b_simple_window_lo',
  'b_simple_window_hi',
  'window_resolved',
  'window_measurements',
  'grad_sq_per_sample',
  'trace_sigma_per_sample',
  'b_simple_per_sample',
  'b_simple_per_sample_lo',
  'b_simple_per_sample_hi',
  'per_sample_resolved',
  'b_simple_per_sample_window',
  'inflation',
  'inflation_ema',
  'pre_grad_sq',
  'pre_trace_sigma',
  'pre_grad_sq_ema',
  'pre_trace_sigma_ema',
  'pre_b_simple',
  'pre_b_simple_lo',
  'pre_b_simple_hi',
  'pre_resolved',
  'trace_h_sigma',
  'trace_h_sigma_se',
  'g_h_g',
  'g_h_g_se',
  'b_noise_raw',
  'trace_h_sigma_ema',
  'g_h_g_ema',
  'b_noise',
  'b_noise_lo',
  'b_noise_hi',
  'b_noise_resolved',
  'b_noise_window',
  'b_noise_window_lo',
  'b_noise_window_hi',
  'b_noise_window_resolved',
  'pre_b_noise',
  'pre_b_noise_lo',
  'pre_b_noise_hi',
  'pre_b_noise_resolved',
  'measure_ms',
  'b_noise_ms',
] as const;

export type NoiseColumn = (typeof NOISE_COLUMNS)[number];

export type NoiseRow = {
  update: number;
  env_steps: number;
  component: NoiseComponent;
  /** `all` for the component's row; `layer0`, ... (or variable names) in `layerRows` when `perLayer`. */
  layer: string;
  grouping: MonitorConfig['grouping'];
  method: 'fast' | 'fallback';
  n_groups: number;
  /** Samples per block with grouping `block` (the mean block length), else NaN. */
  block_steps: number;
  /** The pooled integrated autocorrelation time of the component's gradients along a segment, in env steps. */
  autocorr_time: number;
  /** n/K: the mean group size. */
  b_small: number;
  /** n: samples in the rollout. */
  b_big: number;
  /** |ḡ|² of the whole rollout's mean gradient. */
  big_batch_grad_sq: number;
  /** Single-measurement unbiased |G|² (raw, may be negative) and its jackknife standard error. */
  grad_sq: number;
  grad_sq_se: number;
  /** Single-measurement tr(Σ) (the effective per-sample noise of the grouping) and its standard error. */
  trace_sigma: number;
  trace_sigma_se: number;
  /** Jackknife covariance of the two single-measurement estimates (for pooling them elsewhere). */
  grad_trace_cov: number;
  /** tr(Σ)/|G|² of this measurement alone (NaN unless resolved) and its Fieller interval. */
  b_simple_raw: number;
  b_simple_raw_lo: number;
  b_simple_raw_hi: number;
  raw_resolved: 0 | 1;
  grad_sq_ema: number;
  grad_sq_ema_se: number;
  trace_sigma_ema: number;
  trace_sigma_ema_se: number;
  /** Effective number of measurements in the EMAs, (Σw)²/Σw². */
  ema_measurements: number;
  /** trace_sigma_ema / grad_sq_ema, NaN unless resolved; the headline figure. */
  b_simple: number;
  b_simple_lo: number;
  b_simple_hi: number;
  resolved: 0 | 1;
  /** grad_sq_ema / trace_sigma_ema (per-sample signal-to-noise), always defined, with its interval. */
  inv_b_simple: number;
  inv_b_simple_lo: number;
  inv_b_simple_hi: number;
  /** Ratio of means over the measurements of the last `windowSteps` env steps. */
  b_simple_window: number;
  b_simple_window_lo: number;
  b_simple_window_hi: number;
  window_resolved: 0 | 1;
  window_measurements: number;
  /** The same figures with single samples as groups (correlation ignored; the pre-v2 default), NaN on the fallback. */
  grad_sq_per_sample: number;
  trace_sigma_per_sample: number;
  b_simple_per_sample: number;
  b_simple_per_sample_lo: number;
  b_simple_per_sample_hi: number;
  per_sample_resolved: 0 | 1;
  b_simple_per_sample_window: number;
  /** trace_sigma / trace_sigma_per_sample: how much the rollout's correlation inflates the noise (this measurement, EMA). */
  inflation: number;
  inflation_ema: number;
  /** Preconditioned tr(PΣP) and |PG|² (raw, EMA) and their ratio; NaN when `preconditioned` is off or P not available. */
  pre_grad_sq: number;
  pre_trace_sigma: number;
  pre_grad_sq_ema: number;
  pre_trace_sigma_ema: number;
  pre_b_simple: number;
  pre_b_simple_lo: number;
  pre_b_simple_hi: number;
  pre_resolved: 0 | 1;
  /** B_noise parts of this measurement (signed: GᵀHG may be ≤ 0) with standard errors; NaN when not measured now. */
  trace_h_sigma: number;
  trace_h_sigma_se: number;
  g_h_g: number;
  g_h_g_se: number;
  b_noise_raw: number;
  /** Smoothed B_noise parts and tr(HΣ)/GᵀHG (as they stand, also on rows without a B_noise measurement). */
  trace_h_sigma_ema: number;
  g_h_g_ema: number;
  b_noise: number;
  b_noise_lo: number;
  b_noise_hi: number;
  b_noise_resolved: 0 | 1;
  b_noise_window: number;
  b_noise_window_lo: number;
  b_noise_window_hi: number;
  b_noise_window_resolved: 0 | 1;
  /** tr(PHPΣ)/(GᵀPHPG) with the optimizer's preconditioner, smoothed. */
  pre_b_noise: number;
  pre_b_noise_lo: number;
  pre_b_noise_hi: number;
  pre_b_noise_resolved: 0 | 1;
  /** Wall time of this measurement's gradient statistics (all components together), and of its B_noise part. */
  measure_ms: number;
  b_noise_ms: number;
};

const flag = (b: boolean): 0 | 1 => (b ? 1 : 0);

/** What one component's row is made of. */
export interface RowParts {
  readonly update: number;
  readonly envSteps: number;
  readonly component: NoiseComponent;
  readonly layer: string;
  readonly grouping: MonitorConfig['grouping'];
  readonly method: 'fast' | 'fallback';
  readonly blockSteps: number;
  readonly autocorrTime: number;
  readonly estimate: NoiseEstimate;
  readonly figures: TrackedFigures;
  readonly perSample: { readonly estimate: NoiseMoments; readonly figures: TrackedFigures } | null;
  readonly preconditioned: TrackedFigures | null;
  readonly bNoise: TrackedFigures | null;
  readonly preBNoise: TrackedFigures | null;
  readonly measureMs: number;
  readonly bNoiseMs: number;
}

export function buildRow(p: RowParts): NoiseRow {
  const { estimate, figures } = p;
  const raw = figures.raw!;
  const ema = figures.ema;
  const sample = p.perSample;
  const pre = p.preconditioned;
  const bn = p.bNoise;
  const bnRaw = bn?.raw ?? null;
  return {
    update: p.update,
    env_steps: p.envSteps,
    component: p.component,
    layer: p.layer,
    grouping: p.grouping,
    method: p.method,
    n_groups: estimate.groups,
    block_steps: p.blockSteps,
    autocorr_time: p.autocorrTime,
    b_small: estimate.bSmall,
    b_big: estimate.n,
    big_batch_grad_sq: estimate.bigBatchGradSq,
    grad_sq: estimate.gradSq,
    grad_sq_se: raw.gradSqSe,
    trace_sigma: estimate.traceSigma,
    trace_sigma_se: raw.traceSigmaSe,
    grad_trace_cov: estimate.covariance,
    b_simple_raw: raw.bSimple,
    b_simple_raw_lo: raw.lo,
    b_simple_raw_hi: raw.hi,
    raw_resolved: flag(raw.resolved),
    grad_sq_ema: ema.gradSq,
    grad_sq_ema_se: ema.gradSqSe,
    trace_sigma_ema: ema.traceSigma,
    trace_sigma_ema_se: ema.traceSigmaSe,
    ema_measurements: figures.emaCount,
    b_simple: ema.bSimple,
    b_simple_lo: ema.lo,
    b_simple_hi: ema.hi,
    resolved: flag(ema.resolved),
    inv_b_simple: ema.inverse,
    inv_b_simple_lo: ema.inverseLo,
    inv_b_simple_hi: ema.inverseHi,
    b_simple_window: figures.window.bSimple,
    b_simple_window_lo: figures.window.lo,
    b_simple_window_hi: figures.window.hi,
    window_resolved: flag(figures.window.resolved),
    window_measurements: figures.windowCount,
    grad_sq_per_sample: sample ? sample.estimate.gradSq : NaN,
    trace_sigma_per_sample: sample ? sample.estimate.traceSigma : NaN,
    b_simple_per_sample: sample ? sample.figures.ema.bSimple : NaN,
    b_simple_per_sample_lo: sample ? sample.figures.ema.lo : NaN,
    b_simple_per_sample_hi: sample ? sample.figures.ema.hi : NaN,
    per_sample_resolved: flag(sample?.figures.ema.resolved ?? false),
    b_simple_per_sample_window: sample ? sample.figures.window.bSimple : NaN,
    inflation: sample ? estimate.traceSigma / sample.estimate.traceSigma : NaN,
    inflation_ema: sample ? ema.traceSigma / sample.figures.ema.traceSigma : NaN,
    pre_grad_sq: pre?.raw?.gradSq ?? NaN,
    pre_trace_sigma: pre?.raw?.traceSigma ?? NaN,
    pre_grad_sq_ema: pre ? pre.ema.gradSq : NaN,
    pre_trace_sigma_ema: pre ? pre.ema.traceSigma : NaN,
    pre_b_simple: pre ? pre.ema.bSimple : NaN,
    pre_b_simple_lo: pre ? pre.ema.lo : NaN,
    pre_b_simple_hi: pre ? pre.ema.hi : NaN,
    pre_resolved: flag(pre?.ema.resolved ?? false),
    trace_h_sigma: bnRaw ? bnRaw.traceSigma : NaN,
    trace_h_sigma_se: bnRaw ? bnRaw.traceSigmaSe : NaN,
    g_h_g: bnRaw ? bnRaw.gradSq : NaN,
    g_h_g_se: bnRaw ? bnRaw.gradSqSe : NaN,
    b_noise_raw: bnRaw ? bnRaw.bSimple : NaN,
    trace_h_sigma_ema: bn ? bn.ema.traceSigma : NaN,
    g_h_g_ema: bn ? bn.ema.gradSq : NaN,
    b_noise: bn ? bn.ema.bSimple : NaN,
    b_noise_lo: bn ? bn.ema.lo : NaN,
    b_noise_hi: bn ? bn.ema.hi : NaN,
    b_noise_resolved: flag(bn?.ema.resolved ?? false),
    b_noise_window: bn ? bn.window.bSimple : NaN,
    b_noise_window_lo: bn ? bn.window.lo : NaN,
    b_noise_window_hi: bn ? bn.window.hi : NaN,
    b_noise_window_resolved: flag(bn?.window.resolved ?? false),
    pre_b_noise: p.preBNoise ? p.preBNoise.ema.bSimple : NaN,
    pre_b_noise_lo: p.preBNoise ? p.preBNoise.ema.lo : NaN,
    pre_b_noise_hi: p.preBNoise ? p.preBNoise.ema.hi : NaN,
    pre_b_noise_resolved: flag(p.preBNoise?.ema.resolved ?? false),
    measure_ms: p.measureMs,
    b_noise_ms: p.bNoiseMs,
  };
}
