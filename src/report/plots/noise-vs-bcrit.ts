/**
 * Like with like: every noise-scale measure (B_simple and B_noise, w-weighted and as ratio of means, averaged up to
 * the target) against the measured B_crit, log-log, with y = x and per measure the fitted power law y ∝ x^slope
 * (findings-critical.ts `logLogFit`) drawn over the range of its points, its slope and r² in the legend. Drawn with
 * as few as two points: with few task-levels the slope is a description, not a test.
 */
import type { TopLevelSpec } from 'vega-lite';
import { logLogFit, NOISE_MEASURES, type NoiseMeasure } from '../../analysis/findings-critical.js';
import { AXIS, logScale, positive, renderSvg, SPEC_BASE, type PlotOptions } from './render.js';

export interface MeasurePoint {
  readonly measure: NoiseMeasure;
  /** e.g. `CartPole-v1 L0, s=0.8`. */
  readonly label: string;
  readonly bCrit: number;
  readonly value: number;
}

/** The legend entry of a measure: its name with the fitted slope and r² (or the point count when it has no fit). */
export function measureLegend(measure: NoiseMeasure, points: readonly MeasurePoint[]): string {
  const own = points.filter((p) => p.measure === measure);
  const fit = logLogFit(own.map((p) => ({ x: p.bCrit, y: p.value })));
  return Number.isFinite(fit.slope) ? `${measure}: slope ${fit.slope.toFixed(2)}, r² ${fit.r2.toFixed(2)} (n=${fit.n})` : `${measure} (n=${fit.n}, no fit)`;
}

export function noiseVsBCritSpec(points: readonly MeasurePoint[], options: PlotOptions = {}): TopLevelSpec {
  const usable = points.filter((p) => positive(p.bCrit) && Number.isFinite(p.bCrit) && positive(p.value) && Number.isFinite(p.value));
  const measures = NOISE_MEASURES.filter((m) => usable.some((p) => p.measure === m));
  const legend = new Map(measures.map((m) => [m, measureLegend(m, usable)]));
  const rows = usable.map((p) => ({ measure: legend.get(p.measure)!, label: p.label, b_crit: p.bCrit, value: p.value }));
  const lines = measures.flatMap((m) => {
    const own = usable.filter((p) => p.measure === m);
    const fit = logLogFit(own.map((p) => ({ x: p.bCrit, y: p.value })));
    if (!Number.isFinite(fit.slope)) return [];
    const xs = own.map((p) => p.bCrit);
    return [Math.min(...xs), Math.max(...xs)].map((x, order) => ({ measure: legend.get(m)!, a: x, b: 10 ** (fit.intercept + fit.slope * Math.log10(x)), order }));
  });
  const log = logScale([...rows.flatMap((r) => [r.b_crit, r.value]), ...lines.map((l) => l.b)], 1.5);
  const [lo, hi] = log.scale['domain'] as [number, number];
  const scale = log.scale;
  const domain = measures.map((m) => legend.get(m)!);
  const palette = ['#1f77b4', '#2ca02c', '#d62728', '#9467bd'];
  const color = { field: 'measure', type: 'nominal' as const, title: 'measure (fitted power law)', scale: { domain, range: measures.map((m) => palette[NOISE_MEASURES.indexOf(m)]!) }, legend: { labelLimit: 0, orient: 'bottom' as const, direction: 'vertical' as const } };
  const x = { field: 'b_crit', type: 'quantitative' as const, title: AXIS.bCrit, scale, axis: log.axis };
  const y = { field: 'value', type: 'quantitative' as const, title: 'noise scale averaged up to the target', scale, axis: log.axis };
  return {
    ...SPEC_BASE,
    title: { text: options.title ?? 'Noise scales vs critical batch size', subtitle: options.subtitle ?? 'grey: y = x; coloured lines: least-squares power law per measure (log-log)' },
    width: 380,
    height: 380,
    layer: [
      {
        data: { values: [{ a: lo, b: lo }, { a: hi, b: hi }] },
        mark: { type: 'line', clip: true, color: '#888' },
        encoding: { x: { field: 'a', type: 'quantitative', scale, title: AXIS.bCrit }, y: { field: 'b', type: 'quantitative', scale, title: y.title } },
      },
      {
        data: { values: lines },
        mark: { type: 'line', clip: true, strokeDash: [5, 3] },
        encoding: { x: { field: 'a', type: 'quantitative', scale, title: AXIS.bCrit }, y: { field: 'b', type: 'quantitative', scale, title: y.title }, color, detail: { field: 'measure' }, order: { field: 'order' } },
      },
      { data: { values: rows }, mark: { type: 'point', filled: true, size: 60, opacity: 0.9 }, encoding: { x, y, color, shape: { field: 'measure', type: 'nominal', legend: null } } },
      { data: { values: rows }, mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 9, color: '#444' }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}

export function noiseVsBCrit(points: readonly MeasurePoint[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(noiseVsBCritSpec(points, options), options.id ?? 'noise-vs-bcrit');
}
