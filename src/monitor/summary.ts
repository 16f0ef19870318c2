/**
 * The monitor's summary (summary.json `noise`): per component the run-mean, final, windowed and per-quarter figures of
 * the default B_simple, the per-sample B_simple beside it with the inflation between them, B_noise when measured, and
 * growth over training against env steps and, when the caller supplies a progress series, against progress.
 *
 * Growth vs steps: last quarter / first quarter of the run by env steps (ratio of means within each), when both are
 * resolved, with a conservative lower bound (last quarter's lower end / first quarter's upper end). Quarters, not the
 * `windowSteps` windows, because late in a run B_simple exceeds what a short window resolves.
 * Growth vs progress: the same with the measurements binned by progress (a normalised score the caller defines, e.g.
 * (return − random)/(target − random)); each measurement takes the running maximum of the progress series up to its
 * env steps (so a dip in the learning curve does not move it back), clamped to [0, 1], and falls into one of the bins
 * [0, ¼), [¼, ½), [½, ¾), [¾, 1]; growth = the last non-empty bin / the first.
 */
import type { MonitorConfig } from '../config/schema.js';
import type { NoiseComponent } from '../core/components.js';
import { noiseScale, type NoiseScale } from './intervals.js';
import { poolMoments } from './smoothing.js';
import type { HistoryEntry, NoiseTracker } from './tracker.js';

/** One B_simple figure of the summary (for a B_noise series the same fields hold tr(HΣ)/GᵀHG, tr(HΣ) and GᵀHG). */
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

/** Figures by progress bin and the growth between the first and the last non-empty one. */
export interface ProgressFigures {
  readonly edges: readonly number[];
  readonly bins: readonly NoiseFigure[];
  readonly growth: number;
  readonly growthLo: number;
}

/** Run-mean, final, quarters and growth of one series. */
export interface SeriesSummary {
  readonly measurements: number;
  /** Ratio of means over all measurements, each measurement weighted equally: mean tr(Σ) / mean |G|². */
  readonly mean: NoiseFigure;
  /** The EMA figure at the last measurement (as in the last noise.csv row). */
  readonly final: NoiseFigure;
  /** Ratio of means within each quarter of the run: env steps in (q·T/4, (q+1)·T/4], T = the last measurement's. */
  readonly quarters: readonly NoiseFigure[];
  /** Growth over training: last quarter / first quarter, when both are resolved, else NaN. */
  readonly growth: number;
  /** last quarter's lower bound / first quarter's upper bound (finite even when the last quarter is unresolved). */
  readonly growthLo: number;
  /** With a progress series: the same by progress bin. */
  readonly byProgress?: ProgressFigures;
}

export interface ComponentNoiseSummary extends SeriesSummary {
  /** `resolved` when the whole-run ratio of means has |G|² significantly > 0. */
  readonly status: 'resolved' | 'unresolved' | 'no_data';
  readonly method: 'fast' | 'fallback';
  /** Ratio of means over `windowSteps` env steps at the start, around 25/50/75% of the run (by env steps), and the end. */
  readonly windows: { readonly start: NoiseFigure; readonly q1: NoiseFigure; readonly q2: NoiseFigure; readonly q3: NoiseFigure; readonly end: NoiseFigure };
  /** The same B_simple with single samples as groups (correlation ignored), when measured. */
  readonly perSample?: SeriesSummary;
  /** Run-mean tr(Σ) of the default grouping / run-mean per-sample tr(Σ). */
  readonly inflation?: number;
  /** Pooled integrated autocorrelation time of the gradients along a segment (env steps), with grouping `block`. */
  readonly autocorrTime?: number;
  /** Preconditioned tr(PΣP)/|PG|², when measured. */
  readonly preconditioned?: { readonly mean: NoiseFigure; readonly final: NoiseFigure };
  /** B_noise = tr(HΣ)/GᵀHG (bSimple/traceSigma/gradSq fields hold B_noise/tr(HΣ)/GᵀHG), when measured. */
  readonly bNoise?: SeriesSummary & { readonly preconditioned?: { readonly mean: NoiseFigure; readonly final: NoiseFigure } };
}

export interface NoiseSummary {
  readonly grouping: MonitorConfig['grouping'];
  readonly confidence: number;
  readonly emaHorizon: number;
  /** The ratio-of-means window, in env steps. */
  readonly windowSteps: number;
  readonly components: Partial<Record<NoiseComponent, ComponentNoiseSummary>>;
  readonly warnings: readonly string[];
}

/** A point of a learning curve in the caller's normalised score. */
export interface ProgressPoint {
  readonly envSteps: number;
  readonly progress: number;
}

export function figure(scale: NoiseScale, measurements: number, envStepsFrom: number, envStepsTo: number): NoiseFigure {
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

export function pooledFigure(entries: readonly HistoryEntry[], confidence: number): NoiseFigure {
  const pooled = poolMoments(entries.map((e) => e.moments));
  return figure(noiseScale(pooled, confidence), pooled.count, entries[0]?.envSteps ?? NaN, entries[entries.length - 1]?.envSteps ?? NaN);
}

export function emaFigure(tracker: NoiseTracker): NoiseFigure {
  const last = tracker.lastEma;
  if (last === null) return figure(noiseScale(poolMoments([]), 0.5), 0, NaN, NaN);
  return figure(last.scale, last.effectiveCount, tracker.history[0]?.envSteps ?? NaN, last.envSteps);
}

function growthOf(first: NoiseFigure | undefined, last: NoiseFigure | undefined): { growth: number; growthLo: number } {
  if (!first || !last) return { growth: NaN, growthLo: NaN };
  return {
    growth: first.resolved && last.resolved ? last.bSimple / first.bSimple : NaN,
    growthLo: first.resolved ? last.lo / first.hi : NaN,
  };
}

/** Progress at each measurement: running maximum of the series up to its env steps, clamped to [0, 1]; NaN before the first point. */
function progressAt(history: readonly HistoryEntry[], series: readonly ProgressPoint[]): number[] {
  const points = [...series].filter((p) => Number.isFinite(p.progress)).sort((a, b) => a.envSteps - b.envSteps);
  let best = NaN;
  let next = 0;
  return history.map((entry) => {
    while (next < points.length && points[next]!.envSteps <= entry.envSteps) {
      best = Number.isNaN(best) ? points[next]!.progress : Math.max(best, points[next]!.progress);
      next++;
    }
    return Number.isNaN(best) ? NaN : Math.min(1, Math.max(0, best));
  });
}

export function progressFigures(history: readonly HistoryEntry[], series: readonly ProgressPoint[], confidence: number): ProgressFigures {
  const edges = [0, 0.25, 0.5, 0.75, 1];
  const at = progressAt(history, series);
  const bins = edges.slice(0, -1).map((lo, b) =>
    pooledFigure(
      history.filter((_, i) => at[i]! >= lo && (b === edges.length - 2 ? at[i]! <= 1 : at[i]! < edges[b + 1]!)),
      confidence,
    ),
  );
  const filled = bins.filter((f) => f.measurements > 0);
  return { edges, bins, ...growthOf(filled[0], filled.length > 1 ? filled[filled.length - 1] : undefined) };
}

/** Mean, final, quarters, growth (and by progress) of one series. */
export function summarizeSeries(tracker: NoiseTracker, confidence: number, progress?: readonly ProgressPoint[]): SeriesSummary {
  const history = tracker.history;
  const runSteps = history.length > 0 ? history[history.length - 1]!.envSteps : 0;
  // Quarter q holds the measurements with env steps in (q·T/4, (q+1)·T/4].
  const quarters = [0, 1, 2, 3].map((q) =>
    pooledFigure(
      history.filter((e) => e.envSteps > (q === 0 ? -Infinity : (q * runSteps) / 4) && e.envSteps <= ((q + 1) * runSteps) / 4),
      confidence,
    ),
  );
  return {
    measurements: history.length,
    mean: pooledFigure(history, confidence),
    final: emaFigure(tracker),
    quarters,
    ...growthOf(quarters[0], quarters[3]),
    ...(progress ? { byProgress: progressFigures(history, progress, confidence) } : {}),
  };
}

/** Ratio-of-means windows of `windowSteps` env steps at the start, around 25/50/75% of the run, and at the end. */
export function stepWindows(tracker: NoiseTracker, windowSteps: number, confidence: number): ComponentNoiseSummary['windows'] {
  const history = tracker.history;
  const count = history.length;
  const first = history[0]?.envSteps ?? 0;
  const last = history[count - 1]?.envSteps ?? 0;
  // [from, from + windowSteps), as NoiseWindow counts: a measurement is in when it is less than windowSteps older.
  const from = (start: number) => history.filter((e) => e.envSteps >= start && e.envSteps - start < windowSteps);
  const around = (fraction: number) => {
    // Centred on fraction·T, shifted to stay inside the run.
    const centre = fraction * last;
    return from(Math.min(Math.max(first, centre - windowSteps / 2), Math.max(first, last - windowSteps)));
  };
  return {
    start: pooledFigure(from(first), confidence),
    q1: pooledFigure(around(0.25), confidence),
    q2: pooledFigure(around(0.5), confidence),
    q3: pooledFigure(around(0.75), confidence),
    end: pooledFigure(history.filter((e) => last - e.envSteps < windowSteps), confidence),
  };
}
