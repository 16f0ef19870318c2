/**
 * Critical-batch figures: steps vs samples to reach each target with the fitted tradeoff (the Pareto fronts), and the
 * paper's summary figure, B_simple vs the measured B_crit with y = x.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatCompact } from '../../analysis/findings-format.js';
import { AXIS, colorEncoding, logScale, positive, renderSvg, SPEC_BASE, unique, type PlotOptions } from './render.js';

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
    labels.push({ ...mid, text: `B=${formatCompact(mid['batch'] as number)}` });
  }
  const targetLabels = targets.map((t) => t.label);
  const color = colorEncoding('target', targetLabels, false, 'target');
  const xLog = logScale([...points, ...crit].map((p) => p['E'] as number));
  const yLog = logScale([...points, ...crit].map((p) => p['S'] as number));
  const x = { field: 'E', type: 'quantitative' as const, title: AXIS.samples, scale: xLog.scale, axis: xLog.axis };
  const y = { field: 'S', type: 'quantitative' as const, title: AXIS.steps, scale: yLog.scale, axis: yLog.axis };
  return {
    ...SPEC_BASE,
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
    ...SPEC_BASE,
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

