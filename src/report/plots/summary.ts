/**
 * The protocol's two further summary figures, over every critical-batch task-level:
 * - difficulty vs noise: E_min (env steps at the critical batch, with its profile-likelihood interval) against the
 *   B_simple averaged up to the target (w-weighted where measured), log-log, with the fitted power law and its
 *   bootstrap intervals in the subtitle;
 * - noise vs normalised score: B_simple per score bin (analysis/score-progress.ts) per task-level, log y, with the
 *   bootstrap interval over runs as a band of error bars.
 */
import type { TopLevelSpec } from 'vega-lite';
import { logLogFitIntervals } from '../../analysis/findings-critical.js';
import { AXIS, colorEncoding, logScale, positive, renderSvg, SPEC_BASE, type PlotOptions } from './render.js';

export interface DifficultyPoint {
  /** The task-level, e.g. `Catch-v0 L2`. */
  readonly group: string;
  /** The target, e.g. `s=0.8`. */
  readonly text: string;
  readonly noise: number;
  readonly eMin: number;
  readonly eMinLo: number;
  readonly eMinHi: number;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

/** The fit's summary line: slope and r² with their bootstrap intervals over task-levels. */
export function fitLine(pairs: readonly { x: number; y: number }[]): string {
  const fit = logLogFitIntervals(pairs);
  if (!Number.isFinite(fit.slope)) return `n=${fit.n}, no fit`;
  return `power law: slope ${fmt(fit.slope)} [${fmt(fit.slopeLo)}, ${fmt(fit.slopeHi)}], r² ${fmt(fit.r2)} [${fmt(fit.r2Lo)}, ${fmt(fit.r2Hi)}], n=${fit.n} (95% bootstrap over task-levels)`;
}

export function difficultyVsNoiseSpec(points: readonly DifficultyPoint[], options: PlotOptions = {}): TopLevelSpec {
  const rows = points
    .filter((p) => positive(p.noise) && Number.isFinite(p.noise) && positive(p.eMin) && Number.isFinite(p.eMin))
    .map((p) => ({ ...p, lo: positive(p.eMinLo) ? p.eMinLo : p.eMin, hi: Number.isFinite(p.eMinHi) && p.eMinHi > 0 ? p.eMinHi : p.eMin }));
  const pairs = rows.map((r) => ({ x: r.noise, y: r.eMin }));
  const fit = logLogFitIntervals(pairs);
  const xs = logScale(rows.map((r) => r.noise), 1.5);
  const ys = logScale(rows.flatMap((r) => [r.eMin, r.lo, r.hi]), 1.5);
  const groups = [...new Set(rows.map((r) => r.group))];
  const color = { ...colorEncoding('group', groups, false, 'task-level'), legend: { labelLimit: 0 } };
  const x = { field: 'noise', type: 'quantitative' as const, title: 'B_simple averaged up to the target (samples)', scale: xs.scale, axis: xs.axis };
  const y = { field: 'eMin', type: 'quantitative' as const, title: 'E_min: env steps to the target at small batches', scale: ys.scale, axis: ys.axis };
  const line = Number.isFinite(fit.slope)
    ? [Math.min(...pairs.map((p) => p.x)), Math.max(...pairs.map((p) => p.x))].map((v, order) => ({ noise: v, eMin: 10 ** (fit.intercept + fit.slope * Math.log10(v)), order }))
    : [];
  return {
    ...SPEC_BASE,
    title: { text: options.title ?? 'Difficulty vs noise scale', subtitle: options.subtitle ?? `${fitLine(pairs)}; bars: E_min's 95% interval` },
    width: 380,
    height: 340,
    layer: [
      { data: { values: line }, mark: { type: 'line', clip: true, strokeDash: [5, 3], color: '#666' }, encoding: { x, y, order: { field: 'order' } } },
      { data: { values: rows }, mark: { type: 'rule', clip: true, opacity: 0.6 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
      { data: { values: rows }, mark: { type: 'point', filled: true, size: 55, clip: true }, encoding: { x, y, color, shape: { field: 'text', type: 'nominal', title: 'target' } } },
    ],
  } as TopLevelSpec;
}

export function difficultyVsNoise(points: readonly DifficultyPoint[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(difficultyVsNoiseSpec(points, options), options.id ?? 'difficulty-vs-noise');
}

export interface ScoreBinPoint {
  readonly group: string;
  readonly score: number;
  readonly bSimple: number;
  readonly lo: number;
  readonly hi: number;
  readonly runs: number;
}

export function noiseByScoreSpec(points: readonly ScoreBinPoint[], options: PlotOptions = {}): TopLevelSpec {
  const rows = points
    .filter((p) => positive(p.bSimple) && Number.isFinite(p.bSimple))
    .map((p) => ({ ...p, lo: positive(p.lo) ? p.lo : p.bSimple, hi: Number.isFinite(p.hi) && p.hi > 0 ? p.hi : p.bSimple }));
  const ys = logScale(rows.flatMap((r) => [r.bSimple, r.lo, r.hi]), 1.5);
  const groups = [...new Set(rows.map((r) => r.group))];
  const color = { ...colorEncoding('group', groups, false, 'task-level'), legend: { labelLimit: 0 } };
  const x = { field: 'score', type: 'quantitative' as const, title: 'normalised score s of the post-update return (bin centre)', scale: { domain: [0, 1] } };
  const y = { field: 'bSimple', type: 'quantitative' as const, title: AXIS.bSimple, scale: ys.scale, axis: ys.axis };
  return {
    ...SPEC_BASE,
    title: { text: options.title ?? 'Noise scale over training, by normalised score', subtitle: options.subtitle ?? 'pooled over every run of each task-level; bars: 95% bootstrap over runs' },
    width: 420,
    height: 320,
    layer: [
      { data: { values: rows }, mark: { type: 'rule', clip: true, opacity: 0.5 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
      { data: { values: rows }, mark: { type: 'line', point: true, clip: true }, encoding: { x, y, color, order: { field: 'score' } } },
    ],
  } as TopLevelSpec;
}

export function noiseByScorePlot(points: readonly ScoreBinPoint[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(noiseByScoreSpec(points, options), options.id ?? 'noise-by-score');
}
