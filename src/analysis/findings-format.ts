/**
 * Findings in text, one formatter per purpose, shared by the HTML report and reproduce's console summary:
 * `formatValue` (a number in a table or sentence: 3 significant digits, thousands separated), `formatFigure` (a figure
 * with its interval, or what is known of it), `formatSetting` (any value in a cell), `formatCompact` (a short label: 12k, 1.5M), `verdict` (a trend in words).
 */
import { figureFromJson, trend, type Figure, type Trend } from './findings.js';
import type { CriticalPartFindings, SweepPartFindings } from './findings-parts.js';

const NUMBER = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** `1,230`, `0.0123`; NaN as `–`, ±∞ as `∞` / `−∞`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return NUMBER.format(value);
}

/** `1,230 [890, 1,700]`; unresolved: `unresolved (≥ 890)`; no data: `–`. `unit` follows every number (e.g. `×`). */
export function formatFigure(f: Figure, unit = ''): string {
  if (f.value === Infinity) {
    return Number.isFinite(f.lo) && f.lo > 0 ? `∞ (above the range measured; ≥ ${formatValue(f.lo)}${unit})` : '∞ (above the range measured)';
  }
  if (!Number.isFinite(f.value)) {
    if (f.n === 0) return '–';
    if (Number.isFinite(f.lo) && f.lo > 0) return `unresolved (≥ ${formatValue(f.lo)}${unit})`;
    // A ratio whose denominator is not resolved: only an upper bound.
    return Number.isFinite(f.hi) && f.hi > 0 ? `unresolved (≤ ${formatValue(f.hi)}${unit})` : 'unresolved';
  }
  const interval = Number.isFinite(f.lo) || Number.isFinite(f.hi) ? ` [${formatValue(f.lo)}${unit}, ${formatValue(f.hi)}${Number.isFinite(f.hi) ? unit : ''}]` : '';
  return `${formatValue(f.value)}${unit}${interval}`;
}

/** Any value in a table cell or label (a setting, a metadata field): integers in full, other numbers as formatValue. */
export function formatSetting(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : formatValue(value);
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** 512 → '512', 12000 → '12k', 1.5e6 → '1.5M'. */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const trim = (x: number) => String(Number(x.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return Number.isInteger(value) ? String(value) : trim(value);
}

const TREND_TEXT: Record<Trend, string> = {
  rises: 'rises',
  rises10: 'rises, by 10× or more',
  falls: 'falls',
  falls10: 'falls, by 10× or more',
  flat: 'no clear change (interval spans 1)',
  'no-interval': 'no clear change (no interval)',
  unresolved: 'unresolved',
  'unresolved-rises': 'unresolved, but its interval lies above 1 (rises)',
  'unresolved-falls': 'unresolved, but its interval lies below 1 (falls)',
  'no-data': 'no data',
};

/** A ratio's trend in plain words: `rises`, `falls`, `no clear change (interval spans 1)`, `unresolved`, ... */
export function verdict(f: Figure): string {
  return TREND_TEXT[trend(f)];
}

/** A sweep part's findings for the console: one line per group. */
export function formatSweepPartFindings(name: string, f: SweepPartFindings): string {
  const lines = [`  ${name} (${f.component} B_simple, env steps): level | return final | B avg | B at matched progress | growth last/first quarter`];
  for (const g of f.groups) {
    const cells = [formatFigure(figureFromJson(g.bSimpleMean)), formatFigure(figureFromJson(g.bSimpleMatched)), formatFigure(figureFromJson(g.growth), '×')];
    lines.push(`    ${g.group.padEnd(10)} | ${formatValue(g.returnFinal ?? NaN).padStart(8)} | ${cells.join(' | ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A critical-batch part's findings for the console: one line per target. */
export function formatCriticalPartFindings(name: string, f: CriticalPartFindings): string {
  const lines = f.targets.map((t) => `  ${name} target ${t.target}: B_crit ${formatFigure(figureFromJson(t.bCrit))}, B_simple ${formatFigure(figureFromJson(t.bSimple))} (${t.regime})`);
  return `${lines.join('\n')}\n`;
}
