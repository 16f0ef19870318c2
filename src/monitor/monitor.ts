/**
 * The gradient noise monitor: turns the `NoiseProbe` an agent hands over before each update into noise.csv rows and,
 * at the end, the summary's noise figures.
 *
 * Per measurement and component (policy | value | total):
 * - per-group gradient statistics (per-sample.ts; grouping and method from the config; the fast path falls back to
 *   per-group autodiff, with a warning, when the probe does not fit it);
 * - the unbiased single-measurement |G|² and tr(Σ) with jackknife standard errors (estimator.ts), logged raw (the
 *   single-measurement |G|² is often negative: that is expected, never clipped);
 * - separate EMAs of the two over `emaHorizon` env steps, whose ratio is the reported B_simple, and the ratio of
 *   means over the last `window` measurements; both with Fieller intervals at `confidence`, and NaN point values
 *   while |G|² is not significantly > 0 (`resolved` = 0).
 *
 * Default horizon, 20,000 env steps. docs/science.md ("Smoothing, windows and intervals"): on CartPole PPO (batch n = 512) B_simple climbs from ~100 to ~2,400,
 * the single-update |G|² is ≤ 0 half the time, and a 0.9-per-update EMA (a horizon of ~4,900 env steps) still went
 * negative. An EMA over horizon H averages ≈ 2H/n measurements; where B_simple ≫ n the variance of one |G|² estimate
 * is ≈ 2tr(Σ²)/n², so the smoothed |G|² has relative standard error ≈ B_simple/√(r·n·H), r = tr(Σ)²/tr(Σ²) the
 * effective rank of the noise. At B_simple = 2,400, n = 512: ≈ 1.5/√r for H = 4,900 but ≈ 0.75/√r for H = 20,000,
 * resolved for any r ≳ 3, while lagging a 100k-step run by a fifth. Raise it for tasks with B_simple ≫ 10⁴; the
 * window and whole-run ratio-of-means figures and the `resolved` flag show when smoothing was not enough.
 *
 * Intervals are conservative where B_simple ≫ n: the delete-one jackknife behind them overestimates the variance of
 * the |G|² estimate by up to 2× there (its quadratic term counts twice; see estimator.ts), so `resolved` errs on the
 * side of caution.
 */
import { performance } from 'node:perf_hooks';
import { DivergedError, InvalidValueError } from '../core/errors.js';
import type { MonitorConfig } from '../config/schema.js';
import { Rng } from '../core/rng.js';
import {
  estimateNoise,
  hasFiniteMoments,
  noiseScale,
  NoiseSmoother,
  NoiseWindow,
  poolMoments,
  type GroupStats,
  type NoiseEstimate,
  type NoiseMoments,
  type NoiseScale,
} from './estimator.js';
import {
  fallbackGradStats,
  FastPathUnsupportedError,
  fastGradStats,
  groupsFromIds,
  microBatchGroups,
  singleSampleGroups,
  type ComponentGradStats,
  type GradStatsOptions,
  type GroupAssignment,
} from './per-sample.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import type { NoiseProbe, NoiseProbeComponent } from './probe.js';

/** noise.csv columns, in order. */
export const NOISE_COLUMNS = [
  'update',
  'env_steps',
  'component',
  'layer',
  'grouping',
  'method',
  'n_groups',
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
  'pre_grad_sq',
  'pre_trace_sigma',
  'pre_grad_sq_ema',
  'pre_trace_sigma_ema',
  'pre_b_simple',
  'pre_b_simple_lo',
  'pre_b_simple_hi',
  'pre_resolved',
  'measure_ms',
] as const;

export type NoiseColumn = (typeof NOISE_COLUMNS)[number];

/**
 * One noise.csv row. NaN means "no value" (unresolved B_simple, a measurement with < 3 groups, preconditioned columns
 * when off); an unresolved interval has hi = +∞. Flags are 0/1.
 */
export type NoiseRow = {
  update: number;
  env_steps: number;
  component: NoiseComponent;
  /** `all` for the component's row; `layer0`, ... (or variable names) in `layerRows` when `perLayer`. */
  layer: string;
  grouping: MonitorConfig['grouping'];
  method: 'fast' | 'fallback';
  n_groups: number;
  /** n/K: the mean group size. */
  b_small: number;
  /** n: samples in the rollout. */
  b_big: number;
  /** |ḡ|² of the whole rollout's mean gradient. */
  big_batch_grad_sq: number;
  /** Single-measurement unbiased |G|² (raw, may be negative) and its jackknife standard error. */
  grad_sq: number;
  grad_sq_se: number;
  /** Single-measurement unbiased tr(Σ) and its jackknife standard error. */
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
  /** Ratio of means over the last `window` measurements. */
  b_simple_window: number;
  b_simple_window_lo: number;
  b_simple_window_hi: number;
  window_resolved: 0 | 1;
  window_measurements: number;
  /** Preconditioned tr(PΣP) and |PG|² (raw, EMA) and their ratio; NaN when `preconditioned` is off or P not available. */
  pre_grad_sq: number;
  pre_trace_sigma: number;
  pre_grad_sq_ema: number;
  pre_trace_sigma_ema: number;
  pre_b_simple: number;
  pre_b_simple_lo: number;
  pre_b_simple_hi: number;
  pre_resolved: 0 | 1;
  /** Wall time of this component's gradient statistics. */
  measure_ms: number;
};

export interface MeasureContext {
  /** The update about to be made (the trainer counts from 1). */
  readonly update: number;
  /** Env steps consumed so far, including this rollout. */
  readonly envSteps: number;
}

export interface NoiseMonitorOptions {
  /** Stream for random micro-batch partitions (grouping = microbatch); default `new Rng(0).split('monitor')`. */
  readonly rng?: Rng;
  /** Called once per distinct warning (fast path unavailable, ...); they are also kept in `warnings`. */
  readonly onWarning?: (message: string) => void;
}

/** One B_simple figure of the summary. */
export interface NoiseFigure {
  /** tr(Σ)/|G|², NaN unless resolved. */
  readonly bSimple: number;
  readonly lo: number;
  readonly hi: number;
  readonly resolved: boolean;
  readonly gradSq: number;
  readonly traceSigma: number;
  /** Measurements pooled (for `final`: the EMA's effective number). */
  readonly measurements: number;
  readonly envStepsFrom: number;
  readonly envStepsTo: number;
}

export interface ComponentNoiseSummary {
  /** `resolved` when the whole-run ratio of means has |G|² significantly > 0. */
  readonly status: 'resolved' | 'unresolved' | 'no_data';
  readonly method: 'fast' | 'fallback';
  readonly measurements: number;
  /** Ratio of means over all measurements, each measurement weighted equally: mean tr(Σ) / mean |G|². */
  readonly mean: NoiseFigure;
  /** The EMA figure at the last measurement (as in the last noise.csv row). */
  readonly final: NoiseFigure;
  /** Ratio of means over `window` measurements at the start, around 25/50/75% of the run (by env steps), and the end. */
  readonly windows: { readonly start: NoiseFigure; readonly q1: NoiseFigure; readonly q2: NoiseFigure; readonly q3: NoiseFigure; readonly end: NoiseFigure };
  /** Ratio of means within each quarter of the run: env steps in (q·T/4, (q+1)·T/4], T = the last measurement's. */
  readonly quarters: readonly NoiseFigure[];
  /**
   * Growth over training: last quarter / first quarter (ratio of means), when both are resolved, else NaN. Quarters,
   * not the `window`-sized start/end figures, because late in a run B_simple exceeds what a short window resolves.
   */
  readonly growth: number;
  /** A conservative lower bound on growth: last quarter's lower bound / first quarter's upper bound (finite even when
   * the last quarter is unresolved, as long as the first is). */
  readonly growthLo: number;
  /** Preconditioned tr(PΣP)/|PG|², when measured. */
  readonly preconditioned?: { readonly mean: NoiseFigure; readonly final: NoiseFigure };
}

export interface NoiseSummary {
  readonly grouping: MonitorConfig['grouping'];
  readonly confidence: number;
  readonly emaHorizon: number;
  readonly window: number;
  readonly components: Partial<Record<NoiseComponent, ComponentNoiseSummary>>;
  readonly warnings: readonly string[];
}


/** Relative disagreement between the tapped gradient and autodiff above which the fast path is not trusted. */
const VERIFY_TOLERANCE = 1e-3;

interface HistoryEntry {
  readonly update: number;
  readonly envSteps: number;
  readonly moments: NoiseMoments;
}

/** Smoother, window and history of one series (a component, a layer, or a preconditioned series). */
class NoiseTracker {
  readonly smoother: NoiseSmoother;
  readonly window: NoiseWindow;
  readonly history: HistoryEntry[] = [];
  lastEma: { scale: NoiseScale; effectiveCount: number; envSteps: number } | null = null;

  constructor(
    horizon: number,
    windowSize: number,
    private readonly confidence: number,
  ) {
    this.smoother = new NoiseSmoother(horizon);
    this.window = new NoiseWindow(windowSize);
  }

  add(estimate: NoiseEstimate, ctx: MeasureContext): { raw: NoiseScale; ema: NoiseScale; emaCount: number; window: NoiseScale; windowCount: number } {
    if (hasFiniteMoments(estimate)) {
      this.smoother.add(estimate, ctx.envSteps);
      this.window.add(estimate, ctx.envSteps);
      this.history.push({ update: ctx.update, envSteps: ctx.envSteps, moments: estimate });
    }
    const ema = this.smoother.moments();
    const win = this.window.moments();
    const emaScale = noiseScale(ema, this.confidence);
    this.lastEma = { scale: emaScale, effectiveCount: ema.effectiveCount, envSteps: ctx.envSteps };
    return {
      raw: noiseScale(estimate, this.confidence),
      ema: emaScale,
      emaCount: ema.effectiveCount,
      window: noiseScale(win, this.confidence),
      windowCount: win.count,
    };
  }
}

export class NoiseMonitor {
  readonly config: MonitorConfig;
  /** Two-sided confidence of every interval (config `confidence`, default 0.95). */
  readonly confidence: number;
  private readonly rng: Rng;
  private readonly onWarning: ((message: string) => void) | undefined;
  private readonly trackers = new Map<string, NoiseTracker>();
  private readonly methods = new Map<NoiseComponent, 'fast' | 'fallback'>();
  private readonly verified = new Set<NoiseComponent>();
  private readonly warningList: string[] = [];
  private lastMeasured: number | null = null;
  private lastLayerRows: NoiseRow[] = [];

  constructor(config: MonitorConfig, options: NoiseMonitorOptions = {}) {
    this.config = config;
    this.confidence = config.confidence;
    if (!(this.confidence > 0 && this.confidence < 1)) throw new InvalidValueError('monitor.confidence', this.confidence, 'must lie in (0, 1)');
    this.rng = options.rng ?? new Rng(0).split('monitor');
    this.onWarning = options.onWarning;
  }

  /** Whether `measure` would measure at this update: the first update it sees, then every `every` updates. */
  shouldMeasure(update: number): boolean {
    return this.config.enabled && (this.lastMeasured === null || update - this.lastMeasured >= this.config.every);
  }

  /** Distinct warnings so far (e.g. the fast path was not usable for a component). */
  get warnings(): readonly string[] {
    return this.warningList;
  }

  /** Per-layer rows of the last measurement (empty unless `perLayer`); same columns, `layer` ≠ `all`. */
  get layerRows(): readonly NoiseRow[] {
    return this.lastLayerRows;
  }

  /**
   * Measure the noise of every component in the probe (before the update, at the current parameters); one row per
   * component in the order policy, value, total. Returns [] when disabled, not due (see `shouldMeasure`), or the probe
   * is empty (n = 0; then the next update is due).
   * Throws DivergedError when a gradient is not finite. Never disposes the probe's tensors.
   */
  measure(probe: NoiseProbe, ctx: MeasureContext): NoiseRow[] {
    this.lastLayerRows = [];
    if (!this.shouldMeasure(ctx.update)) return [];
    // Nothing to measure (e.g. REINFORCE before its first complete episode): try again at the next update.
    if (probe.n === 0 || NOISE_COMPONENTS.every((c) => probe.components[c] === undefined)) return [];
    const groups = this.groupsFor(probe);
    const rows: NoiseRow[] = [];
    for (const component of NOISE_COMPONENTS) {
      const probeComponent = probe.components[component];
      if (!probeComponent) continue;
      const start = performance.now();
      const stats = this.gradStats(component, probeComponent, groups, probe, ctx.update);
      const measureMs = performance.now() - start;
      const row = this.row(component, 'all', stats.method, stats.total, ctx, measureMs);
      if (stats.preconditioned) {
        const pre = this.tracker(`${component}|pre`).add(estimateNoise(stats.preconditioned), ctx);
        Object.assign(row, {
          pre_grad_sq: pre.raw.gradSq,
          pre_trace_sigma: pre.raw.traceSigma,
          pre_grad_sq_ema: pre.ema.gradSq,
          pre_trace_sigma_ema: pre.ema.traceSigma,
          pre_b_simple: pre.ema.bSimple,
          pre_b_simple_lo: pre.ema.lo,
          pre_b_simple_hi: pre.ema.hi,
          pre_resolved: pre.ema.resolved ? 1 : 0,
        });
      }
      rows.push(row);
      for (const { label, stats: layerStats } of stats.layers) {
        this.lastLayerRows.push(this.row(component, label, stats.method, layerStats, ctx, NaN));
      }
    }
    this.lastMeasured = ctx.update;
    return rows;
  }

  /** Per component: run mean, final figure, quartile windows and quarters (see ComponentNoiseSummary). */
  summary(): NoiseSummary {
    const components: Partial<Record<NoiseComponent, ComponentNoiseSummary>> = {};
    for (const component of NOISE_COMPONENTS) {
      const tracker = this.trackers.get(`${component}|all`);
      if (!tracker) continue;
      const pre = this.trackers.get(`${component}|pre`);
      components[component] = {
        ...summarizeTracker(tracker, this.config.window, this.confidence),
        method: this.methods.get(component) ?? this.config.method,
        ...(pre && pre.history.length > 0
          ? { preconditioned: { mean: pooledFigure(pre.history, this.confidence), final: emaFigure(pre) } }
          : {}),
      };
    }
    return {
      grouping: this.config.grouping,
      confidence: this.confidence,
      emaHorizon: this.config.emaHorizon,
      window: this.config.window,
      components,
      warnings: [...this.warningList],
    };
  }

  private groupsFor(probe: NoiseProbe): GroupAssignment {
    const n = probe.n;
    if (!(Number.isInteger(n) && n >= 1)) throw new InvalidValueError('probe.n', n, 'must be a positive integer');
    switch (this.config.grouping) {
      case 'sample':
        return singleSampleGroups(n);
      case 'microbatch':
        return microBatchGroups(n, this.config.microBatch, this.rng);
      case 'segment':
      case 'episode': {
        const ids = this.config.grouping === 'segment' ? probe.segments : probe.episodes;
        if (ids.length !== n) throw new InvalidValueError(`probe.${this.config.grouping === 'segment' ? 'segments' : 'episodes'}`, ids.length, `must have n = ${n} entries`);
        return groupsFromIds(ids);
      }
    }
  }

  private gradStats(
    component: NoiseComponent,
    probeComponent: NoiseProbeComponent,
    groups: GroupAssignment,
    probe: NoiseProbe,
    update: number,
  ): ComponentGradStats {
    const options: GradStatsOptions = {
      perLayer: this.config.perLayer,
      ...(this.config.preconditioned && probe.preconditioner ? { preconditioner: (v) => probe.preconditioner!(v) } : {}),
    };
    const method = this.methods.get(component) ?? this.config.method;
    if (method === 'fast') {
      try {
        const verify = !this.verified.has(component);
        const stats = fastGradStats(probeComponent, groups, { ...options, verify });
        checkFinite(stats.total, update, component);
        if (!verify) return stats;
        this.verified.add(component);
        if ((stats.verifyError ?? 0) <= VERIFY_TOLERANCE) {
          this.methods.set(component, 'fast');
          return stats;
        }
        this.warn(
          `${component}: the tapped gradient differs from autodiff by ${stats.verifyError!.toExponential(2)} (relative); ` +
            'the probe does not follow the tap contract, using the per-group autodiff fallback',
        );
      } catch (error) {
        if (!(error instanceof FastPathUnsupportedError)) throw error;
        this.warn(`${component}: ${error.message}; using the per-group autodiff fallback`);
      }
      this.methods.set(component, 'fallback');
    }
    const stats = fallbackGradStats(probeComponent, groups, options);
    checkFinite(stats.total, update, component);
    return stats;
  }

  private tracker(key: string): NoiseTracker {
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = new NoiseTracker(this.config.emaHorizon, this.config.window, this.confidence);
      this.trackers.set(key, tracker);
    }
    return tracker;
  }

  private row(component: NoiseComponent, layer: string, method: 'fast' | 'fallback', stats: GroupStats, ctx: MeasureContext, measureMs: number): NoiseRow {
    const estimate = estimateNoise(stats);
    const { raw, ema, emaCount, window, windowCount } = this.tracker(layer === 'all' ? `${component}|all` : `${component}|layer|${layer}`).add(estimate, ctx);
    return {
      update: ctx.update,
      env_steps: ctx.envSteps,
      component,
      layer,
      grouping: this.config.grouping,
      method,
      n_groups: estimate.groups,
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
      raw_resolved: raw.resolved ? 1 : 0,
      grad_sq_ema: ema.gradSq,
      grad_sq_ema_se: ema.gradSqSe,
      trace_sigma_ema: ema.traceSigma,
      trace_sigma_ema_se: ema.traceSigmaSe,
      ema_measurements: emaCount,
      b_simple: ema.bSimple,
      b_simple_lo: ema.lo,
      b_simple_hi: ema.hi,
      resolved: ema.resolved ? 1 : 0,
      inv_b_simple: ema.inverse,
      inv_b_simple_lo: ema.inverseLo,
      inv_b_simple_hi: ema.inverseHi,
      b_simple_window: window.bSimple,
      b_simple_window_lo: window.lo,
      b_simple_window_hi: window.hi,
      window_resolved: window.resolved ? 1 : 0,
      window_measurements: windowCount,
      pre_grad_sq: NaN,
      pre_trace_sigma: NaN,
      pre_grad_sq_ema: NaN,
      pre_trace_sigma_ema: NaN,
      pre_b_simple: NaN,
      pre_b_simple_lo: NaN,
      pre_b_simple_hi: NaN,
      pre_resolved: 0,
      measure_ms: measureMs,
    };
  }

  private warn(message: string): void {
    if (this.warningList.includes(message)) return;
    this.warningList.push(message);
    this.onWarning?.(message);
  }
}

function checkFinite(stats: GroupStats, update: number, component: NoiseComponent): void {
  let finite = Number.isFinite(stats.totalSq);
  for (let k = 0; finite && k < stats.sumSq.length; k++) finite = Number.isFinite(stats.sumSq[k]!) && Number.isFinite(stats.sumDot[k]!);
  if (!finite) throw new DivergedError(update, `${component} gradient (noise monitor)`);
}

function figure(scale: NoiseScale, measurements: number, envStepsFrom: number, envStepsTo: number): NoiseFigure {
  return {
    bSimple: scale.bSimple,
    lo: scale.lo,
    hi: scale.hi,
    resolved: scale.resolved,
    gradSq: scale.gradSq,
    traceSigma: scale.traceSigma,
    measurements,
    envStepsFrom,
    envStepsTo,
  };
}

function pooledFigure(entries: readonly HistoryEntry[], confidence: number): NoiseFigure {
  const pooled = poolMoments(entries.map((e) => e.moments));
  return figure(noiseScale(pooled, confidence), pooled.count, entries[0]?.envSteps ?? NaN, entries[entries.length - 1]?.envSteps ?? NaN);
}

function emaFigure(tracker: NoiseTracker): NoiseFigure {
  const last = tracker.lastEma;
  if (last === null) return figure(noiseScale(poolMoments([]), 0.5), 0, NaN, NaN);
  return figure(last.scale, last.effectiveCount, tracker.history[0]?.envSteps ?? NaN, last.envSteps);
}

function summarizeTracker(tracker: NoiseTracker, windowSize: number, confidence: number): Omit<ComponentNoiseSummary, 'method' | 'preconditioned'> {
  const history = tracker.history;
  const count = history.length;
  // Positions in the run are fractions of the last measurement's env steps (the run starts at 0).
  const runSteps = count > 0 ? history[count - 1]!.envSteps : 0;
  const around = (fraction: number): readonly HistoryEntry[] => {
    if (count === 0) return [];
    const target = fraction * runSteps;
    let centre = 0;
    for (let i = 1; i < count; i++) {
      if (Math.abs(history[i]!.envSteps - target) < Math.abs(history[centre]!.envSteps - target)) centre = i;
    }
    const begin = Math.min(Math.max(0, centre - Math.floor(windowSize / 2)), Math.max(0, count - windowSize));
    return history.slice(begin, begin + windowSize);
  };
  const windows = {
    start: pooledFigure(history.slice(0, windowSize), confidence),
    q1: pooledFigure(around(0.25), confidence),
    q2: pooledFigure(around(0.5), confidence),
    q3: pooledFigure(around(0.75), confidence),
    end: pooledFigure(history.slice(Math.max(0, count - windowSize)), confidence),
  };
  // Quarter q holds the measurements with env steps in (q·T/4, (q+1)·T/4], T = runSteps.
  const quarters = [0, 1, 2, 3].map((q) =>
    pooledFigure(
      history.filter((e) => e.envSteps > (q === 0 ? -Infinity : (q * runSteps) / 4) && e.envSteps <= ((q + 1) * runSteps) / 4),
      confidence,
    ),
  );
  const mean = pooledFigure(history, confidence);
  return {
    status: count === 0 ? 'no_data' : mean.resolved ? 'resolved' : 'unresolved',
    measurements: count,
    mean,
    final: emaFigure(tracker),
    windows,
    quarters,
    growth: quarters[0]!.resolved && quarters[3]!.resolved ? quarters[3]!.bSimple / quarters[0]!.bSimple : NaN,
    growthLo: quarters[0]!.resolved ? quarters[3]!.lo / quarters[0]!.hi : NaN,
  };
}
