/**
 * A run folder's section: B_simple over training (or the learning curve, with the monitor off), the findings per
 * component, the run's metadata and config. Also what the sweep and critical-batch sections show of their runs: the
 * curves the plots draw, status, final return, backends, and a group's metadata.
 */
import { componentFindings, FINDINGS_CONFIDENCE, runComponents, type RunData } from '../analysis/findings.js';
import { formatFigure } from '../analysis/findings-format.js';
import type { SweepManifest } from '../experiments/sweep/folder.js';
import type { NoiseColumn } from '../monitor/monitor.js';
import { cellNumber } from '../run/csv.js';
import type { RunMeta } from '../run/run-folder.js';
import { details, metaTable, note, pct, section, table, type ReportPage, type Section } from './html.js';
import { noiseOverTraining, returnCurvesPerLevel, type NoisePoint, type ReturnPoint, type TrainingCurves } from './plots/training.js';

/** noise.csv's component rows as the plots draw them: the monitor's smoothed B_simple with its interval. */
export function noisePoints(run: RunData): NoisePoint[] {
  const cell = (row: Readonly<Record<string, string>>, column: NoiseColumn) => cellNumber(row[column]);
  return (run.folder.noise?.rows ?? []).map((r) => ({
    envSteps: cell(r, 'env_steps'),
    component: r['component'] ?? '',
    bSimple: cell(r, 'b_simple'),
    lo: cell(r, 'b_simple_lo'),
    hi: cell(r, 'b_simple_hi'),
  }));
}

/**
 * The measurements that included B_noise (monitor.bNoise, every bNoiseEvery updates), per component as two series:
 * its smoothed B_noise and its B_simple at the same measurements, for the figure that compares them. Empty when the run has no B_noise values.
 */
export function bNoisePoints(run: RunData): NoisePoint[] {
  const cell = (row: Readonly<Record<string, string>>, column: NoiseColumn) => cellNumber(row[column]);
  const rows = (run.folder.noise?.rows ?? []).filter((r) => Number.isFinite(cell(r, 'trace_h_sigma')));
  const points: NoisePoint[] = [];
  for (const r of rows) {
    const component = r['component'] ?? '';
    const envSteps = cell(r, 'env_steps');
    points.push({ envSteps, component: `${component} B_noise`, bSimple: cell(r, 'b_noise'), lo: cell(r, 'b_noise_lo'), hi: cell(r, 'b_noise_hi') });
    points.push({ envSteps, component: `${component} B_simple`, bSimple: cell(r, 'b_simple'), lo: cell(r, 'b_simple_lo'), hi: cell(r, 'b_simple_hi') });
  }
  return points;
}

export function returnPoints(run: RunData): ReturnPoint[] {
  return run.series.returns.map((p) => ({ envSteps: p.envSteps, returnMean: p.returnMean }));
}

/** The last mean return the run logged (NaN before its first episode ended). */
export function finalReturn(run: RunData): number {
  const returns = run.series.returns;
  for (let i = returns.length - 1; i >= 0; i--) if (Number.isFinite(returns[i]!.returnMean)) return returns[i]!.returnMean;
  return NaN;
}

export function runStatus(run: RunData): string {
  return run.folder.summary?.status ?? (run.folder.metrics ? 'incomplete (no summary.json)' : 'not started');
}

/** A metrics.csv column's last value, when finite. */
export function lastMetric(run: RunData, column: string): number | undefined {
  const v = cellNumber(run.folder.metrics?.rows.at(-1)?.[column]);
  return Number.isFinite(v) ? v : undefined;
}

export function seedText(run: RunData): string {
  return run.seed === null ? '?' : String(run.seed);
}

export function backendText(meta: Pick<RunMeta, 'backend' | 'gpu'>): string {
  return `${meta.backend}${meta.gpu ? ' (GPU)' : ''}`;
}

/** The backends the runs actually used. */
export function backendsUsed(runs: readonly RunData[]): string {
  return [...new Set(runs.flatMap((r) => (r.meta ? [backendText(r.meta)] : [])))].join(', ');
}

/** Name, version and creation time from sweep.json; run counts; the backends the runs used. */
export function groupMetadata(manifest: SweepManifest | null, runs: readonly RunData[]): string {
  const statuses = new Map<string, number>();
  for (const run of runs) statuses.set(runStatus(run), (statuses.get(runStatus(run)) ?? 0) + 1);
  return metaTable('Metadata', [
    ['name', manifest?.name],
    ['gradnoise version', manifest?.version],
    ['created', manifest?.createdAt],
    ['runs', [...statuses].map(([status, n]) => `${n} ${status}`).join(', ')],
    ['backends used', backendsUsed(runs)],
  ]);
}

export async function runSection(page: ReportPage, run: RunData, prefix: string): Promise<Section> {
  const figures: string[] = [];
  const curves: TrainingCurves = { label: run.id, runId: run.id, noise: noisePoints(run), returns: returnPoints(run) };
  if (curves.noise.length > 0) {
    const svg = await noiseOverTraining([curves], {
      id: `${prefix}noise-over-training`,
      title: `Gradient noise scale over training: ${run.envId}${run.algo ? ` ${run.algo}` : ''}, level ${run.level}, seed ${seedText(run)}`,
    });
    figures.push(page.figure(`${prefix}noise-over-training`, svg, 'B_simple per component (log scale) and mean return vs env steps.'));
    const hessian = bNoisePoints(run);
    if (hessian.length > 0) {
      const bNoiseSvg = await noiseOverTraining([{ ...curves, noise: hessian }], {
        id: `${prefix}b-noise-over-training`,
        title: `B_noise = tr(HΣ)/GᵀHG beside B_simple: ${run.envId}${run.algo ? ` ${run.algo}` : ''}, level ${run.level}, seed ${seedText(run)}`,
        yTitle: 'noise scale (samples)',
      });
      figures.push(
        page.figure(
          `${prefix}b-noise-over-training`,
          bNoiseSvg,
          'B_noise (Hessian-weighted, measured every bNoiseEvery updates) and B_simple at the same measurements, per component, smoothed, with intervals (log scale); B_noise = B_simple when H ∝ I.',
        ),
      );
    }
  } else if (curves.returns.length > 0) {
    const svg = await returnCurvesPerLevel([{ family: run.envId, level: run.level, runId: run.id, returns: curves.returns }], {
      id: `${prefix}return-curve`,
      title: 'Learning curve (noise monitor off)',
    });
    figures.push(page.figure(`${prefix}return-curve`, svg, 'Mean return vs env steps.'));
  }
  const runDetails = [metadataTable(run)];
  if (run.config) runDetails.push(details('Resolved config (config.json)', JSON.stringify(run.config, null, 2)));
  return section(`Run ${run.id}`, { figures, findings: [runFindingsTable(run)], details: runDetails }, ['figures', 'findings', 'details']);
}

function runFindingsTable(run: RunData): string {
  const components = runComponents(run);
  if (components.length === 0) return note('No noise measurements (noise.csv missing or empty).');
  const rows = components.map((c) => {
    const f = componentFindings(run, c);
    return [c, String(f.measurements), formatFigure(f.start), formatFigure(f.end), formatFigure(f.growth, '×'), formatFigure(f.average), formatFigure(f.final)];
  });
  return (
    table(
      'Findings: gradient noise scale (B_simple, samples = env steps)',
      ['component', 'measurements', 'first quarter', 'last quarter', 'growth (last/first)', 'whole run', 'final (EMA)'],
      rows,
    ) +
    note(
      `Quarters by env steps; each B_simple is mean tr(Σ) / mean |G|² over the quarter's measurements with a ${pct(1 - (1 - FINDINGS_CONFIDENCE) / 2)} Fieller interval, so the growth interval holds jointly at ${pct(FINDINGS_CONFIDENCE)}. “unresolved”: |G|² not significantly > 0 (B_simple at least the number shown).`,
    )
  );
}

function metadataTable(run: RunData): string {
  const summary = run.folder.summary;
  const meta = run.meta;
  const config = run.config;
  const backend = meta ?? summary;
  return metaTable('Run metadata', [
    ['env', run.envId],
    ['level', run.level],
    ['algorithm', run.algo],
    ['seed', run.seed],
    ['status', runStatus(run)],
    ['env steps', summary?.envSteps ?? lastMetric(run, 'env_steps')],
    ['updates', summary?.updates ?? lastMetric(run, 'update')],
    ['final mean return', finalReturn(run)],
    ['batch size (samples per update)', lastMetric(run, 'batch_size')],
    ['learning rate', config?.agent.lr],
    ['optimizer', config?.agent.optimizer.type],
    ['noise grouping', config?.monitor.grouping],
    ['EMA horizon (env steps)', config?.monitor.emaHorizon],
    ['backend', backend ? backendText(backend) : '?'],
    ['gradnoise version', meta?.version],
    ['tfjs', meta?.tfjs],
    ['node', meta?.node],
    ['started', meta?.startedAt],
    ['wall time (s)', summary?.wallS],
  ]);
}
