/**
 * `gradnoise report DIR`: redraw the plots and `report.html` of an output folder from its CSV (and JSON) files alone.
 *
 * Folder kinds, told apart by the files present:
 * - run: `config.json` plus `metrics.csv` / `noise.csv` / `summary.json`;
 * - sweep: `sweep.json` or `sweep.csv`, with one run folder per run under `runs/`;
 * - critical-batch: `critical-batch.json` or `critical-batch.csv` (fits per target), runs under `runs/`;
 * - reproduce: sub-folders of the kinds above (and maybe `reproduce.json`).
 *
 * What a sweep shows, per env family: B_simple over training at level 0 (one line per seed, return below); B_simple
 * vs difficulty level, both the run average and at matched progress (analysis.ts's rule, as sweep-summary.json states
 * it), pooled over seeds; return curves per level; policy B_simple at every level (secondary); and a findings table:
 * growth over training at level 0, level-high / level-low ratios (run average and matched progress), with intervals and
 * a verdict in words. A reproduce folder adds, from reproduce.json, the preset, status, machine, wall time per part and
 * the rules; the findings of every sweep (policy gradient); and B_crit vs B_simple over every critical-batch part,
 * points coloured by task (env and level) and labelled by target.
 *
 * Plots go to `DIR/plots/*.svg`; `DIR/report.html` inlines every one of them (so the page is self-contained, opens
 * from file:// and loads nothing from the network) and links the SVG files.
 *
 * Findings are recomputed from noise.csv rather than copied from summary.json, so a killed run or a half-finished sweep
 * gets a report too, by analysis.ts's rules (the same as sweep.csv's): B_simple over a window of measurements is the
 * ratio of means, mean tr(Σ) / mean |G|² (never the mean of ratios), with Fieller's interval from the spread between
 * the window's measurements; across seeds, per-seed means are pooled and the interval is a bootstrap over seeds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NOISE_COMPONENTS } from '../core/components.js';
import { InvalidValueError } from '../core/errors.js';
import { getPath } from '../core/json-path.js';
import { cellNumber, readCsvIfExists, type CsvTable } from '../run/csv.js';
import {
  firstReaching,
  growthAggregate,
  growthOverTraining,
  matchedPoints,
  ratioOfMeans,
  seedAggregate,
  settingRatio,
  windowAround,
  type GrowthMeans,
  type Interval,
  type NoiseMeans,
  type NoiseMeasurement,
  type ReturnPoint as AnalysisReturnPoint,
  type WindowFigure,
} from '../analysis/noise-figures.js';
import {
  bCritVsBSimple,
  formatNumber,
  MEASURE_ORDER,
  noiseOverTraining,
  noiseVsDifficulty,
  paretoFronts,
  returnCurvesPerLevel,
  type CriticalPoint,
  type DifficultyGroup,
  type DifficultyPoint,
  type LevelCurves,
  type ParetoPoint,
  type ParetoTarget,
  type TrainingCurves,
} from './plots.js';
import { formatDuration } from '../run/progress.js';
import { MATCHED_FRACTION } from '../experiments/sweep/results.js';

export type FolderKind = 'run' | 'sweep' | 'critical-batch' | 'reproduce';

export interface ReportResult {
  kind: FolderKind;
  /** Absolute paths of the SVG files written, in the order the report shows them. */
  plots: string[];
  /** Absolute path of report.html. */
  html: string;
}

/** Two-sided confidence of every interval in the report. */
export const REPORT_CONFIDENCE = 0.95;

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** A metrics/noise/aggregate cell as a number (see `cellNumber`). */
function cell(row: Record<string, string> | undefined, column: string): number {
  return cellNumber(row?.[column]);
}

function readJsonIfAny(file: string): unknown {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

const has = (dir: string, name: string) => fs.existsSync(path.join(dir, name));

function isRunFolder(dir: string): boolean {
  return has(dir, 'config.json') && (has(dir, 'metrics.csv') || has(dir, 'noise.csv') || has(dir, 'summary.json'));
}

/** The kind of gradnoise output folder `dir` is, or null when it is none. */
export function detectFolder(dir: string): FolderKind | null {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return null;
  if (has(dir, 'critical-batch.json') || has(dir, 'critical-batch.csv')) return 'critical-batch';
  if (has(dir, 'sweep.json') || has(dir, 'sweep.csv')) {
    return asObject(readJsonIfAny(path.join(dir, 'sweep.json')))?.['kind'] === 'critical-batch' ? 'critical-batch' : 'sweep';
  }
  if (isRunFolder(dir)) return 'run';
  const children = subfolders(dir).map(detectFolder);
  if (has(dir, 'reproduce.json') || children.some((k) => k === 'sweep' || k === 'critical-batch')) return 'reproduce';
  return null;
}

function subfolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'plots' && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
    .sort();
}

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

export interface RunData {
  id: string;
  dir: string;
  config: Json | null;
  meta: Json | null;
  envId: string;
  level: number;
  seed: string;
  algo: string;
  metrics: CsvTable | null;
  /** Component rows only (per-layer rows dropped). */
  noise: CsvTable | null;
  summary: Json | null;
  /** The matched-progress return target sweep.csv gives the run (`matched_target`); NaN when none. */
  matchedTarget: number;
  /** Measurements per matched-progress window (the run's monitor.window, default 10). */
  window: number;
}

/**
 * `fallback` supplies what a sweep's aggregate row knows, and `manifestConfig` the config sweep.json planned, when the
 * run's own config.json is missing (a run that has not started).
 */
export function loadRun(dir: string, fallback: Record<string, string> = {}, manifestConfig: Json | null = null): RunData {
  const config = asObject(readJsonIfAny(path.join(dir, 'config.json'))) ?? manifestConfig;
  const noise = readCsvIfExists(path.join(dir, 'noise.csv'));
  if (noise && noise.columns.includes('layer')) noise.rows = noise.rows.filter((r) => r['layer'] === 'all' || r['layer'] === '');
  const text = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
  return {
    id: path.basename(dir),
    dir,
    config,
    meta: asObject(config?.['meta']),
    envId: text(getPath(config, 'env.id')) ?? fallback['env.id'] ?? fallback['env_id'] ?? 'unknown env',
    level: Number(getPath(config, 'env.level') ?? fallback['env.level'] ?? fallback['level'] ?? 0),
    seed: text(getPath(config, 'run.seed')) ?? fallback['run.seed'] ?? fallback['seed'] ?? '?',
    algo: text(getPath(config, 'agent.algo')) ?? fallback['agent.algo'] ?? '',
    metrics: readCsvIfExists(path.join(dir, 'metrics.csv')),
    noise,
    summary: asObject(readJsonIfAny(path.join(dir, 'summary.json'))),
    matchedTarget: cell(fallback, 'matched_target'),
    window: Number(getPath(config, 'monitor.window') ?? 10) || 10,
  };
}

/**
 * Run folders under `dir/runs/` (or, failing that, directly under `dir`), with the aggregate CSV's rows and the
 * manifest's planned configs (sweep.json `runs`) as fallbacks.
 */
function loadRuns(dir: string, aggregate: CsvTable | null, manifest: Json | null): RunData[] {
  const base = fs.existsSync(path.join(dir, 'runs')) ? path.join(dir, 'runs') : dir;
  const byId = new Map((aggregate?.rows ?? []).map((r) => [r['run_id'] ?? r['id'] ?? '', r]));
  const planned = new Map<string, Json | null>();
  const manifestRuns = manifest?.['runs'];
  if (Array.isArray(manifestRuns)) {
    for (const r of manifestRuns) {
      const o = asObject(r);
      if (o && typeof o['id'] === 'string') planned.set(o['id'], asObject(o['config']));
    }
  }
  const order = [...planned.keys()];
  const rank = (d: string) => (order.includes(path.basename(d)) ? order.indexOf(path.basename(d)) : order.length);
  return subfolders(base)
    .filter((d) => has(d, 'metrics.csv') || has(d, 'noise.csv') || has(d, 'config.json'))
    .sort((a, b) => rank(a) - rank(b))
    .map((d) => loadRun(d, byId.get(path.basename(d)) ?? {}, planned.get(path.basename(d)) ?? null));
}

// ---------------------------------------------------------------------------------------------------------------
// Noise figures from noise.csv

/** A figure with its interval; value NaN when not resolved (then lo is still a lower bound and hi may be ∞). */
export interface Figure {
  value: number;
  lo: number;
  hi: number;
  /** Measurements (or runs) behind it. */
  n: number;
}

const NONE: Figure = { value: NaN, lo: NaN, hi: NaN, n: 0 };

const measurementCache = new WeakMap<RunData, Map<string, NoiseMeasurement[]>>();

function measurements(run: RunData, component: string): NoiseMeasurement[] {
  let byComponent = measurementCache.get(run);
  if (!byComponent) measurementCache.set(run, (byComponent = new Map()));
  let items = byComponent.get(component);
  if (!items) byComponent.set(component, (items = readMeasurements(run, component)));
  return items;
}

function readMeasurements(run: RunData, component: string): NoiseMeasurement[] {
  if (!run.noise) return [];
  return run.noise.rows
    .filter((r) => r['component'] === component)
    .map((r) => ({ update: cell(r, 'update'), envSteps: cell(r, 'env_steps'), gradSq: cell(r, 'grad_sq'), traceSigma: cell(r, 'trace_sigma') }))
    .filter((m) => Number.isFinite(m.envSteps) && Number.isFinite(m.gradSq) && Number.isFinite(m.traceSigma))
    .sort((a, b) => a.envSteps - b.envSteps);
}

function fromWindow(w: WindowFigure): Figure {
  return { value: w.bSimple, lo: w.lo, hi: w.hi, n: w.measurements };
}

/**
 * A ratio of two pooled noise scales (growth, level ratio). Its estimate is 0 or ∞ exactly when the pooled |G|² of the
 * denominator or the numerator is ≤ 0 (that B_simple is not resolved, analysis.ts scaleRatio): then the ratio is not
 * resolved either, and only the bootstrap's bounds say anything.
 */
function fromRatioInterval(i: Interval, n: number): Figure {
  const figure = fromInterval(i, n);
  return i.estimate === 0 ? { ...figure, value: NaN } : figure;
}

function fromInterval(i: Interval, n: number): Figure {
  return { value: Number.isFinite(i.estimate) ? i.estimate : NaN, lo: i.lo, hi: i.hi, n };
}

/** a/b with the interval [a.lo/b.hi, a.hi/b.lo]: joint coverage ≥ 1 − (α_a + α_b) for independent intervals. */
function conservativeRatio(a: Figure, b: Figure): Figure {
  const lo = a.lo / b.hi;
  const hi = b.lo > 0 ? a.hi / b.lo : Infinity;
  const value = Number.isFinite(a.value) && Number.isFinite(b.value) ? a.value / b.value : NaN;
  return { value, lo: Number.isNaN(lo) ? NaN : lo, hi, n: 1 };
}

export interface ComponentFindings {
  component: string;
  measurements: number;
  /** First and last quarter of the run, each at confidence 1 − (1 − c)/2 so that `growth` holds jointly at c. */
  start: Figure;
  end: Figure;
  /** end / start; interval [end.lo/start.hi, end.hi/start.lo]. */
  growth: Figure;
  /** Whole run, ratio of means ("average over training"). */
  average: Figure;
  /** The monitor's smoothed figure at the last measurement (noise.csv b_simple, b_simple_lo, b_simple_hi). */
  final: Figure;
  /** Per-run means behind the across-seed figures. */
  means: NoiseMeans;
  growthMeans: GrowthMeans;
}

export function componentFindings(run: RunData, component: string, confidence = REPORT_CONFIDENCE): ComponentFindings {
  const items = measurements(run, component);
  const halves = growthOverTraining(items, 1 - (1 - confidence) / 2);
  const whole = ratioOfMeans(items, confidence);
  const start = fromWindow(halves.start);
  const end = fromWindow(halves.end);
  const last = run.noise?.rows.filter((r) => r['component'] === component).at(-1);
  return {
    component,
    measurements: items.length,
    start,
    end,
    growth: start.n > 0 && end.n > 0 ? conservativeRatio(end, start) : NONE,
    average: fromWindow(whole),
    final: last ? { value: cell(last, 'b_simple'), lo: cell(last, 'b_simple_lo'), hi: cell(last, 'b_simple_hi'), n: 1 } : NONE,
    means: { gradSq: whole.gradSq, traceSigma: whole.traceSigma },
    growthMeans: { start: { gradSq: halves.start.gradSq, traceSigma: halves.start.traceSigma }, end: { gradSq: halves.end.gradSq, traceSigma: halves.end.traceSigma } },
  };
}

/** B_simple of one run at matched progress (analysis.ts): at the first update whose return_mean reaches `target`. */
export interface MatchedFindings {
  /** Where the run first reached the target, or null. */
  reached: AnalysisReturnPoint | null;
  /** Ratio of means over the run's `window` measurements centred on that update (NONE when not reached). */
  figure: Figure;
  means: NoiseMeans;
  measurements: number;
}

export function matchedFindings(run: RunData, component: string, target: number, confidence = REPORT_CONFIDENCE): MatchedFindings {
  const reached = Number.isFinite(target) ? firstReaching(analysisReturns(run), target) : null;
  if (!reached) return { reached: null, figure: NONE, means: { gradSq: NaN, traceSigma: NaN }, measurements: 0 };
  const w = ratioOfMeans(windowAround(measurements(run, component), reached.envSteps, run.window), confidence);
  return { reached, figure: w.measurements > 0 ? fromWindow(w) : NONE, means: { gradSq: w.gradSq, traceSigma: w.traceSigma }, measurements: w.measurements };
}

function analysisReturns(run: RunData): AnalysisReturnPoint[] {
  return (run.metrics?.rows ?? []).map((r) => ({ update: cell(r, 'update'), envSteps: cell(r, 'env_steps'), returnMean: cell(r, 'return_mean') }));
}

/**
 * The matched-progress target of one level (runs differing only in seed): the one sweep.csv gives, else computed as
 * sweep-results.ts does (min + fraction·(max − min) of the return_mean its completed runs logged, all runs if none).
 */
export function levelTarget(runs: readonly RunData[], fraction = MATCHED_FRACTION): number {
  const given = runs.map((r) => r.matchedTarget).find((t) => Number.isFinite(t));
  if (given !== undefined) return given;
  const completed = runs.filter((r) => r.summary?.['status'] === 'completed');
  const reference = completed.length > 0 ? completed : runs;
  return matchedPoints(reference.map(analysisReturns), fraction)[0]?.target ?? NaN;
}

function runComponents(run: RunData): string[] {
  const present = new Set(run.noise?.rows.map((r) => r['component'] ?? '') ?? []);
  return [...NOISE_COMPONENTS.filter((c) => present.has(c)), ...[...present].filter((c) => c !== '' && !NOISE_COMPONENTS.includes(c as never))];
}

// ---------------------------------------------------------------------------------------------------------------
// Curves

function noisePoints(run: RunData) {
  return (run.noise?.rows ?? []).map((r) => ({
    envSteps: cell(r, 'env_steps'),
    component: r['component'] ?? '',
    bSimple: cell(r, 'b_simple'),
    lo: cell(r, 'b_simple_lo'),
    hi: cell(r, 'b_simple_hi'),
  }));
}

function returnPoints(run: RunData) {
  return (run.metrics?.rows ?? []).map((r) => ({ envSteps: cell(r, 'env_steps'), returnMean: cell(r, 'return_mean') }));
}

function finalReturn(run: RunData): number {
  const rows = run.metrics?.rows ?? [];
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = cell(rows[i], 'return_mean');
    if (Number.isFinite(v)) return v;
  }
  return NaN;
}

function runStatus(run: RunData): string {
  const status = run.summary?.['status'];
  return typeof status === 'string' ? status : run.metrics ? 'incomplete (no summary.json)' : 'not started';
}

// ---------------------------------------------------------------------------------------------------------------
// Report sections

interface Section {
  title: string;
  /** HTML blocks, figures included. */
  blocks: string[];
}

class ReportBuilder {
  readonly plots: string[] = [];
  readonly sections: Section[] = [];
  constructor(readonly dir: string) {}

  /** Write one SVG to plots/ and return the HTML figure that inlines it. */
  figure(name: string, svg: string, caption: string): string {
    const plotsDir = path.join(this.dir, 'plots');
    fs.mkdirSync(plotsDir, { recursive: true });
    const file = path.join(plotsDir, `${name}.svg`);
    writeFileAtomic(file, `${svg}\n`);
    this.plots.push(file);
    const rel = `plots/${name}.svg`;
    return `<figure id="fig-${esc(name)}" class="plot">${svg}<figcaption>${esc(caption)} <a href="${esc(rel)}">${esc(rel)}</a></figcaption></figure>`;
  }
}

/** Draw every plot that the folder's data allow, write `plots/*.svg` and `report.html`, and say where they are. */
export async function writeReport(dir: string): Promise<ReportResult> {
  const kind = detectFolder(dir);
  if (kind === null) {
    throw new InvalidValueError(
      'DIR',
      dir,
      fs.existsSync(dir)
        ? 'not a gradnoise output folder: expected a run (config.json with metrics.csv or noise.csv), a sweep (sweep.json or sweep.csv), a critical-batch folder (critical-batch.json) or a reproduce folder holding those'
        : 'no such folder',
    );
  }
  const root = path.resolve(dir);
  const builder = new ReportBuilder(root);
  if (kind === 'run') await runSections(builder, loadRun(root), '');
  else if (kind === 'sweep') await sweepSections(builder, loadSweep(root), '');
  else if (kind === 'critical-batch') await criticalSections(builder, loadCritical(root), '', true);
  else await reproduceSections(builder, root);
  const html = path.join(root, 'report.html');
  writeFileAtomic(html, renderHtml(root, kind, builder.sections));
  removeStalePlots(root, builder.plots);
  return { kind, plots: builder.plots, html };
}

async function runSections(builder: ReportBuilder, run: RunData, prefix: string): Promise<void> {
  const blocks: string[] = [];
  const curves: TrainingCurves = { label: run.id, runId: run.id, noise: noisePoints(run), returns: returnPoints(run) };
  if (curves.noise.length > 0) {
    const svg = await noiseOverTraining([curves], {
      id: `${prefix}noise-over-training`,
      title: `Gradient noise scale over training: ${run.envId}${run.algo ? ` ${run.algo}` : ''}, level ${run.level}, seed ${run.seed}`,
    });
    blocks.push(builder.figure(`${prefix}noise-over-training`, svg, 'B_simple per component (log scale) and mean return vs env steps.'));
  } else if (curves.returns.length > 0) {
    const svg = await returnCurvesPerLevel([{ family: run.envId, level: run.level, runId: run.id, returns: curves.returns }], {
      id: `${prefix}return-curve`,
      title: 'Learning curve (noise monitor off)',
    });
    blocks.push(builder.figure(`${prefix}return-curve`, svg, 'Mean return vs env steps.'));
  }
  blocks.push(runFindingsTable(run));
  blocks.push(metadataTable(run));
  if (run.config) blocks.push(details('Resolved config (config.json)', JSON.stringify(run.config, null, 2)));
  builder.sections.push({ title: `Run ${run.id}`, blocks });
}

function runFindingsTable(run: RunData): string {
  const components = runComponents(run);
  if (components.length === 0) return '<p class="note">No noise measurements (noise.csv missing or empty).</p>';
  const rows = components.map((c) => {
    const f = componentFindings(run, c);
    return [c, String(f.measurements), fig(f.start), fig(f.end), fig(f.growth, '×'), fig(f.average), fig(f.final)];
  });
  return (
    table(
      'Findings: gradient noise scale (B_simple, samples = env steps)',
      ['component', 'measurements', 'first quarter', 'last quarter', 'growth (last/first)', 'whole run', 'final (EMA)'],
      rows,
    ) +
    `<p class="note">Quarters by env steps; each B_simple is mean tr(Σ) / mean |G|² over the quarter's measurements with a ${pct(1 - (1 - REPORT_CONFIDENCE) / 2)} Fieller interval, so the growth interval holds jointly at ${pct(REPORT_CONFIDENCE)}. “unresolved”: |G|² not significantly > 0 (B_simple at least the number shown).</p>`
  );
}

function metadataTable(run: RunData): string {
  const meta = run.meta ?? {};
  const summary = run.summary ?? {};
  const entries: [string, unknown][] = [
    ['env', run.envId],
    ['level', run.level],
    ['algorithm', run.algo],
    ['seed', run.seed],
    ['status', runStatus(run)],
    ['env steps', summary['envSteps'] ?? lastCell(run.metrics, 'env_steps')],
    ['updates', summary['updates'] ?? lastCell(run.metrics, 'update')],
    ['final mean return', finalReturn(run)],
    ['batch size (samples per update)', lastCell(run.metrics, 'batch_size')],
    ['learning rate', getPath(run.config, 'agent.lr')],
    ['optimizer', getPath(run.config, 'agent.optimizer.type')],
    ['noise grouping', getPath(run.config, 'monitor.grouping')],
    ['EMA horizon (env steps)', getPath(run.config, 'monitor.emaHorizon')],
    ['backend', `${String(meta['backend'] ?? summary['backend'] ?? '?')}${meta['gpu'] === true || summary['gpu'] === true ? ' (GPU)' : ''}`],
    ['gradnoise version', meta['version']],
    ['tfjs', meta['tfjs']],
    ['node', meta['node']],
    ['started', meta['startedAt']],
    ['wall time (s)', summary['wallS']],
  ];
  const rows = entries.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, formatCellValue(v)]);
  return table('Run metadata', ['', ''], rows, 'meta');
}

function lastCell(table: CsvTable | null, column: string): number | undefined {
  const v = cell(table?.rows.at(-1), column);
  return Number.isFinite(v) ? v : undefined;
}

// --- sweeps

interface SweepInfo {
  dir: string;
  runs: RunData[];
  /** Family label per run id. */
  family: Map<string, string>;
  /** Family labels in run order. */
  families: string[];
  json: Json | null;
  /** sweep-summary.json (rules, groups, level ratios), when written. */
  summary: Json | null;
  /** The matched-progress rule in words (sweep-summary.json's, else the one this report applies) and its fraction. */
  matchedRule: string;
  fraction: number;
  /** Findings per family and component, computed on first use. */
  findings?: FamilyFindings[];
}

function defaultMatchedRule(fraction: number): string {
  return `within each level (runs differing only in seed), target = min + ${fraction}·(max − min) of the return_mean its completed runs logged; each run's matched point is its first update with return_mean ≥ target; B_simple there is the ratio of means over the monitor.window measurements centred on that update`;
}

function loadSweep(dir: string): SweepInfo {
  const json = asObject(readJsonIfAny(path.join(dir, 'sweep.json')));
  const aggregate = readCsvIfExists(path.join(dir, 'sweep.csv'));
  const summary = asObject(readJsonIfAny(path.join(dir, 'sweep-summary.json')));
  const runs = loadRuns(dir, aggregate, json);
  const keys = Array.isArray(json?.['keys']) ? (json['keys'] as unknown[]).map(String) : gridPathsOf(getPath(json, 'definition.grid') ?? json?.['grid']);
  const gridPaths = keys.filter((p) => !['env.id', 'env.level', 'run.seed', 'seed', 'level'].includes(p));
  const family = new Map<string, string>();
  for (const run of runs) {
    const extra = gridPaths.map((p) => {
      const v = getPath(run.config, p) ?? aggregate?.rows.find((r) => r['run_id'] === run.id)?.[p];
      return `${p}=${formatCellValue(v)}`;
    });
    family.set(run.id, [run.envId, ...extra].join(' · '));
  }
  const rule = getPath(summary, 'rules.matchedProgress');
  const given = typeof rule === 'string' ? Number(/min \+ ([\d.]+)\s*·/.exec(rule)?.[1]) : NaN;
  const fraction = given >= 0 && given <= 1 ? given : MATCHED_FRACTION;
  const families = [...new Set(runs.map((r) => family.get(r.id)!))];
  return { dir, runs, family, families, json, summary, matchedRule: typeof rule === 'string' ? rule : defaultMatchedRule(fraction), fraction };
}

function gridPathsOf(grid: unknown): string[] {
  if (Array.isArray(grid)) {
    return grid.map((g) => asObject(g)).flatMap((g) => (g && typeof (g['path'] ?? g['key']) === 'string' ? [String(g['path'] ?? g['key'])] : []));
  }
  const obj = asObject(grid);
  return obj ? Object.keys(obj) : [];
}

/** A family's runs that enter its pooled figures: the completed ones (as in sweep.csv's groups); while none has completed, every run. */
function familyRuns(sweep: SweepInfo, family: string): { runs: RunData[]; completed: boolean } {
  const members = sweep.runs.filter((r) => sweep.family.get(r.id) === family);
  const completed = members.filter((r) => r.summary?.['status'] === 'completed');
  return completed.length > 0 ? { runs: completed, completed: true } : { runs: members, completed: false };
}

function sweepFamilyFindings(sweep: SweepInfo): FamilyFindings[] {
  if (!sweep.findings) {
    sweep.findings = sweep.families.flatMap((family) => {
      const { runs } = familyRuns(sweep, family);
      return NOISE_COMPONENTS.flatMap((c) => familyFindings(runs, family, c, sweep.fraction) ?? []);
    });
  }
  return sweep.findings;
}

async function sweepSections(builder: ReportBuilder, sweep: SweepInfo, prefix: string, title = `Sweep ${path.basename(sweep.dir)}`): Promise<void> {
  const blocks: string[] = [];
  const findings = sweepFamilyFindings(sweep);
  const entries = findings.map((f) => ({ findings: f, sweep }));
  blocks.push(findingsInWords(entries));
  blocks.push(familyFindingsTable(entries, 'Findings: gradient noise scale by env family (B_simple in samples = env steps)'));
  const withNoise = sweep.runs.filter((r) => (r.noise?.rows.length ?? 0) > 0);

  // Figure 1: B_simple over training at the lowest level (level 0, the standard task), one line per seed, return below.
  for (const family of sweep.families) {
    const runs = withNoise.filter((r) => sweep.family.get(r.id) === family);
    if (runs.length === 0) continue;
    const low = Math.min(...runs.map((r) => r.level));
    const atLow = runs.filter((r) => r.level === low).sort((a, b) => a.seed.localeCompare(b.seed, 'en', { numeric: true }));
    const name = `${prefix}noise-over-training-${slug(family)}`;
    const svg = await noiseOverTraining(
      atLow.map((r) => ({ label: `seed ${r.seed}`, runId: r.id, noise: noisePoints(r), returns: returnPoints(r) })),
      { id: name, legendTitle: 'seed', title: `Gradient noise scale over training at level ${low}: ${family}` },
    );
    const growth = findings
      .filter((f) => f.family === family && f.lowLevel === low)
      .map((f) => `${f.component} ${fig(f.growth, '×')} (${verdict(f.growth)})`);
    blocks.push(
      builder.figure(
        name,
        svg,
        `B_simple per component (log scale; band: ${pct(REPORT_CONFIDENCE)} interval of the monitor's smoothed figure) and mean return vs env steps at level ${low}${low === 0 ? ' (the standard task)' : ' (the lowest level in this sweep)'}, one line per seed.` +
          (growth.length > 0 ? ` Growth over training (last / first quarter, pooled over seeds): ${growth.join('; ')}.` : ''),
      ),
    );
  }

  // Figure 2: B_simple vs difficulty level, run average and at matched progress, pooled over seeds.
  const difficulty: DifficultyPoint[] = [];
  const groups: DifficultyGroup[] = [];
  for (const family of sweep.families) {
    const { runs } = familyRuns(sweep, family);
    for (const component of NOISE_COMPONENTS) {
      for (const level of levelFigures(runs, component, sweep.fraction)) {
        for (const r of level.perRun) {
          difficulty.push({ family, level: level.level, component, seed: r.run.seed, bSimple: r.average.value, measure: MEASURE_ORDER[0] });
          difficulty.push({ family, level: level.level, component, seed: r.run.seed, bSimple: r.matched.figure.value, measure: MEASURE_ORDER[1] });
        }
        groups.push({ family, level: level.level, component, measure: MEASURE_ORDER[0], value: level.average.value, lo: level.average.lo, hi: level.average.hi });
        groups.push({ family, level: level.level, component, measure: MEASURE_ORDER[1], value: level.matched.value, lo: level.matched.lo, hi: level.matched.hi });
      }
    }
  }
  if (groups.some((g) => g.value > 0 || g.lo! > 0)) {
    const name = `${prefix}noise-vs-difficulty`;
    const svg = await noiseVsDifficulty(difficulty, { id: name }, groups);
    blocks.push(
      builder.figure(
        name,
        svg,
        `B_simple per difficulty level (log scale), per component (policy first; value and total are dominated by the value regression). ` +
          `Side by side at each level: circles, the run average (ratio of means over all of a run's measurements); diamonds, B_simple at matched progress: ${sweep.matchedRule}. ` +
          `Large points: per-seed mean tr(Σ) and mean |G|² pooled over seeds, with a ${pct(REPORT_CONFIDENCE)} interval (bootstrap over seeds from ${MIN_BOOTSTRAP_SEEDS} seeds, else the hull of the runs' own intervals); small points: seeds (unresolved seeds are not drawn); ▲: unresolved, at its lower bound. ` +
          'Completed runs only (all runs while none has completed).',
      ),
    );
  }

  // Figure 3: learning curves per level.
  const levelCurves: LevelCurves[] = sweep.runs
    .filter((r) => (r.metrics?.rows.length ?? 0) > 0)
    .sort((a, b) => a.level - b.level)
    .map((r) => ({ family: sweep.family.get(r.id)!, level: r.level, runId: r.id, returns: returnPoints(r) }));
  if (levelCurves.length > 0) {
    const name = `${prefix}return-curves`;
    const svg = await returnCurvesPerLevel(levelCurves, { id: name });
    blocks.push(builder.figure(name, svg, 'Mean return vs env steps per env family, colour = difficulty level.'));
  }

  // Secondary: policy B_simple over training at every level.
  for (const family of sweep.families) {
    const runs = withNoise.filter((r) => sweep.family.get(r.id) === family).sort((a, b) => a.level - b.level || a.seed.localeCompare(b.seed, 'en', { numeric: true }));
    if (new Set(runs.map((r) => r.level)).size < 2) continue;
    const policy = (r: RunData) => noisePoints(r).filter((p) => p.component === 'policy');
    if (!runs.some((r) => policy(r).length > 0)) continue;
    const name = `${prefix}noise-over-training-levels-${slug(family)}`;
    const svg = await noiseOverTraining(
      runs.map((r) => ({ label: `level ${r.level}`, runId: r.id, noise: policy(r), returns: [] })),
      { id: name, ordered: true, legendTitle: 'difficulty', title: `Policy B_simple over training at every level: ${family}` },
    );
    blocks.push(builder.figure(name, svg, 'Secondary view: policy-gradient B_simple (log scale) vs env steps, one line per run, colour = difficulty level.'));
  }

  blocks.push(groupMetadata(sweep.json, sweep.runs));
  blocks.push(sweepRunsTable(sweep));
  if (sweep.summary?.['rules']) blocks.push(details('Rules (sweep-summary.json)', JSON.stringify(sweep.summary['rules'], null, 2)));
  if (sweep.json) blocks.push(details('Sweep definition (sweep.json)', JSON.stringify(sweep.json, null, 2)));
  if (sweep.runs.length === 0) blocks.unshift('<p class="note">No run folders yet.</p>');
  builder.sections.push({ title, blocks });
}

/** One run's figures at its level: the run average and at matched progress. */
interface RunLevelFigures {
  run: RunData;
  findings: ComponentFindings;
  average: Figure;
  matched: MatchedFindings;
}

/** One level of a family, its seeds pooled. */
export interface LevelFigures {
  level: number;
  runs: number;
  /** The matched-progress return target of the level. */
  target: number;
  /** Runs that reached the target. */
  reached: number;
  average: Figure;
  matched: Figure;
  perRun: RunLevelFigures[];
}

/** Per level (ascending) of `runs` (one family), the run-average and matched-progress B_simple pooled over seeds. */
export function levelFigures(runs: readonly RunData[], component: string, fraction = MATCHED_FRACTION): LevelFigures[] {
  const withData = runs.filter((r) => runComponents(r).includes(component));
  const levels = [...new Set(withData.map((r) => r.level))].sort((a, b) => a - b);
  return levels.map((level) => {
    const atLevel = withData.filter((r) => r.level === level);
    const target = levelTarget(
      runs.filter((r) => r.level === level),
      fraction,
    );
    const perRun = atLevel.map((run) => {
      const findings = componentFindings(run, component);
      return { run, findings, average: findings.average, matched: matchedFindings(run, component, target) };
    });
    const matched = perRun.filter((r) => r.matched.measurements > 0);
    return {
      level,
      runs: perRun.length,
      target,
      reached: perRun.filter((r) => r.matched.reached).length,
      average: pooledFigure(
        perRun.map((r) => r.average),
        perRun.map((r) => r.findings.means),
      ),
      matched: pooledFigure(
        matched.map((r) => r.matched.figure),
        matched.map((r) => r.matched.means),
      ),
      perRun,
    };
  });
}

/**
 * Seeds pooled as in sweep.csv (analysis.ts): the interval is a bootstrap over seeds from MIN_BOOTSTRAP_SEEDS on, and
 * below that (where a bootstrap has next to nothing to resample) the hull of the runs' own intervals. One seed: that
 * run's own figure.
 */
function pooledFigure(figures: readonly Figure[], means: readonly NoiseMeans[]): Figure {
  if (figures.length === 0) return NONE;
  if (figures.length === 1) return figures[0]!;
  const estimate = fromInterval(seedAggregate(means), figures.length);
  return figures.length >= MIN_BOOTSTRAP_SEEDS ? estimate : hull(estimate, figures);
}

/** high / low of two pooled levels: bootstrap over each level's seeds, or the conservative ratio of their intervals. */
function levelRatio(high: { figures: readonly Figure[]; means: readonly NoiseMeans[] }, low: { figures: readonly Figure[]; means: readonly NoiseMeans[] }): Figure {
  const n = Math.min(high.figures.length, low.figures.length);
  if (n === 0) return NONE;
  const pooledRatio = fromRatioInterval(settingRatio(high.means, low.means), n);
  if (n >= MIN_BOOTSTRAP_SEEDS) return pooledRatio;
  const conservative = conservativeRatio(pooledFigure(high.figures, high.means), pooledFigure(low.figures, low.means));
  return high.figures.length === 1 && low.figures.length === 1 ? conservative : { ...conservative, value: pooledRatio.value };
}

export interface FamilyFindings {
  family: string;
  component: string;
  runs: number;
  lowLevel: number;
  highLevel: number;
  /** Growth over training at the lowest level: pooled over seeds (bootstrap interval), or one run's own interval. */
  growth: Figure;
  low: Figure;
  high: Figure;
  /** B_simple(high level) / B_simple(low level), run averages pooled over seeds (bootstrap interval). */
  ratio: Figure;
  /** The same at matched progress. */
  lowMatched: Figure;
  highMatched: Figure;
  ratioMatched: Figure;
  /** Runs that reached the matched-progress target / runs, at the low and the high level. */
  reached: { low: [number, number]; high: [number, number] };
}

export function familyFindings(runs: readonly RunData[], family: string, component: string, fraction = MATCHED_FRACTION): FamilyFindings | null {
  const levels = levelFigures(runs, component, fraction);
  if (levels.length === 0) return null;
  const low = levels[0]!;
  const high = levels[levels.length - 1]!;
  const growthMeans = low.perRun.map((r) => r.findings);
  const pooledGrowth = fromRatioInterval(growthAggregate(growthMeans.map((f) => f.growthMeans)), growthMeans.length);
  const growth =
    growthMeans.length === 1 ? growthMeans[0]!.growth : growthMeans.length >= MIN_BOOTSTRAP_SEEDS ? pooledGrowth : hull(pooledGrowth, growthMeans.map((f) => f.growth));
  const averages = (l: LevelFigures) => ({ figures: l.perRun.map((r) => r.average), means: l.perRun.map((r) => r.findings.means) });
  const matched = (l: LevelFigures) => {
    const reached = l.perRun.filter((r) => r.matched.measurements > 0);
    return { figures: reached.map((r) => r.matched.figure), means: reached.map((r) => r.matched.means) };
  };
  const single = low === high;
  return {
    family,
    component,
    runs: levels.reduce((n, l) => n + l.runs, 0),
    lowLevel: low.level,
    highLevel: high.level,
    growth,
    low: low.average,
    high: high.average,
    ratio: single ? NONE : levelRatio(averages(high), averages(low)),
    lowMatched: low.matched,
    highMatched: high.matched,
    ratioMatched: single ? NONE : levelRatio(matched(high), matched(low)),
    reached: { low: [low.reached, low.runs], high: [high.reached, high.runs] },
  };
}

/** Seeds from which a bootstrap over seeds gives the interval; fewer get the hull of the runs' own intervals. */
export const MIN_BOOTSTRAP_SEEDS = 3;

/** The pooled estimate with the hull of per-run intervals (each run's own interval covers its value at c). */
function hull(estimate: Figure, runs: readonly Figure[]): Figure {
  const los = runs.map((r) => r.lo).filter((v) => !Number.isNaN(v));
  const his = runs.map((r) => r.hi).filter((v) => !Number.isNaN(v));
  return {
    value: estimate.value,
    lo: los.length === runs.length && los.length > 0 ? Math.min(...los) : NaN,
    hi: his.length === runs.length && his.length > 0 ? Math.max(...his) : Infinity,
    n: estimate.n,
  };
}

/**
 * A ratio (growth factor, level ratio) in plain words: `rises` when its interval lies above 1, `falls` below,
 * `no clear change (interval spans 1)`, or `unresolved` (saying so when its interval still lies on one side of 1).
 */
export function verdict(f: Figure): string {
  if (f.n === 0) return 'no data';
  if (!Number.isFinite(f.value)) {
    if (f.lo > 1) return 'unresolved, but its interval lies above 1 (rises)';
    if (f.hi < 1) return 'unresolved, but its interval lies below 1 (falls)';
    return 'unresolved';
  }
  if (f.lo > 1) return f.lo >= 10 ? 'rises, by 10× or more' : 'rises';
  if (f.hi < 1) return f.hi <= 0.1 ? 'falls, by 10× or more' : 'falls';
  if (Number.isNaN(f.lo) || Number.isNaN(f.hi)) return 'no clear change (no interval)';
  return 'no clear change (interval spans 1)';
}

/** The findings in sentences, one per family (policy gradient where measured, else the first component). */
function findingsInWords(entries: readonly { findings: FamilyFindings; sweep: SweepInfo }[]): string {
  const byFamily = new Map<string, FamilyFindings>();
  for (const { findings: f, sweep } of entries) {
    const key = `${path.basename(sweep.dir)}\u0000${f.family}`;
    const current = byFamily.get(key);
    if (!current || (f.component === 'policy' && current.component !== 'policy')) byFamily.set(key, f);
  }
  const items = [...byFamily.values()].map((f) => {
    const direction = /^rises|\(rises\)|^falls|\(falls\)/.test(verdict(f.growth));
    const growth = `over training (level ${f.lowLevel}, last / first quarter) ${fig(f.growth, '×')}: ${verdict(f.growth)}${direction ? '' : ' (no growth established)'}`;
    let harder = 'one difficulty level only';
    if (f.lowLevel !== f.highLevel) {
      const average = verdict(f.ratio);
      const matched = verdict(f.ratioMatched);
      const raised = [average, matched].some((v) => /^rises|\(rises\)/.test(v));
      harder =
        `level ${f.highLevel} / level ${f.lowLevel}, run average ${fig(f.ratio, '×')}: ${average}; at matched progress ${fig(f.ratioMatched, '×')}: ${matched}` +
        (raised ? '' : ` (this ladder does not raise the noise scale)`);
    }
    return `<li><b>${esc(f.family)}</b>, ${esc(f.component)} B_simple ${esc(growth)}; ${esc(harder)}.</li>`;
  });
  return items.length > 0 ? `<ul class="findings">${items.join('')}</ul>` : '';
}

/** The difficulty verdict from the run average and the matched-progress ratio: one phrase when they agree. */
function difficultyVerdict(f: FamilyFindings): string {
  if (f.lowLevel === f.highLevel) return 'one level only';
  const average = verdict(f.ratio);
  const matched = verdict(f.ratioMatched);
  return average === matched ? average : `run average: ${average}; matched progress: ${matched}`;
}

function reachedNote(f: FamilyFindings): string {
  const [lowHit, lowRuns] = f.reached.low;
  const [highHit, highRuns] = f.reached.high;
  if (lowHit === lowRuns && highHit === highRuns) return '';
  return ` (target reached by ${lowHit}/${lowRuns} runs at level ${f.lowLevel}, ${highHit}/${highRuns} at level ${f.highLevel})`;
}

function familyFindingsTable(entries: readonly { findings: FamilyFindings; sweep: SweepInfo }[], caption: string): string {
  if (entries.length === 0) return '<p class="note">No noise measurements in this sweep yet.</p>';
  const rules = [...new Set(entries.map((e) => e.sweep.matchedRule))];
  const rows = entries.map(({ findings: f, sweep }) => {
    const two = f.lowLevel !== f.highLevel;
    return [
      f.family,
      f.component,
      familyRuns(sweep, f.family).completed ? String(f.runs) : `${f.runs} (none completed)`,
      two ? `${f.lowLevel} → ${f.highLevel}` : `${f.lowLevel}`,
      fig(f.low),
      fig(f.growth, '×'),
      verdict(f.growth),
      two ? fig(f.ratio, '×') : '–',
      two ? `${fig(f.ratioMatched, '×')}${reachedNote(f)}` : '–',
      difficultyVerdict(f),
    ];
  });
  return (
    table(
      caption,
      [
        'env family',
        'component',
        'runs',
        'levels (low → high)',
        'B_simple, low level (run average)',
        'growth over training at the low level (last / first quarter)',
        'over training',
        'high / low level, run average',
        'high / low level, matched progress',
        'harder levels',
      ],
      rows,
    ) +
    `<p class="note">Completed runs only (while none has completed, every run). Growth: B_simple over the last quarter of a run (by env steps) divided by that over the first, at the lowest level (level 0, the standard task). Run average: ratio of means over the whole run. Matched progress: ${esc(rules.join(' / '))}. Across seeds: per-seed mean tr(Σ) and |G|² pooled over seeds (as in sweep.csv); interval: ${pct(REPORT_CONFIDENCE)} percentile bootstrap over seeds with ${MIN_BOOTSTRAP_SEEDS} seeds or more (rough with 3), else the hull of the runs' own Fieller intervals (combined conservatively for ratios). “unresolved (≥ x)”: the pooled |G|² is not significantly &gt; 0, so only a lower bound is known. Verdicts: “rises” / “falls” when the whole interval lies above / below 1. The paper's findings: growth by an order of magnitude or more; harder tasks noisier (ratio &gt; 1).</p>`
  );
}

/** Name, version and creation time from sweep.json; run counts; the backends the runs actually used. */
function groupMetadata(manifest: Json | null, runs: readonly RunData[]): string {
  const statuses = new Map<string, number>();
  for (const run of runs) statuses.set(runStatus(run), (statuses.get(runStatus(run)) ?? 0) + 1);
  const entries: [string, unknown][] = [
    ['name', manifest?.['name']],
    ['gradnoise version', manifest?.['version']],
    ['created', manifest?.['createdAt']],
    ['runs', [...statuses].map(([status, n]) => `${n} ${status}`).join(', ')],
    ['backends used', backendsUsed(runs)],
  ];
  const rows = entries.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, formatCellValue(v)]);
  return table('Metadata', ['', ''], rows, 'meta');
}

function backendsUsed(runs: readonly RunData[]): string {
  const names = runs.map((r) => r.meta).filter((m): m is Json => m !== null).map((m) => `${String(m['backend'] ?? '?')}${m['gpu'] === true ? ' (GPU)' : ''}`);
  return [...new Set(names)].join(', ');
}

function sweepRunsTable(sweep: SweepInfo): string {
  if (sweep.runs.length === 0) return '';
  const targets = new Map<string, number>();
  for (const family of sweep.families) {
    const { runs } = familyRuns(sweep, family);
    for (const level of new Set(runs.map((r) => r.level))) {
      const target = levelTarget(
        runs.filter((r) => r.level === level),
        sweep.fraction,
      );
      for (const r of sweep.runs) if (sweep.family.get(r.id) === family && r.level === level) targets.set(r.id, target);
    }
  }
  const rows = sweep.runs.map((r) => {
    const meta = r.meta ?? {};
    const target = targets.get(r.id) ?? NaN;
    const policy = matchedFindings(r, 'policy', target);
    return [
      r.id,
      sweep.family.get(r.id)!,
      String(r.level),
      r.seed,
      runStatus(r),
      formatCellValue(lastCell(r.metrics, 'env_steps') ?? ''),
      num(finalReturn(r)),
      ...NOISE_COMPONENTS.map((c) => fig(componentFindings(r, c).average)),
      Number.isFinite(target) ? (policy.reached ? `${fig(policy.figure)} at ${formatCellValue(policy.reached.envSteps)} steps` : `target ${num(target)} not reached`) : '–',
      `${String(meta['backend'] ?? '?')}${meta['gpu'] === true ? ' (GPU)' : ''}`,
    ];
  });
  return table(
    'Runs',
    ['run', 'env family', 'level', 'seed', 'status', 'env steps', 'final return', ...NOISE_COMPONENTS.map((c) => `B_simple avg, ${c}`), 'B_simple, policy, at matched progress', 'backend'],
    rows,
  );
}

// --- critical batch

export interface CriticalFit {
  target: string;
  label: string;
  /** The target as asked for: `75%` for a fraction of the return range, else `return ≥ 195`. */
  short: string;
  /** `fit`, `b_crit_below_range`, `b_crit_above_range`, `not_fitted`, or '' when not given. */
  regime: string;
  sMin: number;
  eMin: number;
  bCrit: Figure;
  bSimple: Figure;
  points: ParetoPoint[];
}

interface CriticalInfo {
  dir: string;
  /** The folder's name (in a reproduce folder: the part's name). */
  part: string;
  env: string;
  /** Difficulty level of the task (NaN when unknown). */
  level: number;
  /** The batch sizes tried. */
  batchSizes: number[];
  /** The B_simple component critical-batch.json compares (policy unless set). */
  component: string;
  fits: CriticalFit[];
  json: unknown;
  runs: RunData[];
}

const pick = (obj: Json, keys: readonly string[]): unknown => {
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
};

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return cell({ value }, 'value');
  return NaN;
}

/** A figure given as a number plus lo/hi keys, an object {value|estimate, lo, hi}, or with an interval pair. */
function readFigure(obj: Json, name: string, snake: string): Figure {
  const raw = pick(obj, [name, snake]);
  const nested = asObject(raw);
  const interval = pick(obj, [`${name}Interval`, `${name}Ci`, `${snake}_interval`, `${snake}_ci`]) ?? nested?.['interval'] ?? nested?.['ci'];
  const pair = Array.isArray(interval) ? interval : null;
  const value = nested ? toNumber(pick(nested, ['estimate', 'value', 'mean', 'bSimple', 'bCrit'])) : toNumber(raw);
  const lo = toNumber(pick(obj, [`${name}Lo`, `${snake}_lo`]) ?? nested?.['lo'] ?? pair?.[0]);
  const hi = toNumber(pick(obj, [`${name}Hi`, `${snake}_hi`]) ?? nested?.['hi'] ?? pair?.[1]);
  return { value, lo, hi, n: Number.isNaN(value) && Number.isNaN(lo) ? 0 : 1 };
}

function withFallback(figure: Figure, value: number): Figure {
  return Number.isNaN(figure.value) && !Number.isNaN(value) ? { ...figure, value } : figure;
}

function readPoints(obj: Json): ParetoPoint[] {
  const list = pick(obj, ['points', 'measurements', 'runs']);
  if (!Array.isArray(list)) return [];
  return list.flatMap((p) => {
    const o = asObject(p);
    if (!o) return [];
    const seed = pick(o, ['seed']);
    return [
      {
        batchSize: toNumber(pick(o, ['batchSize', 'batch_size', 'batch', 'B'])),
        steps: toNumber(pick(o, ['steps', 'S', 'updates', 'optimizerSteps', 'optimizer_steps'])),
        samples: toNumber(pick(o, ['samples', 'E', 'envSteps', 'env_steps'])),
        ...(seed !== undefined ? { seed: String(seed) } : {}),
      },
    ];
  });
}

/**
 * One target's fit, as critical-batch.json (`targets[]`: `target` return, `spec` {kind, value, label}, `bCrit`,
 * `sMin`, `eMin`, `bSimple` as {estimate, lo, hi}, `regime`, `points`) or critical-batch.csv (snake_case) hold it;
 * plain numbers, {value|estimate, lo, hi} objects and `fit` sub-objects are read as well.
 */
function fitFrom(obj: Json, index: number): CriticalFit {
  const rawTarget = pick(obj, ['target', 'threshold', 'returnTarget', 'return_target']);
  const spec = asObject(obj['spec']) ?? asObject(rawTarget);
  const resolved = toNumber(asObject(rawTarget) ? (spec?.['resolved'] ?? spec?.['value']) : rawTarget);
  const given = pick(obj, ['label', 'name', 'target_spec']) ?? spec?.['label'];
  const returnLabel = Number.isFinite(resolved) ? `return ≥ ${formatNumber(resolved)}` : `target ${index + 1}`;
  // A fractional target ('50%') is named by both: the fraction asked for and the return it came to.
  const named = typeof given === 'string' && given !== String(resolved) && given !== returnLabel;
  const label = named ? `${given} (${returnLabel})` : returnLabel;
  const fit = asObject(obj['fit']) ?? {};
  const regime = String(pick(obj, ['regime', 'fit_regime']) ?? fit['regime'] ?? '');
  const scalar = (name: string, snake: string) => {
    const direct = readFigure(obj, name, snake).value;
    return Number.isFinite(direct) ? direct : toNumber(pick(fit, [name, snake]));
  };
  let bCrit = withFallback(readFigure(obj, 'bCrit', 'b_crit'), toNumber(pick(fit, ['bCrit', 'b_crit'])));
  // JSON cannot hold ∞: a fit whose B_crit lies above the batch sizes tried is told by its regime.
  if (regime === 'b_crit_above_range' && Number.isNaN(bCrit.value)) bCrit = { ...bCrit, value: Infinity };
  return {
    target: Number.isFinite(resolved) ? String(resolved) : `target ${index + 1}`,
    label,
    short: named ? String(given) : returnLabel,
    regime,
    sMin: scalar('sMin', 's_min'),
    eMin: scalar('eMin', 'e_min'),
    bCrit,
    bSimple: readFigure(obj, 'bSimple', 'b_simple'),
    points: readPoints(obj),
  };
}

function loadCritical(dir: string): CriticalInfo {
  const json = readJsonIfAny(path.join(dir, 'critical-batch.json'));
  const root = asObject(json);
  const list = Array.isArray(json) ? json : (pick(root ?? {}, ['targets', 'fits', 'results']) as unknown);
  let fits: CriticalFit[] = Array.isArray(list) ? list.flatMap((f, i) => (asObject(f) ? [fitFrom(asObject(f)!, i)] : [])) : [];
  const csv = readCsvIfExists(path.join(dir, 'critical-batch.csv'));
  if (fits.length === 0 && csv) fits = csv.rows.map((r, i) => fitFrom(r, i));
  const runs = loadRuns(dir, null, asObject(readJsonIfAny(path.join(dir, 'sweep.json'))));
  // Measured points missing from the JSON: read them off the runs' metrics (first update whose mean return ≥ target).
  for (const fit of fits) {
    const target = Number(fit.target);
    if (fit.points.length > 0 || !Number.isFinite(target)) continue;
    fit.points = pointsFromRuns(runs, target);
  }
  const manifest = asObject(readJsonIfAny(path.join(dir, 'sweep.json')));
  const base = asObject(root?.['base']) ?? asObject(root?.['config']) ?? asObject(getPath(manifest, 'definition.config'));
  const env = String(pick(root ?? {}, ['env', 'envId']) ?? getPath(base, 'env.id') ?? runs[0]?.envId ?? path.basename(dir));
  const level = toNumber(getPath(base, 'env.level') ?? runs[0]?.level);
  const sizes = getPath(root, 'definition.batchSizes') ?? getPath(manifest, 'definition.batchSizes');
  const batchSizes = Array.isArray(sizes) ? sizes.map(toNumber).filter((b) => b > 0) : [...new Set(fits.flatMap((f) => f.points.map((p) => p.batchSize)))];
  const component = String(pick(root ?? {}, ['component']) ?? csv?.rows[0]?.['component'] ?? 'policy');
  return { dir, part: path.basename(dir), env, level, batchSizes: batchSizes.sort((a, b) => a - b), component, fits, json, runs };
}

function pointsFromRuns(runs: readonly RunData[], target: number): ParetoPoint[] {
  const best = new Map<string, ParetoPoint>();
  for (const run of runs) {
    const rows = run.metrics?.rows ?? [];
    const hit = rows.find((r) => cell(r, 'return_mean') >= target);
    if (!hit) continue;
    const batchSize = cell(rows[0], 'batch_size');
    const point = { batchSize, steps: cell(hit, 'update'), samples: cell(hit, 'env_steps'), seed: run.seed };
    // Several learning rates per (batch size, seed): the paper keeps the best-tuned one.
    const key = `${batchSize}|${run.seed}`;
    const previous = best.get(key);
    if (!previous || point.steps < previous.steps) best.set(key, point);
  }
  return [...best.values()].sort((a, b) => a.batchSize - b.batchSize);
}

async function criticalSections(builder: ReportBuilder, info: CriticalInfo, prefix: string, withSummaryFigure: boolean): Promise<CriticalInfo> {
  const dir = info.dir;
  const blocks: string[] = [];
  const targets: ParetoTarget[] = info.fits.map((f) => ({
    label: f.label,
    points: f.points,
    sMin: f.sMin,
    eMin: f.eMin,
    bCrit: f.bCrit.value,
  }));
  if (targets.some((t) => t.points.length > 0 || Number.isFinite(t.bCrit))) {
    const name = `${prefix}pareto-fronts`;
    const svg = await paretoFronts(targets, { id: name, title: `Steps vs samples to reach each target: ${taskName(info)}` });
    blocks.push(builder.figure(name, svg, 'Optimizer steps S vs samples E to reach each target (log-log), with the fitted tradeoff hyperbola.'));
  }
  const points = criticalPoints([info]);
  if (withSummaryFigure && points.length > 0) {
    const name = `${prefix}bcrit-vs-bsimple`;
    const svg = await bCritVsBSimple(points, { id: name });
    blocks.push(builder.figure(name, svg, `Average B_simple (${info.component} gradient, up to the target) vs measured B_crit (log-log), with y = x and 10× either way.`));
  }
  blocks.push(criticalTable(info));
  blocks.push(groupMetadata(asObject(readJsonIfAny(path.join(dir, 'sweep.json'))), info.runs));
  if (info.json !== null) blocks.push(details('Fits (critical-batch.json)', JSON.stringify(info.json, null, 2)));
  builder.sections.push({ title: `Critical batch size: ${taskName(info)}${info.part !== path.basename(builder.dir) ? ` (${info.part})` : ''}`, blocks });
  return info;
}

function regimeText(regime: string): string {
  const known: Record<string, string> = {
    fit: 'fit',
    b_crit_above_range: 'B_crit above the batch sizes tried',
    b_crit_below_range: 'B_crit below the batch sizes tried',
    not_fitted: 'not fitted',
  };
  return known[regime] ?? (regime.replace(/_/g, ' ') || '–');
}

/** `GaussianBandit-v0 L1`: the task a critical-batch folder measured. */
function taskName(info: CriticalInfo): string {
  return Number.isFinite(info.level) ? `${info.env} L${info.level}` : info.env;
}

/** How a fit shows on the B_crit vs B_simple figure: a point, a bound (▶ ≥ / ◀ ≤), or not at all (and why). */
function criticalPlacement(info: CriticalInfo, f: CriticalFit): { bCrit: number; bound?: 'lower' | 'upper' } | string {
  if (!(f.bSimple.value > 0 && Number.isFinite(f.bSimple.value))) return 'B_simple unresolved';
  const b = f.bCrit.value;
  if (Number.isFinite(b) && b > 0) return { bCrit: b };
  if (f.regime === 'b_crit_above_range' || b === Infinity) {
    const lower = f.bCrit.lo > 0 && Number.isFinite(f.bCrit.lo) ? f.bCrit.lo : info.batchSizes.at(-1);
    return lower !== undefined && lower > 0 ? { bCrit: lower, bound: 'lower' } : 'B_crit above the batch sizes tried';
  }
  if (f.regime === 'b_crit_below_range' || b === 0) {
    const upper = f.bCrit.hi > 0 && Number.isFinite(f.bCrit.hi) ? f.bCrit.hi : info.batchSizes[0];
    return upper !== undefined && upper > 0 ? { bCrit: upper, bound: 'upper' } : 'B_crit below the batch sizes tried';
  }
  return f.regime === 'not_fitted' ? 'not fitted' : 'no B_crit';
}

/** Points of the B_crit vs B_simple figure, coloured by task (env and level; the part name too where two share them). */
function criticalPoints(infos: readonly CriticalInfo[]): CriticalPoint[] {
  const tasks = infos.map(taskName);
  return infos.flatMap((info, i) => {
    const task = tasks.filter((t) => t === tasks[i]).length > 1 ? `${tasks[i]} (${info.part})` : tasks[i]!;
    return info.fits.flatMap((f) => {
      const placed = criticalPlacement(info, f);
      if (typeof placed === 'string') return [];
      return [
        {
          label: `${task}, ${f.short}`,
          group: task,
          text: f.short,
          ...(placed.bound ? { bound: placed.bound } : {}),
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
function criticalSummaryTable(infos: readonly CriticalInfo[]): string {
  const rows = infos.flatMap((info) => {
    if (info.fits.length === 0) return [[info.part, taskName(info), '–', '–', '–', '–', '–', 'no fits yet']];
    return info.fits.map((f) => {
      const placed = criticalPlacement(info, f);
      const ratio = f.bSimple.value / f.bCrit.value;
      return [
        info.part,
        taskName(info),
        f.label,
        regimeText(f.regime),
        fig(f.bCrit),
        fig(f.bSimple),
        Number.isFinite(ratio) && ratio > 0 ? `${num(ratio)}×` : '–',
        typeof placed === 'string' ? `not drawn: ${placed}` : placed.bound === 'lower' ? `▶ B_crit ≥ ${num(placed.bCrit)}` : placed.bound === 'upper' ? `◀ B_crit ≤ ${num(placed.bCrit)}` : 'point',
      ];
    });
  });
  return (
    table('B_crit and B_simple of every critical-batch part', ['part', 'task (env, level)', 'target', 'fit', 'B_crit = E_min/S_min', 'B_simple avg to target', 'B_simple / B_crit', 'on the figure'], rows) +
    `<p class="note">B_simple here: each part's component (critical-batch.json), averaged up to the target, pooled over the runs that reached it. Intervals: ${pct(REPORT_CONFIDENCE)} bootstrap. The paper finds B_simple/B_crit within about 10× either way across tasks.</p>`
  );
}

function criticalTable(info: CriticalInfo): string {
  if (info.fits.length === 0) return '<p class="note">No fits in critical-batch.json yet.</p>';
  const rows = info.fits.map((f) => [
    f.label,
    regimeText(f.regime),
    String(new Set(f.points.map((p) => p.batchSize)).size),
    num(f.sMin),
    num(f.eMin),
    fig(f.bCrit),
    fig(f.bSimple),
    Number.isFinite(f.bSimple.value / f.bCrit.value) ? `${num(f.bSimple.value / f.bCrit.value)}×` : '–',
  ]);
  return (
    table(
      `Findings: critical batch size, ${taskName(info)}`,
      ['target', 'fit', 'batch sizes reaching it', 'S_min (updates)', 'E_min (env steps)', 'B_crit = E_min/S_min', 'B_simple avg to target', 'B_simple / B_crit'],
      rows,
    ) + '<p class="note">The paper finds B_simple/B_crit within about 10× either way across tasks.</p>'
  );
}

// --- reproduce

async function reproduceSections(builder: ReportBuilder, dir: string): Promise<void> {
  const manifest = asObject(readJsonIfAny(path.join(dir, 'reproduce.json')));
  // Parts in the preset's order (reproduce.json), then any other sub-folder.
  const planned = (Array.isArray(manifest?.['parts']) ? (manifest['parts'] as unknown[]) : []).map((p) => String(asObject(p)?.['dir'] ?? asObject(p)?.['name'] ?? ''));
  const children = subfolders(dir);
  const rank = (child: string) => (planned.includes(path.basename(child)) ? planned.indexOf(path.basename(child)) : planned.length);
  const parts = children
    .map((child, i) => ({ child, i, kind: detectFolder(child) }))
    .sort((a, b) => rank(a.child) - rank(b.child) || a.i - b.i)
    .map(({ child, kind }) => ({
      child,
      kind,
      sweep: kind === 'sweep' ? loadSweep(child) : null,
      critical: kind === 'critical-batch' ? loadCritical(child) : null,
    }));
  const sweeps = parts.flatMap((p) => (p.sweep ? [p.sweep] : []));
  const criticals = parts.flatMap((p) => (p.critical ? [p.critical] : []));

  builder.sections.push({ title: 'Reproduction', blocks: reproduceOverview(manifest, sweeps, criticals) });

  const findings = sweeps.flatMap((sweep) => sweepFamilyFindings(sweep).filter((f) => f.component === 'policy').map((f) => ({ findings: f, sweep })));
  if (findings.length > 0) {
    builder.sections.push({
      title: 'Findings',
      blocks: [
        findingsInWords(findings),
        familyFindingsTable(findings, 'Findings: policy-gradient B_simple per env family (samples = env steps)'),
        '<p class="note">Policy gradient only: the value and total components (dominated by the value regression) are in each sweep’s own table below.</p>',
      ],
    });
  }

  if (criticals.length > 0) {
    const blocks: string[] = [];
    const points = criticalPoints(criticals);
    if (points.length > 0) {
      const svg = await bCritVsBSimple(points, { id: 'bcrit-vs-bsimple', title: `Noise scale vs critical batch size: ${new Set(points.map((p) => p.group)).size} tasks` });
      const components = [...new Set(criticals.map((c) => c.component))].join(', ');
      blocks.push(
        builder.figure(
          'bcrit-vs-bsimple',
          svg,
          `Average B_simple (${components} gradient, ratio of means up to each target, pooled over the runs that reached it) vs the measured B_crit, for every critical-batch part and target (log-log); colour: task (env, difficulty level); text: target; solid: y = x; dashed: 10× either way.`,
        ),
      );
    }
    blocks.push(criticalSummaryTable(criticals));
    builder.sections.push({ title: 'Noise scale vs critical batch size', blocks });
  }

  for (const part of parts) {
    const prefix = `${slug(path.basename(part.child))}-`;
    if (part.sweep) await sweepSections(builder, part.sweep, prefix, `Sweep ${path.basename(part.child)}`);
    else if (part.critical) await criticalSections(builder, part.critical, prefix, false);
    else if (part.kind === 'run') await runSections(builder, loadRun(part.child), prefix);
  }
  if (sweeps.length === 0 && criticals.length === 0 && !parts.some((p) => p.kind === 'run')) {
    builder.sections.push({ title: 'No results yet', blocks: ['<p class="note">The sub-folders hold no runs yet.</p>'] });
  }
}

/** reproduce.json: the preset, its status and timings, the machine, every part's wall time, and the rules. */
function reproduceOverview(manifest: Json | null, sweeps: readonly SweepInfo[], criticals: readonly CriticalInfo[]): string[] {
  if (!manifest) return ['<p class="note">No reproduce.json here: the preset, timings and machine are unknown; the parts below are drawn from their own folders.</p>'];
  const blocks: string[] = [];
  const presetValue = manifest['preset'];
  const preset = asObject(presetValue);
  const timings = asObject(manifest['timings']);
  const history = Array.isArray(manifest['history']) ? (manifest['history'] as unknown[]).map(asObject).filter((h): h is Json => h !== null) : [];
  const seconds = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `${formatDuration(v)} (${num(v)} s)` : undefined);
  const earlier = history.reduce((sum, h) => sum + (toNumber(getPath(h, 'timings.totalS')) || 0), 0);
  const entries: [string, unknown][] = [
    ['preset', preset?.['name'] ?? (typeof presetValue === 'string' ? presetValue : undefined)],
    ['description', preset?.['description']],
    ['preset file', preset?.['file']],
    ['status', manifest['status']],
    ['gradnoise version', manifest['version']],
    ['created', manifest['createdAt']],
    ['last updated', manifest['updatedAt']],
    ['workers', manifest['workers']],
    ['wall time, this invocation', seconds(timings?.['totalS'])],
    ['of which runs', seconds(timings?.['runsS'])],
    ['of which report', seconds(timings?.['reportS'])],
    ['earlier invocations (resumed)', history.length > 0 ? `${history.length}, ${formatDuration(earlier)} in all` : undefined],
  ];
  blocks.push(metaTable('Preset', entries));

  const machine = asObject(manifest['machine']);
  if (machine) {
    const labels: Record<string, string> = {
      platform: 'platform',
      arch: 'architecture',
      cpus: 'CPUs (available parallelism)',
      cpuModel: 'CPU model',
      memoryGiB: 'memory (GiB)',
      node: 'node',
      loadAverage: 'load average at start (1, 5, 15 min)',
    };
    const known = Object.keys(labels).map((k): [string, unknown] => [labels[k]!, Array.isArray(machine[k]) ? (machine[k] as unknown[]).join(', ') : machine[k]]);
    const other = Object.keys(machine)
      .filter((k) => !(k in labels))
      .map((k): [string, unknown] => [k, machine[k]]);
    blocks.push(metaTable('Machine', [...known, ...other]));
  }

  const parts = Array.isArray(manifest['parts']) ? (manifest['parts'] as unknown[]).map(asObject).filter((p): p is Json => p !== null) : [];
  if (parts.length > 0) {
    const runsOf = (name: string): RunData[] =>
      sweeps.find((s) => path.basename(s.dir) === name)?.runs ?? criticals.find((c) => c.part === name)?.runs ?? [];
    const rows = parts.map((p) => {
      const name = String(p['name'] ?? p['dir'] ?? '?');
      const runs = runsOf(String(p['dir'] ?? name));
      const runWall = runs.reduce((sum, r) => sum + (toNumber(r.summary?.['wallS']) || 0), 0);
      // Completed runs as the folder holds them now (reproduce.json counts those of its last invocation's end).
      const completed = runs.length > 0 ? runs.filter((r) => r.summary?.['status'] === 'completed').length : p['completed'];
      const backends = Array.isArray(p['backends']) ? (p['backends'] as unknown[]).map(String).join(', ') : '';
      return [
        name,
        String(p['kind'] ?? ''),
        String(p['status'] ?? ''),
        `${formatCellValue(completed ?? '?')} / ${formatCellValue(p['runs'] ?? '?')}`,
        formatCellValue(p['failed'] ?? ''),
        typeof p['envSteps'] === 'number' ? formatNumber(p['envSteps']) : '',
        typeof p['wallS'] === 'number' ? formatDuration(p['wallS']) : '–',
        runWall > 0 ? formatDuration(runWall) : '–',
        backends || backendsUsed(runs) || '–',
        String(p['source'] ?? ''),
      ];
    });
    blocks.push(
      table('Parts and wall time', ['part', 'kind', 'status', 'runs completed / planned', 'failed', 'env steps planned', 'wall time', 'runs’ own wall time, summed', 'backends', 'defined in'], rows, 'findings') +
        '<p class="note">Wall time: time spent on the part, summed over invocations (a resumed part skips runs completed earlier). Runs’ own wall time: each run’s summary.json wallS, summed (runs execute in parallel across workers).</p>',
    );
  }

  const rules = asObject(manifest['rules']);
  if (rules) {
    blocks.push(table('Rules', ['figure', 'rule'], Object.entries(rules).map(([k, v]) => [k, formatCellValue(v)]), 'rules'));
  }
  return blocks;
}

function metaTable(caption: string, entries: readonly [string, unknown][]): string {
  const rows = entries.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, formatCellValue(v)]);
  return table(caption, ['', ''], rows, 'meta');
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

function renderHtml(dir: string, kind: FolderKind, sections: readonly Section[]): string {
  const name = path.basename(dir);
  const nav = sections.map((s, i) => `<li><a href="#section-${i}">${esc(s.title)}</a></li>`).join('');
  const body = sections.map((s, i) => `<section id="section-${i}"><h2>${esc(s.title)}</h2>\n${s.blocks.join('\n')}\n</section>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradnoise report: ${esc(name)}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.4rem; }
figure.plot { margin: 1rem 0; } figure.plot svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85rem; color: #555; } figcaption a { color: #36c; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.4rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; } th { background: #f4f4f4; }
table.meta th:empty { display: none; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { font-size: 0.8rem; color: #555; max-width: 60rem; }
ul.findings { font-size: 0.9rem; max-width: 70rem; } ul.findings li { margin: 0.2rem 0; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
</style>
</head>
<body>
<h1>gradnoise report: ${esc(name)}</h1>
<p class="note">${esc(kindText(kind))} Redrawn by <code>gradnoise report</code> from the folder's CSV and JSON files. B_simple = tr(Σ)/|G|² (McCandlish et al. 2018, eq. 2.9), in samples (env steps); intervals at ${pct(REPORT_CONFIDENCE)}.</p>
<nav><ul>${nav}</ul></nav>
${body}
</body>
</html>
`;
}

function kindText(kind: FolderKind): string {
  return {
    run: 'One training run.',
    sweep: 'A sweep: runs over difficulty levels and seeds.',
    'critical-batch': 'Critical batch size measurement: runs per batch size and seed.',
    reproduce: 'Reproduction of the paper’s headline figures.',
  }[kind];
}

function table(caption: string, header: readonly string[], rows: readonly (readonly string[])[], cls = 'findings'): string {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td${/^[\d.,\-–×≥ \[\]∞()kMG]+$/.test(c) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h3>${esc(caption)}</h3>\n<table class="${cls}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function details(summary: string, text: string): string {
  return `<details><summary>${esc(summary)}</summary><pre>${esc(text)}</pre></details>`;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

function num(value: number): string {
  if (Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return NUMBER.format(value);
}

/** `1,230 [890, 1,700]`; unresolved: `unresolved (≥ 890)`. */
export function fig(f: Figure, unit = ''): string {
  if (f.value === Infinity) return Number.isFinite(f.lo) && f.lo > 0 ? `∞ (above the range measured; ≥ ${num(f.lo)}${unit})` : '∞ (above the range measured)';
  if (!Number.isFinite(f.value)) {
    if (f.n === 0) return '–';
    if (Number.isFinite(f.lo) && f.lo > 0) return `unresolved (≥ ${num(f.lo)}${unit})`;
    // A ratio whose denominator is not resolved: only an upper bound.
    return Number.isFinite(f.hi) && f.hi > 0 ? `unresolved (≤ ${num(f.hi)}${unit})` : 'unresolved';
  }
  const interval = Number.isFinite(f.lo) || Number.isFinite(f.hi) ? ` [${num(f.lo)}${unit}, ${num(f.hi)}${Number.isFinite(f.hi) ? unit : ''}]` : '';
  return `${num(f.value)}${unit}${interval}`;
}

function pct(p: number): string {
  return `${Number((p * 100).toFixed(1))}%`;
}

function formatCellValue(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : num(value);
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** SVGs in plots/ that this drawing did not write are from an earlier one whose data are gone. */
function removeStalePlots(root: string, written: readonly string[]): void {
  const dir = path.join(root, 'plots');
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (name.endsWith('.svg') && !written.includes(file)) fs.rmSync(file);
  }
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
