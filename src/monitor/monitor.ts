/**
 * The gradient noise monitor: turns the `NoiseProbe` an agent hands over before each update into noise.csv rows and,
 * at the end, the summary's noise figures.
 *
 * Per measurement, for all components (policy | value | total) at once:
 * - factored per-sample gradients (probe.factors(), or autodiff of each component's taps; factors.ts), checked once
 *   per component against ordinary autodiff; components that do not fit fall back, with a warning, to per-group
 *   autodiff (per-sample.ts);
 * - statistics for the configured grouping and for single samples from the same pass (stacked.ts). The default
 *   grouping is contiguous blocks of each env's segment, twice the measured autocorrelation time long (grouping.ts),
 *   with neighbour terms, so tr(Σ) is the effective noise of a batch of correlated rollouts; the per-sample figure is
 *   kept beside it with their ratio, the inflation (rows.ts);
 * - the unbiased single-measurement |G|² and tr(Σ) with jackknife standard errors (estimator.ts), logged raw (the
 *   single-measurement |G|² is often negative: that is expected, never clipped);
 * - separate EMAs of the two over `emaHorizon` env steps, whose ratio is the reported B_simple, and the ratio of means
 *   over the last `windowSteps` env steps; both with Fieller intervals at `confidence` and NaN point values while |G|²
 *   is not significantly > 0 (`resolved` = 0);
 * - with `bNoise`, every `bNoiseEvery` updates: cross-fitted GᵀHG and tr(HΣ) from central-difference Hessian-vector
 *   products of the probe's curvature losses (curvature.ts, h-norm.ts), smoothed the same way.
 *
 * Default horizon, 20,000 env steps. docs/science.md ("Smoothing, windows and intervals"): on CartPole PPO (batch
 * n = 512) B_simple climbs from ~100 to ~2,400, the single-update |G|² is ≤ 0 half the time, and a 0.9-per-update EMA
 * (a horizon of ~4,900 env steps) still went negative. An EMA over horizon H averages ≈ 2H/n measurements; where
 * B_simple ≫ n the variance of one |G|² estimate is ≈ 2tr(Σ²)/n², so the smoothed |G|² has relative standard error
 * ≈ B_simple/√(r·n·H), r = tr(Σ)²/tr(Σ²) the effective rank of the noise. Default window (`windowSteps: auto`): 100
 * measurements' env steps; over M measurements the relative error of |G|² is ≈ (B/n)·√(2/(r·M)), so 100 resolve
 * B_simple ≈ 10 × batch for r ≳ 8.
 */
import * as tf from '@tensorflow/tfjs';
import { DivergedError, InvalidValueError } from '../core/errors.js';
import type { MonitorConfig, RunConfig } from '../config/schema.js';
import { Rng } from '../core/rng.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import { estimateNoise, type GroupStats } from './estimator.js';
import { compareOnRows, FastPathUnsupportedError, mergeFactors, tappedFactors, verifyFactors } from './factors.js';
import { crossFitLayout, measureBNoise, type BNoiseMoments } from './curvature.js';
import { AUTOCORR_EVERY, AutocorrelationTracker, defaultBlocks, MIN_GROUPS, PROJECTIONS } from './grouping.js';
import { groupsFromIds, microBatchGroups, singleSampleGroups, type GroupAssignment } from './groups.js';
import { fallbackGradStats, type ComponentGradStats } from './per-sample.js';
import type { GradientFactors, NoiseProbe } from './probe.js';
import { buildRow, type NoiseRow } from './rows.js';
import { factorStats, type FactorStats, type Preconditioner } from './stacked.js';
import { emaFigure, pooledFigure, stepWindows, summarizeSeries, type ComponentNoiseSummary, type NoiseSummary, type ProgressPoint } from './summary.js';
import { NoiseTracker, type TrackedFigures } from './tracker.js';

export { NOISE_COLUMNS, type NoiseColumn, type NoiseRow } from './rows.js';
export type { ComponentNoiseSummary, NoiseFigure, NoiseSummary, ProgressPoint } from './summary.js';

export interface MeasureContext {
  /** The update about to be made (the trainer counts from 1). */
  readonly update: number;
  /** Env steps consumed so far, including this rollout. */
  readonly envSteps: number;
}

export interface NoiseMonitorOptions {
  /** Stream for random micro-batches and projections; default `new Rng(0).split('monitor')`. */
  readonly rng?: Rng;
  /** Called once per distinct warning (fast path unavailable, few groups, ...); they are also kept in `warnings`. */
  readonly onWarning?: (message: string) => void;
}

/** Relative disagreement between the factored gradient and autodiff above which the fast path is not trusted. */
const VERIFY_TOLERANCE = 1e-3;
/** Measurements per window with `windowSteps: auto`. */
const AUTO_WINDOW_MEASUREMENTS = 100;
/** Longest lag of the autocorrelation (its cost is n × projections × lags per measurement). */
const MAX_LAG = 128;

/** One component's statistics of one measurement, from either path. */
type Stats = Pick<ComponentGradStats, 'total' | 'sample' | 'layers' | 'preconditioned'> & { method: 'fast' | 'fallback'; projections: Float64Array | null };

/**
 * Settings the monitor refuses before a run starts (InvalidValueError, exit 2): `episode` grouping where episodes are
 * cut by fixed-length rollouts (A2C, PPO). Its ratio estimator treats episodes as i.i.d. units of outcome-dependent
 * length; the pieces a rollout boundary cuts off are neither whole episodes nor distributed like them, so no grouping
 * by them is unbiased. REINFORCE's batches hold complete episodes only.
 */
export function checkMonitorConfig(config: RunConfig): void {
  if (config.monitor.enabled && config.monitor.grouping === 'episode' && config.agent.algo !== 'reinforce') {
    throw new InvalidValueError(
      'monitor.grouping',
      'episode',
      `needs complete episodes (agent.algo = reinforce); ${config.agent.algo} rollouts cut episodes at the rollout boundary — use block (the default) or segment`,
    );
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
  private readonly verified = new Set<string>();
  private readonly noBNoise = new Set<NoiseComponent>();
  private readonly useTaps = new Set<NoiseComponent>();
  private readonly warningList: string[] = [];
  private autocorrelation: AutocorrelationTracker | null = null;
  private windowSteps: number | null = null;
  private lastMeasured: number | null = null;
  private measurements = 0;
  private lastBNoise: number | null = null;
  private lastLayerRows: NoiseRow[] = [];

  constructor(config: MonitorConfig, options: NoiseMonitorOptions = {}) {
    this.config = config;
    this.confidence = config.confidence;
    if (!(this.confidence > 0 && this.confidence < 1)) throw new InvalidValueError('monitor.confidence', this.confidence, 'must lie in (0, 1)');
    this.rng = options.rng ?? new Rng(0).split('monitor');
    this.onWarning = options.onWarning;
    if (typeof config.windowSteps === 'number') this.windowSteps = config.windowSteps;
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

  /** The pooled autocorrelation time of a component's gradients along a segment (NaN before it is measured). */
  autocorrTime(component: NoiseComponent): number {
    return this.autocorrelation?.tau(component) ?? NaN;
  }

  /**
   * Measure the noise of every component in the probe (before the update, at the current parameters); one row per
   * component in the order policy, value, total. Returns [] when disabled, not due (see `shouldMeasure`), or the probe
   * is empty (n = 0; then the next update is due). Throws DivergedError when a gradient is not finite. Never disposes
   * the probe's tensors; leaves its variables as they were (B_noise perturbs and restores them).
   */
  measure(probe: NoiseProbe, ctx: MeasureContext): NoiseRow[] {
    this.lastLayerRows = [];
    if (!this.shouldMeasure(ctx.update)) return [];
    const components = NOISE_COMPONENTS.filter((c) => probe.components[c] !== undefined);
    // Nothing to measure (e.g. REINFORCE before its first complete episode): try again at the next update.
    if (probe.n === 0 || components.length === 0) return [];
    this.windowSteps ??= AUTO_WINDOW_MEASUREMENTS * probe.n * this.config.every;
    const start = performance.now();
    const { groups, blockSteps } = this.groupsFor(probe);
    if (groups.count < MIN_GROUPS && (this.config.grouping === 'block' || this.config.grouping === 'segment')) {
      this.warn(
        `grouping ${this.config.grouping} gives ${groups.count} groups (< ${MIN_GROUPS}): single-measurement figures are poorly resolved; ` +
          'the smoothed and window figures pool many measurements (more envs give more groups)',
      );
    }
    const bNoiseDue = this.config.bNoise && (this.lastBNoise === null || ctx.update - this.lastBNoise >= this.config.bNoiseEvery);
    if (this.config.bNoise && !probe.curvature) this.warn('bNoise: the probe offers no curvature (NoiseProbe.curvature); B_noise is not measured');
    const stats = new Map<NoiseComponent, Stats>();
    let bNoise: Partial<Record<NoiseComponent, BNoiseMoments>> = {};
    let bNoiseMs = NaN;
    const fast = components.filter((c) => (this.methods.get(c) ?? this.config.method) === 'fast');
    if (fast.length > 0) {
      try {
        const result = this.fastMeasure(probe, fast, groups, bNoiseDue && probe.curvature !== undefined, ctx);
        result.stats.forEach((s, c) => stats.set(c, s));
        bNoise = result.bNoise;
        bNoiseMs = result.bNoiseMs;
      } catch (error) {
        if (!(error instanceof FastPathUnsupportedError)) throw error;
        for (const c of fast) this.methods.set(c, 'fallback');
        this.warn(`${error.message}; using the per-group autodiff fallback`);
      }
    }
    for (const c of components) {
      if (stats.has(c)) continue;
      this.methods.set(c, 'fallback');
      const s = fallbackGradStats(probe.components[c]!, groups, { perLayer: this.config.perLayer, perSample: true, ...this.preconditionerOption(probe) });
      checkFinite(s.total, ctx.update, c);
      stats.set(c, { ...s, method: 'fallback', projections: null });
    }
    if (bNoiseDue) this.lastBNoise = ctx.update;
    const measureMs = performance.now() - start - (Number.isNaN(bNoiseMs) ? 0 : bNoiseMs);
    const rows = components.map((c) => this.componentRow(c, stats.get(c)!, bNoise[c], blockSteps, ctx, measureMs, bNoiseMs));
    this.lastMeasured = ctx.update;
    this.measurements++;
    return rows;
  }

  /** Per component: run mean, final figure, windows, quarters, growth (vs steps and, with `progress`, vs progress). */
  summary(options: { progress?: readonly ProgressPoint[] } = {}): NoiseSummary {
    const components: Partial<Record<NoiseComponent, ComponentNoiseSummary>> = {};
    const windowSteps = this.windowSteps ?? (typeof this.config.windowSteps === 'number' ? this.config.windowSteps : NaN);
    for (const component of NOISE_COMPONENTS) {
      const tracker = this.trackers.get(`${component}|all`);
      if (!tracker) continue;
      const series = summarizeSeries(tracker, this.confidence, options.progress);
      const sample = this.trackers.get(`${component}|sample`);
      const pre = this.trackers.get(`${component}|pre`);
      const bn = this.trackers.get(`${component}|bnoise`);
      const bnPre = this.trackers.get(`${component}|bnoise-pre`);
      const prePair = (t: NoiseTracker | undefined) => (t && t.history.length > 0 ? { preconditioned: { mean: pooledFigure(t.history, this.confidence), final: emaFigure(t) } } : {});
      const sampleSeries = sample && sample.history.length > 0 ? summarizeSeries(sample, this.confidence, options.progress) : null;
      const tau = this.autocorrTime(component);
      components[component] = {
        ...series,
        status: series.measurements === 0 ? 'no_data' : series.mean.resolved ? 'resolved' : 'unresolved',
        method: this.methods.get(component) ?? this.config.method,
        windows: stepWindows(tracker, Number.isFinite(windowSteps) ? windowSteps : Infinity, this.confidence),
        ...(sampleSeries ? { perSample: sampleSeries, inflation: series.mean.traceSigma / sampleSeries.mean.traceSigma } : {}),
        ...(Number.isFinite(tau) ? { autocorrTime: tau } : {}),
        ...prePair(pre),
        ...(bn && bn.history.length > 0 ? { bNoise: { ...summarizeSeries(bn, this.confidence, options.progress), ...prePair(bnPre) } } : {}),
      };
    }
    return {
      grouping: this.config.grouping,
      confidence: this.confidence,
      emaHorizon: this.config.emaHorizon,
      windowSteps,
      components,
      warnings: [...this.warningList],
    };
  }

  private groupsFor(probe: NoiseProbe): { groups: GroupAssignment; blockSteps: number } {
    const n = probe.n;
    if (!(Number.isInteger(n) && n >= 1)) throw new InvalidValueError('probe.n', n, 'must be a positive integer');
    const ids = (name: 'segments' | 'episodes') => {
      if (probe[name].length !== n) throw new InvalidValueError(`probe.${name}`, probe[name].length, `must have n = ${n} entries`);
      return probe[name];
    };
    switch (this.config.grouping) {
      case 'sample':
        return { groups: singleSampleGroups(n), blockSteps: NaN };
      case 'microbatch':
        return { groups: microBatchGroups(n, this.config.microBatch, this.rng), blockSteps: NaN };
      case 'episode':
        return { groups: groupsFromIds(ids('episodes'), { randomSizes: true }), blockSteps: NaN };
      case 'segment': {
        // REINFORCE's segments are whole episodes: their lengths depend on the outcome.
        const groups = groupsFromIds(ids('segments'));
        return { groups: groups.sizes.every((m) => m === groups.sizes[0]) ? groups : { ...groups, randomSizes: true }, blockSteps: NaN };
      }
      case 'block': {
        const tau = Math.max(...NOISE_COMPONENTS.map((c) => this.autocorrTime(c)).filter(Number.isFinite), -Infinity);
        const { groups, length } = defaultBlocks(ids('segments'), Number.isFinite(tau) ? tau : NaN, this.config.blockSteps ?? null);
        return { groups, blockSteps: length };
      }
    }
  }

  private preconditionerOption(probe: NoiseProbe): { preconditioner?: Preconditioner } {
    return this.config.preconditioned && probe.preconditioner ? { preconditioner: (v) => probe.preconditioner!(v) } : {};
  }

  /** Everything the factored path gives, for the components in `fast` that pass their check. */
  private fastMeasure(probe: NoiseProbe, fast: readonly NoiseComponent[], groups: GroupAssignment, bNoiseDue: boolean, ctx: MeasureContext) {
    const n = probe.n;
    const out = { stats: new Map<NoiseComponent, Stats>(), bNoise: {} as Partial<Record<NoiseComponent, BNoiseMoments>>, bNoiseMs: NaN };
    let kept: tf.Tensor[] = [];
    const wantProjections = this.config.grouping === 'block' && this.config.blockSteps === undefined && (this.measurements < AUTOCORR_EVERY || this.measurements % AUTOCORR_EVERY === 0);
    try {
      tf.tidy(() => {
        // The probe's own factors where they pass the check, autodiff of the taps for the rest.
        let own: GradientFactors | null = null;
        let ownOk: NoiseComponent[] = [];
        if (probe.factors && !fast.every((c) => this.useTaps.has(c))) {
          own = probe.factors();
          ownOk = fast.filter((c) => !this.useTaps.has(c) && own!.deltas[c] !== undefined);
          ownOk = ownOk.filter((c) => {
            if (this.check(`${c}|own`, () => verifyFactors(own!, c, () => tapLoss(probe, c), n), `${c}: the probe's factors()`, 'autodiff of its taps')) return true;
            this.useTaps.add(c);
            return false;
          });
        }
        const rest = fast.filter((c) => !ownOk.includes(c));
        let factors: GradientFactors = own ?? { layers: [], deltas: {} };
        let checked = ownOk;
        if (rest.length > 0) {
          const tapped = tappedFactors(Object.fromEntries(rest.map((c) => [c, probe.components[c]!])), n);
          kept = tapped.kept;
          tapped.unsupported.forEach((error) => this.warn(`${error.message}; using the per-group autodiff fallback`));
          const ok = rest.filter((c) => tapped.factors.deltas[c] !== undefined).filter((c) =>
            this.check(`${c}|taps`, () => verifyFactors(tapped.factors, c, () => tapLoss(probe, c), n), `${c}: the tapped gradient`, 'the per-group autodiff fallback'),
          );
          factors = own ? mergeFactors(own, tapped.factors) : tapped.factors;
          checked = [...checked, ...ok];
        }
        if (checked.length === 0) return;
        const layout = bNoiseDue ? crossFitLayout(probe.segments, groups, this.config.bNoiseUnits) : null;
        if (bNoiseDue && layout === null) this.warn(`bNoise: ${groups.count} groups cannot make ${this.config.bNoiseUnits} direction units in each half of the envs; B_noise is not measured`);
        const { stats, units } = factorStats(factors, checked, {
          groups,
          perSample: true,
          perLayer: this.config.perLayer,
          ...this.preconditionerOption(probe),
          ...(wantProjections ? { projections: { count: PROJECTIONS, rng: this.rng } } : {}),
          ...(layout ? { units: layout.units } : {}),
        });
        try {
          for (const c of checked) {
            const s: FactorStats = stats[c]!;
            checkFinite(s.total, ctx.update, c);
            out.stats.set(c, { ...s, method: 'fast' });
            this.methods.set(c, 'fast');
            if (s.projections) {
              this.autocorrelation ??= new AutocorrelationTracker(this.config.emaHorizon, MAX_LAG);
              this.autocorrelation.add(c, s.projections, probe.segments, PROJECTIONS, ctx.envSteps);
            }
          }
          if (layout && probe.curvature) {
            const t0 = performance.now();
            const curvature = probe.curvature();
            const wanted = curvature.components.filter((c) => checked.includes(c) && !this.noBNoise.has(c));
            const ok = wanted.filter((c) =>
              this.check(
                `${c}|curvature`,
                () => {
                  const rows = layout.rows[0];
                  const atTheta = curvature.factors(rows);
                  return Math.max(verifyFactors(atTheta, c, () => curvature.loss(c, rows), rows.length), compareOnRows(factors, atTheta, c, rows));
                },
                `${c}: the curvature factors`,
                'no B_noise for it',
              ),
            );
            wanted.filter((c) => !ok.includes(c)).forEach((c) => this.noBNoise.add(c));
            if (ok.length > 0) {
              out.bNoise = measureBNoise(curvature, factors, units, layout, ok, { epsilon: this.config.bNoiseEpsilon, ...this.preconditionerOption(probe) });
            }
            out.bNoiseMs = performance.now() - t0;
          }
        } finally {
          for (const map of Object.values(units)) for (const t of map!.values()) t.dispose();
        }
      });
    } finally {
      tf.dispose(kept);
    }
    for (const c of fast) if (!out.stats.has(c)) this.methods.set(c, 'fallback');
    return out;
  }

  /** Run `compute` (a relative error) once per key; false, with a warning, when it exceeds the tolerance. */
  private check(key: string, compute: () => number, what: string, instead: string): boolean {
    if (this.verified.has(key)) return true;
    const error = compute();
    if (error <= VERIFY_TOLERANCE) {
      this.verified.add(key);
      return true;
    }
    this.warn(`${what} differs from autodiff by ${error.toExponential(2)} (relative); the probe does not follow its contract, using ${instead}`);
    return false;
  }

  private tracker(key: string): NoiseTracker {
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = new NoiseTracker(this.config.emaHorizon, this.windowSteps!, this.confidence);
      this.trackers.set(key, tracker);
    }
    return tracker;
  }

  private componentRow(
    c: NoiseComponent,
    s: Stats,
    bNoise: BNoiseMoments | undefined,
    blockSteps: number,
    ctx: MeasureContext,
    measureMs: number,
    bNoiseMs: number,
  ): NoiseRow {
    const add = (key: string, stats: GroupStats) => {
      const estimate = estimateNoise(stats);
      return { estimate, figures: this.tracker(key).add(estimate, ctx.update, ctx.envSteps) };
    };
    const main = add(`${c}|all`, s.total);
    const sample = s.sample ? add(`${c}|sample`, s.sample) : null;
    const pre = s.preconditioned ? add(`${c}|pre`, s.preconditioned).figures : null;
    const series = (key: string, moments: BNoiseMoments['plain'] | null | undefined): TrackedFigures | null => {
      if (moments) return this.tracker(key).add(moments, ctx.update, ctx.envSteps);
      return this.trackers.get(key)?.current(ctx.envSteps) ?? null;
    };
    const parts = {
      update: ctx.update,
      envSteps: ctx.envSteps,
      component: c,
      grouping: this.config.grouping,
      method: s.method,
      blockSteps,
      autocorrTime: this.autocorrTime(c),
      measureMs,
      bNoiseMs,
    };
    const row = buildRow({
      ...parts,
      layer: 'all',
      estimate: main.estimate,
      figures: main.figures,
      perSample: sample,
      preconditioned: pre,
      bNoise: series(`${c}|bnoise`, bNoise?.plain),
      preBNoise: series(`${c}|bnoise-pre`, bNoise?.preconditioned),
    });
    for (const { label, stats } of s.layers) {
      const layer = add(`${c}|layer|${label}`, stats);
      this.lastLayerRows.push(buildRow({ ...parts, layer: label, estimate: layer.estimate, figures: layer.figures, perSample: null, preconditioned: null, bNoise: null, preBNoise: null, measureMs: NaN, bNoiseMs: NaN }));
    }
    return row;
  }

  private warn(message: string): void {
    if (this.warningList.includes(message)) return;
    this.warningList.push(message);
    this.onWarning?.(message);
  }
}

/** A component's mean loss through its taps (zero taps), for the autodiff check. */
function tapLoss(probe: NoiseProbe, c: NoiseComponent): tf.Scalar {
  const component = probe.components[c]!;
  return component.tapped(component.tapShapes.map((shape) => tf.zeros([shape[0], shape[1]]) as tf.Tensor2D)).loss;
}

function checkFinite(stats: GroupStats, update: number, component: NoiseComponent): void {
  let finite = Number.isFinite(stats.totalSq);
  for (let k = 0; finite && k < stats.sumSq.length; k++) finite = Number.isFinite(stats.sumSq[k]!) && Number.isFinite(stats.sumDot[k]!);
  if (!finite) throw new DivergedError(update, `${component} gradient (noise monitor)`);
}
