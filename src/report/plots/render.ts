/**
 * How the report's figures are drawn: Vega-Lite specs compiled to Vega and rendered headless to SVG text (no canvas,
 * no DOM, no fonts embedded; text widths are estimated), and the conventions every figure shares: axis titles with
 * units, the look (fonts, grid), log scales snapped to decades, colour encodings, thinning of long series.
 *
 * Conventions, following McCandlish et al. (2018): noise scales and critical batch sizes in samples (for RL, env
 * steps) on log axes; training progress in env steps; steps-vs-samples fronts on log-log axes. Values that cannot
 * be drawn on a log axis (NaN: B_simple not resolved; ≤ 0; ±∞ interval ends) leave gaps rather than being invented.
 * The same data always give the same SVG text: element ids are renumbered from a per-figure prefix, so several
 * figures can also be inlined in one HTML page without clashing.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { NOISE_COMPONENTS, type NoiseComponent } from '../../core/components.js';

export interface PlotOptions {
  title?: string;
  subtitle?: string;
  /** Prefix of the SVG's element ids; give each figure of one page its own. */
  id?: string;
  /** Labels are ordered (difficulty levels): sequential colours in the given order instead of categorical ones. */
  ordered?: boolean;
  /** Title of the legend of run labels (default `run`). */
  legendTitle?: string;
  /** Title of the noise axis (default AXIS.bSimple). */
  yTitle?: string;
}

export const AXIS = {
  envSteps: 'env steps',
  bSimple: 'B_simple = tr(Σ)/|G|² (samples)',
  bSimpleAvg: 'B_simple, training average (samples)',
  returnMean: 'mean episode return',
  level: 'difficulty level (0 = standard task)',
  steps: 'optimizer steps to reach target, S (updates)',
  samples: 'samples to reach target, E (env steps)',
  bCrit: 'measured critical batch B_crit = E_min/S_min (samples)',
  bSimpleLevel: 'B_simple per level (samples)',
} as const;

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  title: { fontSize: 14, anchor: 'start' as const, subtitleFontSize: 11, subtitleColor: '#555', offset: 8 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' as const },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: '#bbb' },
  // Axes keep their ARIA descriptions (title and scale type); per-datum mark labels would only bloat the file.
  mark: { aria: false },
};

/** What every figure's spec starts with. */
export const SPEC_BASE = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: CONFIG };

const SI = '~s';
/** Linear env-steps axis: SI labels, and a plain 0 rather than '0k'. */
export const STEPS_AXIS = { format: SI, labelExpr: "datum.value === 0 ? '0' : datum.label" };

/** Compile a Vega-Lite spec and render it headless to SVG text, with ids renumbered from `idPrefix`. */
export async function renderSvg(spec: TopLevelSpec, idPrefix = 'plot'): Promise<string> {
  const logger = vega.logger(vega.Error);
  const compiled = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger });
  try {
    const svg = await view.toSVG();
    return compactNumbers(renumberIds(svg, idPrefix));
  } finally {
    view.finalize();
  }
}

/** Geometry rounded to 1/10 px: the files shrink by a third and nothing visible changes. */
export function compactNumbers(svg: string): string {
  return svg.replace(/ (d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g, (_m, name: string, value: string) => {
    const rounded = value.replace(/-?\d+\.\d{3,}(e-?\d+)?/g, (n) => String(Number(Number(n).toFixed(1))));
    return ` ${name}="${rounded}"`;
  });
}

/** Vega numbers clip paths from a process-wide counter; renumber them per figure so output is deterministic. */
export function renumberIds(svg: string, prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '-');
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(match[1]!)) ids.set(match[1]!, `${safe}-${ids.size + 1}`);
  }
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (_m, a: string, id: string, b: string) => `${a}${ids.get(id) ?? id}${b}`)
    .replace(/url\(#([^)]+)\)/g, (m, id: string) => (ids.has(id) ? `url(#${ids.get(id)})` : m))
    .replace(/(href=")#([^"]+)(")/g, (m, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${ids.get(id)}${b}` : m));
}

/** Points per drawn series: more are thinned to an even stride (first and last kept); a line gains nothing from them. */
export const MAX_POINTS = 400;

export function thin<T>(series: readonly T[], max: number): readonly T[] {
  if (series.length <= max) return series;
  const stride = (series.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => series[Math.round(i * stride)]!);
}

export function positive(value: number | undefined | null): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

export function orderComponents(values: readonly string[]): string[] {
  const present = unique(values);
  return [...NOISE_COMPONENTS.filter((c) => present.includes(c)), ...present.filter((c) => !NOISE_COMPONENTS.includes(c as NoiseComponent))];
}

/**
 * A log scale and axis for the finite positive values: the domain widened by `pad`× each side and snapped out to whole
 * decades; ticks and grid lines at decades (and at 2 and 5 times them when the domain spans fewer than three).
 */
export function logScale(values: readonly (number | null | undefined)[], pad = 1.2): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
  const finite = values.filter(positive);
  let lo = finite.length > 0 ? Math.floor(Math.log10(Math.min(...finite) / pad)) : 0;
  let hi = finite.length > 0 ? Math.ceil(Math.log10(Math.max(...finite) * pad)) : 4;
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    const decade = 10 ** e;
    for (const m of hi - lo < 3 ? [1, 2, 5] : [1]) if (e < hi || m === 1) ticks.push(Number((m * decade).toPrecision(6)));
  }
  return {
    scale: { type: 'log', domain: [10 ** lo, 10 ** hi], nice: false },
    // SI prefixes above 1 (2k, 1M); plain decimals below, where '100m' would read as milli-samples.
    axis: { values: ticks, format: SI, labelExpr: "datum.value < 1 ? format(datum.value, '~g') : datum.label" },
  };
}

export function colorEncoding(field: string, domain: readonly (string | number)[], ordered: boolean, title: string): Record<string, unknown> {
  return ordered
    ? { field, type: 'ordinal', title, sort: domain, scale: { domain, scheme: { name: 'viridis', extent: [0, 0.85] } } }
    : { field, type: 'nominal', title, sort: domain, scale: { domain, scheme: domain.length <= 10 ? 'category10' : 'tableau20' } };
}

export function extraColor(i: number): string {
  const palette = ['#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'];
  return palette[i % palette.length]!;
}
