/**
 * A critical-batch folder's section: steps vs samples to reach each target with the fitted tradeoff, B_crit vs
 * B_simple, and the fits table; and, across the critical-batch parts of a reproduce folder, the points of the summary
 * figure (coloured by task: env and level) and the table saying where every target is on it, or why not.
 */
import path from 'node:path';
import { FINDINGS_CONFIDENCE } from '../analysis/findings.js';
import { bSimpleOverBCrit, measureOf, NOISE_MEASURES, placeFit, type CriticalFit, type MissingReason, type Placement } from '../analysis/findings-critical.js';
import { formatCompact, formatFigure, formatValue } from '../analysis/findings-format.js';
import { details, note, pct, section, table, type ReportPage, type Section } from './html.js';
import type { CriticalInfo } from './load.js';
import { groupMetadata } from './run-section.js';
import { bCritVsBSimple, paretoFronts, type CriticalPoint, type ParetoTarget } from './plots/critical.js';
import { noiseVsBCrit, type MeasurePoint } from './plots/noise-vs-bcrit.js';

/** `GaussianBandit-v0 L1`: the task a critical-batch folder measured. */
export function taskName(info: CriticalInfo): string {
  return Number.isFinite(info.level) ? `${info.env} L${info.level}` : info.env;
}

/** A fit's target: `return ≥ 195`, or for a fraction of the return range both, `80% (return ≥ 300)`; `short` names it on the figure. */
function targetLabels(fit: CriticalFit, index: number): { label: string; short: string } {
  const returnLabel = Number.isFinite(fit.target) ? `return ≥ ${formatCompact(fit.target)}` : `target ${index + 1}`;
  return fit.spec?.kind === 'fraction' || fit.spec?.kind === 'score' ? { label: `${fit.spec.label} (${returnLabel})`, short: fit.spec.label } : { label: returnLabel, short: returnLabel };
}

const REGIME_TEXT: Record<string, string> = {
  fit: 'fit',
  b_crit_above_range: 'B_crit above the batch sizes tried',
  b_crit_below_range: 'B_crit below the batch sizes tried',
  not_fitted: 'not fitted',
};

function regimeText(regime: string): string {
  return REGIME_TEXT[regime] ?? (regime.replace(/_/g, ' ') || '–');
}

const MISSING_TEXT: Record<MissingReason, string> = {
  'b-simple-unresolved': 'B_simple unresolved',
  'above-range': 'B_crit above the batch sizes tried',
  'below-range': 'B_crit below the batch sizes tried',
  'not-fitted': 'not fitted',
  'no-b-crit': 'no B_crit',
};

function placementText(placed: Placement): string {
  if (placed.kind === 'missing') return `not drawn: ${MISSING_TEXT[placed.reason]}`;
  if (placed.kind === 'lower') return `▶ B_crit ≥ ${formatValue(placed.bCrit)}`;
  if (placed.kind === 'upper') return `◀ B_crit ≤ ${formatValue(placed.bCrit)}`;
  return 'point';
}

function ratioText(fit: CriticalFit): string {
  const ratio = bSimpleOverBCrit(fit);
  return Number.isFinite(ratio) && ratio > 0 ? `${formatValue(ratio)}×` : '–';
}

export async function criticalSection(page: ReportPage, info: CriticalInfo, prefix: string, withSummaryFigure: boolean): Promise<Section> {
  const figures: string[] = [];
  const measures = measurePoints([info]);
  if (withSummaryFigure && measures.length > 0) {
    const name = `${prefix}noise-vs-bcrit`;
    const svg = await noiseVsBCrit(measures, { id: name, title: `Noise scales vs B_crit: ${taskName(info)}` });
    figures.push(page.figure(name, svg, `Every noise-scale measure (${info.component} gradient, averaged up to each target) vs the measured B_crit (log-log), with y = x and a least-squares power law per measure.`));
  }
  const points = criticalPoints([info]);
  if (withSummaryFigure && points.length > 0) {
    const name = `${prefix}bcrit-vs-bsimple`;
    const svg = await bCritVsBSimple(points, { id: name });
    figures.push(page.figure(name, svg, `Average B_simple (${info.component} gradient, up to the target) vs measured B_crit (log-log), with y = x and 10× either way.`));
  }
  const targets: ParetoTarget[] = info.fits.map((f, i) => ({ label: targetLabels(f, i).label, points: f.points, sMin: f.sMin, eMin: f.eMin, bCrit: f.bCrit.value }));
  if (targets.some((t) => t.points.length > 0 || Number.isFinite(t.bCrit))) {
    const name = `${prefix}pareto-fronts`;
    const svg = await paretoFronts(targets, { id: name, title: `Steps vs samples to reach each target: ${taskName(info)}` });
    figures.push(page.figure(name, svg, 'Optimizer steps S vs samples E to reach each target (log-log), with the fitted tradeoff hyperbola.'));
  }
  // Run tables and metadata last: the findings and figures lead.
  const criticalDetails = [groupMetadata(info.manifest, info.runs)];
  if (info.file !== null) criticalDetails.push(details('Fits (critical-batch.json)', JSON.stringify(info.file, null, 2)));
  const title = `Critical batch size: ${taskName(info)}${info.part !== path.basename(page.dir) ? ` (${info.part})` : ''}`;
  return section(title, { figures, findings: [criticalTable(info)], details: criticalDetails }, ['findings', 'figures', 'details']);
}

/** Points of the like-with-like figure: every fit's B_crit (a point estimate, not a bound) against each measure. */
export function measurePoints(infos: readonly CriticalInfo[]): MeasurePoint[] {
  return infos.flatMap((info) =>
    info.fits.flatMap((f, k) => {
      if (placeFit(f, info.batchSizes).kind !== 'point') return [];
      return NOISE_MEASURES.map((measure) => ({ measure, label: `${taskName(info)}, ${targetLabels(f, k).short}`, bCrit: f.bCrit.value, value: measureOf(f, measure).value }));
    }),
  );
}

/** Points of the B_crit vs B_simple figure, coloured by task (env and level; the part name too where two share them). */
export function criticalPoints(infos: readonly CriticalInfo[]): CriticalPoint[] {
  const tasks = infos.map(taskName);
  return infos.flatMap((info, i) => {
    const task = tasks.filter((t) => t === tasks[i]).length > 1 ? `${tasks[i]} (${info.part})` : tasks[i]!;
    return info.fits.flatMap((f, k) => {
      const placed = placeFit(f, info.batchSizes);
      if (placed.kind === 'missing') return [];
      const short = targetLabels(f, k).short;
      return [
        {
          label: `${task}, ${short}`,
          group: task,
          text: short,
          ...(placed.kind !== 'point' ? { bound: placed.kind } : {}),
          bCrit: placed.bCrit,
          bCritLo: f.bCrit.lo,
          bCritHi: f.bCrit.hi,
          bSimple: f.bSimple.value,
          bSimpleLo: f.bSimple.lo,
          bSimpleHi: f.bSimple.hi,
        },
      ];
    });
  });
}

/** Every target of every critical-batch part: where it is on the summary figure, or why it is not. */
export function criticalSummaryTable(infos: readonly CriticalInfo[]): string {
  const rows = infos.flatMap((info) => {
    if (info.fits.length === 0) return [[info.part, taskName(info), '–', '–', '–', '–', '–', 'no fits yet']];
    return info.fits.map((f, i) => [
      info.part,
      taskName(info),
      targetLabels(f, i).label,
      regimeText(f.regime),
      formatFigure(f.bCrit),
      formatFigure(f.bSimple),
      ratioText(f),
      placementText(placeFit(f, info.batchSizes)),
    ]);
  });
  return (
    table('B_crit and B_simple of every critical-batch part', ['part', 'task (env, level)', 'target', 'fit', 'B_crit = E_min/S_min', 'B_simple avg to target', 'B_simple / B_crit', 'on the figure'], rows) +
    note(
      `B_simple here: each part's component (critical-batch.json), averaged up to the target, pooled over the runs that reached it. Intervals: ${pct(FINDINGS_CONFIDENCE)} bootstrap. The paper finds B_simple/B_crit within about 10× either way across tasks.`,
    )
  );
}

function criticalTable(info: CriticalInfo): string {
  if (info.fits.length === 0) return note('No fits in critical-batch.json yet.');
  const withExtra = info.fits.some((f) => f.extra);
  const rows = info.fits.map((f, i) => {
    const base = [targetLabels(f, i).label, regimeText(f.regime), String(new Set(f.points.map((p) => p.batchSize)).size)];
    if (!withExtra || !f.extra) return [...base, formatValue(f.sMin), formatValue(f.eMin), formatFigure(f.bCrit), formatFigure(f.bSimple), ratioText(f)];
    const x = f.extra;
    return [
      ...base,
      formatFigure(x.sMin),
      formatFigure(x.eMin),
      formatFigure(f.bCrit),
      formatFigure(f.bSimple),
      formatFigure(x.bSimpleW),
      formatFigure(x.bNoise),
      formatFigure(x.bNoiseW),
      ratioText(f),
      x.edges.join(', ') || '–',
    ];
  });
  const head = ['target', 'fit', 'batch sizes reaching it'];
  const columns = withExtra
    ? [...head, 'S_min (updates)', 'E_min (env steps)', 'B_crit = E_min/S_min', 'B_simple (ratio of means)', 'B_simple (w-weighted)', 'B_noise (ratio of means)', 'B_noise (w-weighted)', 'B_simple / B_crit', 'lr at grid edge']
    : [...head, 'S_min (updates)', 'E_min (env steps)', 'B_crit = E_min/S_min', 'B_simple avg to target', 'B_simple / B_crit'];
  return (
    table(`Findings: critical batch size, ${taskName(info)}`, columns, rows) +
    note(
      withExtra
        ? 'S_min, E_min and B_crit: profile-likelihood fit over the seeds (95% intervals); noise scales averaged up to the target over the runs that reached it (bootstrap over runs); w-weighted: Σ w_t B_t / Σ w_t, w_t = 1/(1 + B_t/B). "lr at grid edge": the best lr of that batch size was the lowest/highest tried even after extending the grid. The paper finds B_simple/B_crit within about 10× either way across tasks.'
        : 'The paper finds B_simple/B_crit within about 10× either way across tasks.',
    )
  );
}
