/**
 * The figures of a gradnoise report, as SVG text: Vega-Lite specs compiled to Vega and rendered headless (no canvas,
 * no DOM, no fonts embedded; text widths are estimated). Each function takes parsed data and returns the SVG; the
 * `...Spec` functions return the Vega-Lite spec behind it, for users who want to restyle a figure.
 *
 * Conventions, following McCandlish et al. (2018): noise scales and critical batch sizes in samples (for RL, env
 * steps) on log axes; training progress in env steps; steps-vs-samples fronts on log-log axes. Values that cannot
 * be drawn on a log axis (NaN: B_simple not resolved; ≤ 0; ±∞ interval ends) leave gaps rather than being invented.
 * The same data always give the same SVG text: element ids are renumbered from a per-figure prefix, so several
 * figures can also be inlined in one HTML page without clashing.
 */
import * as vega from 'vega';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import { compile, type TopLevelSpec } from 'vega-lite';


/** One noise.csv measurement of one component: the smoothed B_simple with its interval. */
export interface NoisePoint {
  envSteps: number;
  component: string;
  /** B_simple in samples; NaN when not resolved. */
  bSimple: number;
  lo?: number;
  hi?: number;
}

export interface ReturnPoint {
  envSteps: number;
  /** Mean episode return; NaN before the first episode ends. */
  returnMean: number;
}

/** The curves of one run. */
export interface TrainingCurves {
  /** Legend entry (colour): the run's name, or e.g. `level 2` when runs are grouped. */
  label: string;
  /** Tells apart runs that share a label (seeds); defaults to the label. */
  runId?: string;
  noise: readonly NoisePoint[];
  returns: readonly ReturnPoint[];
}

export interface PlotOptions {
  title?: string;
  subtitle?: string;
  /** Prefix of the SVG's element ids; give each figure of one page its own. */
  id?: string;
  /** Labels are ordered (difficulty levels): sequential colours in the given order instead of categorical ones. */
  ordered?: boolean;
  /** Title of the legend of run labels (default `run`). */
  legendTitle?: string;
}

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

export interface LevelCurves {
  family: string;
  level: number;
  runId: string;
  returns: readonly ReturnPoint[];
}

/** Steps and samples one run needed to reach a target. */
export interface ParetoPoint {
  batchSize: number;
  /** Optimizer steps S. */
  steps: number;
  /** Samples (env steps) E. */
  samples: number;
  seed?: number | string;
}

export interface ParetoTarget {
  /** e.g. `return ≥ 195`. */
  label: string;
  points: readonly ParetoPoint[];
  /** The fit (S/S_min − 1)(E/E_min − 1) = 1; drawn when all three are finite and > 0. */
  sMin?: number;
  eMin?: number;
  bCrit?: number;
}

export interface CriticalPoint {
  /** e.g. `GaussianBandit-v0 L1, 75%`. */
  label: string;
  /** Colour and legend entry: the task the point belongs to, e.g. `GaussianBandit-v0 L1`; one colour when absent. */
  group?: string;
  /** The text drawn beside the point (default: label); with a group, e.g. just the target `75%`. */
  text?: string;
  /** B_crit is only a bound (fit regime above / below the batch sizes tried): drawn as ▶ (B_crit ≥ x) or ◀ (B_crit ≤ x). */
  bound?: 'lower' | 'upper';
  bCrit: number;
  bCritLo?: number;
  bCritHi?: number;
  bSimple: number;
  bSimpleLo?: number;
  bSimpleHi?: number;
}

const COMPONENT_COLORS = ['#1f77b4', '#d62728', '#7f7f7f'];
/** Run average, matched progress. */
const MEASURE_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c'];

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

/** The measures of noise vs difficulty, in the order their panels are drawn. */
export const MEASURE_ORDER = ['run average', 'matched progress'] as const;

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

const SI = '~s';
/** Linear env-steps axis: SI labels, and a plain 0 rather than '0k'. */
const STEPS_AXIS = { format: SI, labelExpr: "datum.value === 0 ? '0' : datum.label" };

// ---------------------------------------------------------------------------------------------------------------
// Figures

/** B_simple (log) vs env steps with its interval band, per component and run; below it, mean return vs env steps. */
export function noiseOverTrainingSpec(runs: readonly TrainingCurves[], options: PlotOptions = {}): TopLevelSpec {
  const labels = unique(runs.map((r) => r.label));
  const single = labels.length <= 1;
  const noise: Record<string, unknown>[] = [];
  for (const run of runs) {
    const byComponent = new Map<string, NoisePoint[]>();
    for (const p of run.noise) byComponent.set(p.component, [...(byComponent.get(p.component) ?? []), p]);
    for (const p of [...byComponent.values()].flatMap((series) => thin(series, MAX_POINTS))) {
      if (!Number.isFinite(p.envSteps)) continue;
      const band = positive(p.lo) && positive(p.hi);
      noise.push({
        run: run.runId ?? run.label,
        label: run.label,
        component: p.component,
        env_steps: p.envSteps,
        b_simple: positive(p.bSimple) ? p.bSimple : null,
        lo: band ? p.lo : null,
        hi: band ? p.hi : null,
      });
    }
  }
  const returns = returnRows(runs.map((r) => ({ label: r.label, run: r.runId ?? r.label, returns: r.returns })));
  const components = NOISE_COMPONENTS.filter((c) => noise.some((row) => row['component'] === c));
  const extra = unique(noise.map((row) => String(row['component']))).filter((c) => !components.includes(c as NoiseComponent));
  const componentDomain = [...components, ...extra];
  const resolvedCount = noise.filter((row) => row['b_simple'] !== null).length;
  const log = logScale(noise.map((row) => row['b_simple'] as number | null));
  const x = { field: 'env_steps', type: 'quantitative' as const, title: AXIS.envSteps, axis: STEPS_AXIS };
  const y = { field: 'b_simple', type: 'quantitative' as const, title: AXIS.bSimple, scale: log.scale, axis: log.axis };
  const band = { field: 'lo', type: 'quantitative' as const, title: AXIS.bSimple, scale: log.scale, axis: log.axis };
  const lineLegend = { symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolOpacity: 1 };
  const labelColor = { ...colorEncoding('label', labels, options.ordered === true, options.legendTitle ?? 'run'), legend: lineLegend };
  const componentColor = {
    field: 'component',
    type: 'nominal' as const,
    title: 'component',
    legend: lineLegend,
    scale: { domain: componentDomain, range: componentDomain.map((c, i) => COMPONENT_COLORS[NOISE_COMPONENTS.indexOf(c as NoiseComponent)] ?? extraColor(i)) },
  };
  const subtitle =
    options.subtitle ??
    (resolvedCount === 0
      ? 'no resolved measurement yet: |G|² not significantly > 0'
      : 'EMA of tr(Σ) over EMA of |G|²; band: confidence interval; gaps: unresolved');

  const layers = (color: object) => [
    {
      // Few runs (the seeds of one level): their bands stay visible; many: faint, so the lines stay readable.
      mark: { type: 'area' as const, opacity: single ? 0.15 : runs.length <= 4 ? 0.12 : 0.07, clip: true },
      encoding: { x, y: band, y2: { field: 'hi' }, color, detail: { field: 'run' } },
    },
    {
      mark: { type: 'line' as const, strokeWidth: 1.8, clip: true },
      encoding: { x, y, color, detail: { field: 'run' } },
    },
  ];

  const noisePanel = single
    ? {
        title: { text: options.title ?? 'Gradient noise scale over training', subtitle },
        data: { values: noise },
        width: 520,
        height: 240,
        layer: layers(componentColor),
      }
    : {
        title: { text: options.title ?? 'Gradient noise scale over training', subtitle },
        data: { values: noise },
        facet: { column: { field: 'component', type: 'nominal' as const, title: 'component', sort: componentDomain } },
        spec: { width: 250, height: 210, layer: layers(labelColor) },
        resolve: { scale: { y: 'shared' as const } },
      };

  const returnPanel = {
    title: { text: 'Mean episode return', subtitle: 'over the last 20 episodes' },
    data: { values: returns },
    width: single ? 520 : 560,
    height: 170,
    mark: { type: 'line' as const, strokeWidth: 1.6 },
    encoding: {
      x,
      y: { field: 'return_mean', type: 'quantitative' as const, title: AXIS.returnMean },
      ...(single ? { color: { value: '#2ca02c' } } : { color: labelColor }),
      detail: { field: 'run' },
    },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    vconcat: returns.length > 0 ? [noisePanel, returnPanel] : [noisePanel],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

export function noiseOverTraining(runs: readonly TrainingCurves[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(noiseOverTrainingSpec(runs, options), options.id ?? 'noise-over-training');
}

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
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: options.title ?? 'Gradient noise scale vs task difficulty', subtitle: options.subtitle ?? defaultSubtitle },
    hconcat: shownComponents.map(panel),
    spacing: 16,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

export function noiseVsDifficulty(points: readonly DifficultyPoint[], options: PlotOptions = {}, groups?: readonly DifficultyGroup[]): Promise<string> {
  return renderSvg(noiseVsDifficultySpec(points, options, groups), options.id ?? 'noise-vs-difficulty');
}

/** Mean return vs env steps, one line per run coloured by level, one panel per env family. */
export function returnCurvesPerLevelSpec(runs: readonly LevelCurves[], options: PlotOptions = {}): TopLevelSpec {
  const rows = returnRows(runs.map((r) => ({ label: r.level, run: r.runId, returns: r.returns, family: r.family })));
  const families = unique(runs.map((r) => r.family));
  const levels = unique(runs.map((r) => r.level)).sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: { text: options.title ?? 'Learning curves per difficulty level', subtitle: options.subtitle ?? 'mean return over the last 20 episodes; one line per run' },
    data: { values: rows },
    facet: { field: 'family', type: 'nominal', title: null, sort: families, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: 2,
    spec: {
      width: 320,
      height: 190,
      mark: { type: 'line', strokeWidth: 1.5 },
      encoding: {
        x: { field: 'env_steps', type: 'quantitative', title: AXIS.envSteps, axis: STEPS_AXIS },
        y: { field: 'return_mean', type: 'quantitative', title: AXIS.returnMean },
        color: { field: 'label', type: 'ordinal', title: 'level', sort: levels, scale: { scheme: { name: 'viridis', extent: [0, 0.85] } } },
        detail: { field: 'run' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

export function returnCurvesPerLevel(runs: readonly LevelCurves[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(returnCurvesPerLevelSpec(runs, options), options.id ?? 'return-curves');
}

/** Steps S vs samples E to reach each target (log-log): measured runs and the fitted hyperbola. */
export function paretoFrontsSpec(targets: readonly ParetoTarget[], options: PlotOptions = {}): TopLevelSpec {
  const points: Record<string, unknown>[] = [];
  const curve: Record<string, unknown>[] = [];
  const crit: Record<string, unknown>[] = [];
  for (const t of targets) {
    const batches: number[] = [];
    for (const p of t.points) {
      if (!positive(p.steps) || !positive(p.samples)) continue;
      points.push({ target: t.label, S: p.steps, E: p.samples, batch: p.batchSize, seed: p.seed ?? null });
      if (positive(p.batchSize)) batches.push(p.batchSize);
    }
    if (positive(t.sMin) && positive(t.eMin) && positive(t.bCrit)) {
      const lo = Math.min(t.bCrit, ...batches) / 8;
      const hi = Math.max(t.bCrit, ...batches) * 8;
      for (let i = 0; i <= 80; i++) {
        const b = lo * (hi / lo) ** (i / 80);
        curve.push({ target: t.label, B: b, order: i, S: t.sMin * (1 + t.bCrit / b), E: t.eMin * (1 + b / t.bCrit) });
      }
      crit.push({ target: t.label, S: 2 * t.sMin, E: 2 * t.eMin, B: t.bCrit });
    }
  }
  // One label per (target, batch size): at the median run, so seeds do not stack their labels.
  const labels: Record<string, unknown>[] = [];
  const byKey = new Map<string, Record<string, unknown>[]>();
  for (const p of points) {
    const key = `${p['target']}\u0000${p['batch']}`;
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
  }
  for (const group of byKey.values()) {
    const sorted = [...group].sort((a, b) => (a['E'] as number) - (b['E'] as number));
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    labels.push({ ...mid, text: `B=${formatNumber(mid['batch'] as number)}` });
  }
  const targetLabels = targets.map((t) => t.label);
  const color = colorEncoding('target', targetLabels, false, 'target');
  const xLog = logScale([...points, ...crit].map((p) => p['E'] as number));
  const yLog = logScale([...points, ...crit].map((p) => p['S'] as number));
  const x = { field: 'E', type: 'quantitative' as const, title: AXIS.samples, scale: xLog.scale, axis: xLog.axis };
  const y = { field: 'S', type: 'quantitative' as const, title: AXIS.steps, scale: yLog.scale, axis: yLog.axis };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: options.title ?? 'Steps vs samples to reach each target',
      subtitle: options.subtitle ?? 'points: runs (labels: batch size); lines: fit (S/S_min − 1)(E/E_min − 1) = 1; diamonds: B = B_crit',
    },
    width: 520,
    height: 340,
    layer: [
      { data: { values: curve }, mark: { type: 'line', strokeWidth: 1.6, clip: true }, encoding: { x, y, color, order: { field: 'order' } } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 45, opacity: 0.85 }, encoding: { x, y, color } },
      {
        data: { values: crit },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 110, stroke: 'black', strokeWidth: 0.8 },
        encoding: { x, y, color },
      },
      {
        data: { values: labels },
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#444' },
        encoding: { x, y, text: { field: 'text' } },
      },
    ],
  } as TopLevelSpec;
}

export function paretoFronts(targets: readonly ParetoTarget[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(paretoFrontsSpec(targets, options), options.id ?? 'pareto-fronts');
}

/**
 * The paper's summary figure: B_simple vs measured B_crit (log-log) with y = x and the 10× band, points labelled;
 * coloured by task when points carry a `group`. A B_crit that is only a bound is drawn as ▶ (≥) or ◀ (≤).
 */
export function bCritVsBSimpleSpec(points: readonly CriticalPoint[], options: PlotOptions = {}): TopLevelSpec {
  const rows = points
    .filter((p) => positive(p.bCrit) && positive(p.bSimple))
    .map((p) => ({
      label: p.label,
      group: p.group ?? '',
      text: p.text ?? p.label,
      bound: p.bound ?? 'none',
      b_crit: p.bCrit,
      b_simple: p.bSimple,
      x_lo: positive(p.bCritLo) && !p.bound ? p.bCritLo : p.bCrit,
      x_hi: positive(p.bCritHi) && Number.isFinite(p.bCritHi) && !p.bound ? p.bCritHi : p.bCrit,
      y_lo: positive(p.bSimpleLo) ? p.bSimpleLo : p.bSimple,
      y_hi: positive(p.bSimpleHi) && Number.isFinite(p.bSimpleHi) ? p.bSimpleHi : p.bSimple,
    }));
  const all = rows.flatMap((r) => [r.b_crit, r.b_simple, r.x_lo, r.x_hi, r.y_lo, r.y_hi]);
  const log = logScale(all, 1.5);
  const [lo, hi] = log.scale['domain'] as [number, number];
  const reference = [
    { line: 'y = x', a: lo, b: lo, order: 0 },
    { line: 'y = x', a: hi, b: hi, order: 1 },
    { line: 'y = 10x, x/10', a: lo, b: lo * 10, order: 0 },
    { line: 'y = 10x, x/10', a: hi / 10, b: hi, order: 1 },
    { line: 'y = x/10', a: lo * 10, b: lo, order: 0 },
    { line: 'y = x/10', a: hi, b: hi / 10, order: 1 },
  ];
  const scale = log.scale;
  const x = { field: 'b_crit', type: 'quantitative' as const, title: AXIS.bCrit, scale, axis: log.axis };
  const y = { field: 'b_simple', type: 'quantitative' as const, title: AXIS.bSimpleAvg, scale, axis: log.axis };
  const groups = unique(points.filter((p) => positive(p.bCrit) && positive(p.bSimple)).map((p) => p.group ?? '')).filter((g) => g !== '');
  const color = groups.length > 0 ? { color: { ...colorEncoding('group', groups, false, 'task'), legend: { symbolOpacity: 1, labelLimit: 320 } } } : {};
  const fixed = groups.length > 0 ? {} : { color: '#1f77b4' };
  const bounds = rows.some((r) => r.bound !== 'none');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: CONFIG,
    title: {
      text: options.title ?? 'Noise scale predicts the critical batch size',
      subtitle:
        options.subtitle ??
        (bounds
          ? ['solid: B_simple = B_crit; dashed: 10× either way; bars: intervals', '▶ / ◀: B_crit only bounded (≥ / ≤): it lies outside the batch sizes tried']
          : 'solid: B_simple = B_crit; dashed: 10× either way; bars: intervals'),
    },
    width: 380,
    height: 380,
    layer: [
      {
        data: { values: reference },
        mark: { type: 'line', clip: true, color: '#888' },
        encoding: {
          x: { field: 'a', type: 'quantitative', scale, title: AXIS.bCrit },
          y: { field: 'b', type: 'quantitative', scale, title: AXIS.bSimpleAvg },
          strokeDash: {
            field: 'line',
            type: 'nominal',
            scale: { domain: ['y = x', 'y = 10x, x/10', 'y = x/10'], range: [[1, 0], [5, 4], [5, 4]] },
            legend: null,
          },
          detail: { field: 'line' },
          order: { field: 'order' },
        },
      },
      { data: { values: rows }, mark: { type: 'rule', opacity: 0.6, ...fixed }, encoding: { x: { ...x, field: 'x_lo' }, x2: { field: 'x_hi' }, y, ...color } },
      { data: { values: rows }, mark: { type: 'rule', opacity: 0.6, ...fixed }, encoding: { x, y: { ...y, field: 'y_lo' }, y2: { field: 'y_hi' }, ...color } },
      {
        data: { values: rows },
        transform: [{ filter: "datum.bound === 'none'" }],
        mark: { type: 'point', filled: true, size: 60, opacity: 1, ...fixed },
        encoding: { x, y, ...color },
      },
      {
        data: { values: rows },
        mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 10, color: '#222' },
        encoding: { x, y, text: { field: 'text' } },
      },
      {
        data: { values: rows },
        transform: [{ filter: "datum.bound !== 'none'" }],
        mark: { type: 'point', filled: true, size: 90, opacity: 1, ...fixed },
        encoding: {
          x,
          y,
          shape: { field: 'bound', type: 'nominal', scale: { domain: ['lower', 'upper'], range: ['triangle-right', 'triangle-left'] }, legend: null },
          ...color,
        },
      },
    ],
  } as TopLevelSpec;
}

export function bCritVsBSimple(points: readonly CriticalPoint[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(bCritVsBSimpleSpec(points, options), options.id ?? 'bcrit-vs-bsimple');
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

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

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Points per drawn series: more are thinned to an even stride (first and last kept); a line gains nothing from them. */
export const MAX_POINTS = 400;

function thin<T>(series: readonly T[], max: number): readonly T[] {
  if (series.length <= max) return series;
  const stride = (series.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => series[Math.round(i * stride)]!);
}

function positive(value: number | undefined | null): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function orderComponents(values: readonly string[]): string[] {
  const present = unique(values);
  return [...NOISE_COMPONENTS.filter((c) => present.includes(c)), ...present.filter((c) => !NOISE_COMPONENTS.includes(c as NoiseComponent))];
}

function geometricMean(values: readonly number[]): number {
  return Math.exp(values.reduce((a, v) => a + Math.log(v), 0) / values.length);
}

/**
 * A log scale and axis for the finite positive values: the domain widened by `pad`× each side and snapped out to whole
 * decades; ticks and grid lines at decades (and at 2 and 5 times them when the domain spans fewer than three).
 */
function logScale(values: readonly (number | null | undefined)[], pad = 1.2): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
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

function returnRows(runs: readonly { label: string | number; run: string; returns: readonly ReturnPoint[]; family?: string }[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const r of runs) {
    for (const p of thin(r.returns, MAX_POINTS)) {
      if (!Number.isFinite(p.envSteps)) continue;
      rows.push({
        label: r.label,
        run: r.run,
        ...(r.family !== undefined ? { family: r.family } : {}),
        env_steps: p.envSteps,
        return_mean: Number.isFinite(p.returnMean) ? p.returnMean : null,
      });
    }
  }
  return rows;
}

function colorEncoding(field: string, domain: readonly (string | number)[], ordered: boolean, title: string): Record<string, unknown> {
  return ordered
    ? { field, type: 'ordinal', title, sort: domain, scale: { domain, scheme: { name: 'viridis', extent: [0, 0.85] } } }
    : { field, type: 'nominal', title, sort: domain, scale: { domain, scheme: domain.length <= 10 ? 'category10' : 'tableau20' } };
}

function extraColor(i: number): string {
  const palette = ['#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'];
  return palette[i % palette.length]!;
}

/** 512 → '512', 12000 → '12k', 1.5e6 → '1.5M'. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const trim = (x: number) => String(Number(x.toPrecision(3)));
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  return Number.isInteger(value) ? String(value) : trim(value);
}
