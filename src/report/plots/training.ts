/**
 * Figures of training curves: B_simple over training (per component, with its interval band, mean return below) and
 * learning curves per difficulty level. Each function takes parsed data and returns the SVG; the `...Spec` functions
 * return the Vega-Lite spec behind it, for users who want to restyle a figure.
 */
import type { TopLevelSpec } from 'vega-lite';
import { NOISE_COMPONENTS, type NoiseComponent } from '../../core/components.js';
import { AXIS, colorEncoding, extraColor, logScale, MAX_POINTS, positive, renderSvg, SPEC_BASE, STEPS_AXIS, thin, unique, type PlotOptions } from './render.js';

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

export interface LevelCurves {
  family: string;
  level: number;
  runId: string;
  returns: readonly ReturnPoint[];
}

const COMPONENT_COLORS = ['#1f77b4', '#d62728', '#7f7f7f'];

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
  const y = { field: 'b_simple', type: 'quantitative' as const, title: options.yTitle ?? AXIS.bSimple, scale: log.scale, axis: log.axis };
  const band = { field: 'lo', type: 'quantitative' as const, title: options.yTitle ?? AXIS.bSimple, scale: log.scale, axis: log.axis };
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
    ...SPEC_BASE,
    vconcat: returns.length > 0 ? [noisePanel, returnPanel] : [noisePanel],
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}

export function noiseOverTraining(runs: readonly TrainingCurves[], options: PlotOptions = {}): Promise<string> {
  return renderSvg(noiseOverTrainingSpec(runs, options), options.id ?? 'noise-over-training');
}

/** Mean return vs env steps, one line per run coloured by level, one panel per env family. */
export function returnCurvesPerLevelSpec(runs: readonly LevelCurves[], options: PlotOptions = {}): TopLevelSpec {
  const rows = returnRows(runs.map((r) => ({ label: r.level, run: r.runId, returns: r.returns, family: r.family })));
  const families = unique(runs.map((r) => r.family));
  const levels = unique(runs.map((r) => r.level)).sort((a, b) => a - b);
  return {
    ...SPEC_BASE,
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
