/**
 * The noise-vs-difficulty figure: B_simple per difficulty level, seeds as small points and the level's figure pooled
 * over seeds with its interval, a panel per component, the run average and matched progress side by side.
 */
import type { TopLevelSpec } from 'vega-lite';
import { AXIS, colorEncoding, logScale, orderComponents, positive, renderSvg, SPEC_BASE, unique, type PlotOptions } from './render.js';

/** One run's average B_simple at one difficulty level (a row of a sweep's aggregate). */
export interface DifficultyPoint {
  /** Env family, e.g. `CartPole-v1` (plus any other grid values that tell families apart). */
  family: string;
  level: number;
  component: string;
  seed?: number | string;
  /** B_simple averaged over training, in samples; NaN when not resolved. */
  bSimple: number;
  /** What the figure measures, e.g. `run average` or `matched progress` (default `run average`): one row of panels each. */
  measure?: string;
}

/**
 * A level's figure pooled over seeds (drawn as the large point with its interval bar): when given, these replace the
 * geometric mean and min–max of the seed points. value NaN with lo > 0: not resolved, drawn as a ▲ at its lower bound.
 */
export interface DifficultyGroup {
  family: string;
  level: number;
  component: string;
  measure?: string;
  value: number;
  lo?: number;
  /** +∞: unbounded above (the bar runs to the top of the panel). */
  hi?: number;
}

/** Run average, matched progress. */
const MEASURE_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];

/** The measures of noise vs difficulty, in the order their panels are drawn. */
export const MEASURE_ORDER = ['run average', 'matched progress'] as const;

/**
 * B_simple (log) vs difficulty level per env family: seeds as small points, and per level the figure pooled over seeds
 * with its interval (`groups`) or, without groups, the geometric mean and min–max over seeds. A column of panels per
 * component (policy first) and, when points carry more than one `measure`, a row per measure.
 */
export function noiseVsDifficultySpec(points: readonly DifficultyPoint[], options: PlotOptions = {}, groups?: readonly DifficultyGroup[]): TopLevelSpec {
  const rows: Record<string, unknown>[] = [];
  const measureOf = (m: string | undefined) => m ?? MEASURE_ORDER[0];
  for (const p of points) {
    if (!positive(p.bSimple) || !Number.isFinite(p.level)) continue;
    rows.push({ kind: 'seed', family: p.family, component: p.component, measure: measureOf(p.measure), level: String(p.level), b: p.bSimple, seed: p.seed ?? null });
  }
  const summary: Record<string, unknown>[] = [];
  if (groups) {
    for (const g of groups) {
      if (!Number.isFinite(g.level)) continue;
      const base = { family: g.family, component: g.component, measure: measureOf(g.measure), level: String(g.level) };
      if (positive(g.value)) {
        summary.push({ ...base, kind: 'mean', b: g.value, lo: positive(g.lo) ? g.lo : g.value, hi: positive(g.hi) ? g.hi : g.value });
      } else if (positive(g.lo)) {
        summary.push({ ...base, kind: 'bound', b: g.lo, lo: g.lo, hi: Infinity });
      }
    }
  } else {
    const bySetting = new Map<string, { base: Record<string, unknown>; values: number[] }>();
    for (const r of rows) {
      const key = `${r['family']}\u0000${r['component']}\u0000${r['measure']}\u0000${r['level']}`;
      let group = bySetting.get(key);
      if (!group) bySetting.set(key, (group = { base: { family: r['family'], component: r['component'], measure: r['measure'], level: r['level'] }, values: [] }));
      group.values.push(r['b'] as number);
    }
    for (const g of bySetting.values()) {
      summary.push({ ...g.base, kind: 'mean', b: geometricMean(g.values), lo: Math.min(...g.values), hi: Math.max(...g.values), n: g.values.length });
    }
  }
  const families = unique([...points.map((p) => p.family), ...(groups ?? []).map((g) => g.family)]);
  const levels = unique([...points.map((p) => p.level), ...(groups ?? []).map((g) => g.level)].filter((l) => Number.isFinite(l)))
    .sort((a, b) => a - b)
    .map(String);
  const components = orderComponents([...points.map((p) => p.component), ...(groups ?? []).map((g) => g.component)]);
  const presentMeasures = unique([...points.map((p) => measureOf(p.measure)), ...(groups ?? []).map((g) => measureOf(g.measure))]);
  const measures = [...MEASURE_ORDER.filter((m) => presentMeasures.includes(m)), ...presentMeasures.filter((m) => !(MEASURE_ORDER as readonly string[]).includes(m))];
  // Side by side at each level: a slot per (family, measure); colour = family (= measure when there is one family),
  // shape = measure.
  for (const r of [...rows, ...summary]) r['slot'] = `${r['family']} · ${r['measure']}`;
  const slots = families.flatMap((f) => measures.map((m) => `${f} · ${m}`));
  const x = { field: 'level', type: 'ordinal' as const, title: AXIS.level, sort: levels, axis: { labelAngle: 0 } };
  const byMeasureColour = families.length === 1 && measures.length > 1;
  const color = byMeasureColour
    ? { field: 'measure', type: 'nominal' as const, title: `${families[0]}`, sort: measures, scale: { domain: measures, range: MEASURE_COLORS }, legend: { symbolOpacity: 1 } }
    : { ...colorEncoding('family', families, false, 'env family'), legend: { symbolOpacity: 1 } };
  const shape = { field: 'measure', type: 'nominal' as const, title: byMeasureColour ? `${families[0]}` : 'measure', sort: measures, scale: { domain: measures, range: ['circle', 'diamond', 'square'] }, legend: { symbolOpacity: 1 } };
  const offset = { field: 'slot', type: 'nominal' as const, sort: slots };
  const width = Math.max(210, levels.length * Math.max(44, 14 * slots.length + 24));
  const shownComponents = components.length > 0 ? components : ['policy'];
  const single = measures.length <= 1;
  const yTitle = single && measures[0] !== undefined && measures[0] !== MEASURE_ORDER[0] ? `B_simple, ${measures[0]} (samples)` : single ? AXIS.bSimpleAvg : AXIS.bSimpleLevel;
  // A panel per component, each with its own log axis: the value gradient's noise scale can sit decades below the policy's.
  const panel = (component: string) => {
    const own = [...rows, ...summary].filter((r) => r['component'] === component);
    const log = logScale(own.flatMap((r) => [r['b'] as number, r['lo'] as number, r['hi'] as number]));
    const top = (log.scale['domain'] as [number, number])[1];
    // An interval unbounded above runs to the top of the panel.
    const values = own.map((r) => (r['kind'] !== 'seed' && !positive(r['hi'] as number) ? { ...r, hi: top } : r));
    const y = { field: 'b', type: 'quantitative' as const, title: yTitle, scale: log.scale, axis: log.axis };
    const ySame = { field: 'b', type: 'quantitative' as const, scale: log.scale };
    return {
      title: { text: component, fontSize: 12, fontWeight: 'normal' as const, anchor: 'middle' as const },
      data: { values },
      width,
      height: 260,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'seed'" }],
          mark: { type: 'point', filled: true, opacity: 0.35, size: 22 },
          encoding: { x, xOffset: offset, y, color, shape },
        },
        {
          transform: [{ filter: "datum.kind !== 'seed'" }],
          mark: { type: 'rule', strokeWidth: 1.5, clip: true },
          encoding: { x, xOffset: offset, y: { field: 'lo', type: 'quantitative', scale: log.scale }, y2: { field: 'hi' }, color },
        },
        {
          transform: [{ filter: "datum.kind === 'mean'" }],
          mark: { type: 'point', filled: true, size: 75, opacity: 1 },
          encoding: { x, xOffset: offset, y: ySame, color, shape },
        },
        {
          transform: [{ filter: "datum.kind === 'bound'" }],
          mark: { type: 'point', shape: 'triangle-up', filled: true, size: 80, opacity: 1 },
          encoding: { x, xOffset: offset, y: ySame, color },
        },
      ],
    };
  };
  const defaultSubtitle = groups
    ? [
        'small points: seeds; large points: pooled over seeds (mean tr(Σ) / mean |G|²), bars: its interval (to the top: unbounded above)',
        '▲: unresolved, drawn at its lower bound',
      ]
    : 'small points: seeds; large points: geometric mean over seeds; bars: min–max over seeds';
  return {
    ...SPEC_BASE,
    title: { text: options.title ?? 'Gradient noise scale vs task difficulty', subtitle: options.subtitle ?? defaultSubtitle },
    hconcat: shownComponents.map(panel),
    spacing: 16,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

export function noiseVsDifficulty(points: readonly DifficultyPoint[], options: PlotOptions = {}, groups?: readonly DifficultyGroup[]): Promise<string> {
  return renderSvg(noiseVsDifficultySpec(points, options, groups), options.id ?? 'noise-vs-difficulty');
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((a, v) => a + Math.log(v), 0) / values.length);
}
