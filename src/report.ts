/**
 * `gradnoise report DIR`: redraw the plots and `report.html` of an output folder from its CSV (and JSON) files alone.
 *
 * Folder kinds, told apart by the files present:
 * - run: `config.json` plus `metrics.csv` / `noise.csv` / `summary.json`;
 * - sweep: `sweep.json` or `sweep.csv`, with one run folder per run under `runs/`;
 * - critical-batch: `critical-batch.json` or `critical-batch.csv` (fits per target), runs under `runs/`;
 * - reproduce: sub-folders of the kinds above (and maybe `reproduce.json`).
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
import { parse } from 'csv-parse/sync';
import { InvalidValueError } from './errors.js';
import {
  growthAggregate,
  growthOverTraining,
  ratioOfMeans,
  seedAggregate,
  settingRatio,
  type GrowthMeans,
  type Interval,
  type NoiseMeans,
  type NoiseMeasurement,
  type WindowFigure,
} from './analysis.js';
import {
  bCritVsBSimple,
  COMPONENT_ORDER,
  formatNumber,
  noiseOverTraining,
  noiseVsDifficulty,
  paretoFronts,
  returnCurvesPerLevel,
  type CriticalPoint,
  type DifficultyPoint,
  type LevelCurves,
  type ParetoPoint,
  type ParetoTarget,
  type TrainingCurves,
} from './plots.js';

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

export interface CsvTable {
  columns: string[];
  rows: Record<string, string>[];
}

/**
 * Parse a CSV with a header row. A run killed mid-write may leave a partial last line: only complete lines are read,
 * and rows with the wrong number of cells are dropped.
 */
export function readCsv(file: string): CsvTable {
  let text = fs.readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n');
  text = end >= 0 ? text.slice(0, end + 1) : '';
  const records = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
  const columns = records[0] ?? [];
  const rows: Record<string, string>[] = [];
  for (const record of records.slice(1)) {
    if (record.length !== columns.length) continue;
    const row: Record<string, string> = {};
    columns.forEach((c, i) => (row[c] = record[i]!));
    rows.push(row);
  }
  return { columns, rows };
}

/** A CSV cell as a number: empty → NaN; `nan`, `inf`, `-inf` as written by gradnoise. */
export function cell(row: Record<string, string> | undefined, column: string): number {
  const text = row?.[column]?.trim().toLowerCase();
  if (text === undefined || text === '' || text === 'nan') return NaN;
  if (text === 'inf' || text === '+inf' || text === 'infinity') return Infinity;
  if (text === '-inf' || text === '-infinity') return -Infinity;
  const value = Number(text);
  return Number.isNaN(value) ? NaN : value;
}

function readJsonIfAny(file: string): unknown {
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function readCsvIfAny(file: string): CsvTable | null {
  return fs.existsSync(file) ? readCsv(file) : null;
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

/** `a.b.c` in a nested object. */
function getPath(target: unknown, dotted: string): unknown {
  let current: unknown = target;
  for (const key of dotted.split('.')) {
    const obj = asObject(current);
    if (!obj || !(key in obj)) return undefined;
    current = obj[key];
  }
  return current;
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
}

/**
 * `fallback` supplies what a sweep's aggregate row knows, and `manifestConfig` the config sweep.json planned, when the
 * run's own config.json is missing (a run that has not started).
 */
export function loadRun(dir: string, fallback: Record<string, string> = {}, manifestConfig: Json | null = null): RunData {
  const config = asObject(readJsonIfAny(path.join(dir, 'config.json'))) ?? manifestConfig;
  const noise = readCsvIfAny(path.join(dir, 'noise.csv'));
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
    metrics: readCsvIfAny(path.join(dir, 'metrics.csv')),
    noise,
    summary: asObject(readJsonIfAny(path.join(dir, 'summary.json'))),
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

function measurements(run: RunData, component: string): NoiseMeasurement[] {
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

function runComponents(run: RunData): string[] {
  const present = new Set(run.noise?.rows.map((r) => r['component'] ?? '') ?? []);
  return [...COMPONENT_ORDER.filter((c) => present.has(c)), ...[...present].filter((c) => c !== '' && !COMPONENT_ORDER.includes(c as never))];
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
  else if (kind === 'sweep') await sweepSections(builder, root, '');
  else if (kind === 'critical-batch') await criticalSections(builder, root, '', true);
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
    `<p class="note">Quarters by env steps; each B_simple is mean tr(Σ) / mean |G|² over the quarter's measurements with a ${pct(1 - (1 - REPORT_CONFIDENCE) / 2)} Fieller interval, so the growth interval holds jointly at ${pct(REPORT_CONFIDENCE)}. “not resolved”: |G|² not significantly > 0 (B_simple at least the number shown).</p>`
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
  runs: RunData[];
  /** Family label per run id. */
  family: Map<string, string>;
  json: Json | null;
}

function loadSweep(dir: string): SweepInfo {
  const json = asObject(readJsonIfAny(path.join(dir, 'sweep.json')));
  const aggregate = readCsvIfAny(path.join(dir, 'sweep.csv'));
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
  return { runs, family, json };
}

function gridPathsOf(grid: unknown): string[] {
  if (Array.isArray(grid)) {
    return grid.map((g) => asObject(g)).flatMap((g) => (g && typeof (g['path'] ?? g['key']) === 'string' ? [String(g['path'] ?? g['key'])] : []));
  }
  const obj = asObject(grid);
  return obj ? Object.keys(obj) : [];
}

async function sweepSections(builder: ReportBuilder, dir: string, prefix: string, title = `Sweep ${path.basename(dir)}`): Promise<void> {
  const sweep = loadSweep(dir);
  const blocks: string[] = [];
  const families = [...new Set(sweep.runs.map((r) => sweep.family.get(r.id)!))];
  const withNoise = sweep.runs.filter((r) => (r.noise?.rows.length ?? 0) > 0);

  for (const family of families) {
    const runs = withNoise.filter((r) => sweep.family.get(r.id) === family).sort((a, b) => a.level - b.level || a.seed.localeCompare(b.seed));
    if (runs.length === 0) continue;
    const name = `${prefix}noise-over-training-${slug(family)}`;
    const svg = await noiseOverTraining(
      runs.map((r) => ({ label: `level ${r.level}`, runId: r.id, noise: noisePoints(r), returns: returnPoints(r) })),
      { id: name, ordered: true, legendTitle: 'difficulty', title: `Gradient noise scale over training: ${family}` },
    );
    blocks.push(builder.figure(name, svg, `B_simple per component (log scale) and mean return vs env steps, one line per run, colour = difficulty level.`));
  }

  const difficulty: DifficultyPoint[] = [];
  for (const run of withNoise) {
    for (const c of runComponents(run)) {
      difficulty.push({ family: sweep.family.get(run.id)!, level: run.level, component: c, seed: run.seed, bSimple: componentFindings(run, c).average.value });
    }
  }
  if (difficulty.some((p) => Number.isFinite(p.bSimple))) {
    const name = `${prefix}noise-vs-difficulty`;
    const svg = await noiseVsDifficulty(difficulty, { id: name });
    blocks.push(builder.figure(name, svg, 'Average B_simple over training (log scale) per difficulty level and env family.'));
  }

  const levelCurves: LevelCurves[] = sweep.runs
    .filter((r) => (r.metrics?.rows.length ?? 0) > 0)
    .sort((a, b) => a.level - b.level)
    .map((r) => ({ family: sweep.family.get(r.id)!, level: r.level, runId: r.id, returns: returnPoints(r) }));
  if (levelCurves.length > 0) {
    const name = `${prefix}return-curves`;
    const svg = await returnCurvesPerLevel(levelCurves, { id: name });
    blocks.push(builder.figure(name, svg, 'Mean return vs env steps per env family, colour = difficulty level.'));
  }

  blocks.push(sweepFindingsTable(sweep, families));
  blocks.push(groupMetadata(sweep.json, sweep.runs));
  blocks.push(sweepRunsTable(sweep));
  if (sweep.json) blocks.push(details('Sweep definition (sweep.json)', JSON.stringify(sweep.json, null, 2)));
  if (sweep.runs.length === 0) blocks.unshift('<p class="note">No run folders yet.</p>');
  builder.sections.push({ title, blocks });
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
  /** B_simple(high level) / B_simple(low level), pooled over seeds (bootstrap interval). */
  ratio: Figure;
}

export function familyFindings(runs: readonly RunData[], family: string, component: string): FamilyFindings | null {
  const withData = runs.filter((r) => runComponents(r).includes(component));
  if (withData.length === 0) return null;
  const levels = [...new Set(withData.map((r) => r.level))].sort((a, b) => a - b);
  const lowLevel = levels[0]!;
  const highLevel = levels[levels.length - 1]!;
  const at = (level: number) => withData.filter((r) => r.level === level).map((r) => componentFindings(r, component));
  const low = at(lowLevel);
  const high = at(highLevel);
  // Pooled over seeds as in sweep.csv (analysis.ts); the interval is a bootstrap over seeds from MIN_BOOTSTRAP_SEEDS
  // on, and below that (where a bootstrap has next to nothing to resample) the hull of the runs' own intervals. One
  // seed: that run's own figures.
  const pooled = (fs: ComponentFindings[]) => {
    if (fs.length === 1) return fs[0]!.average;
    const estimate = fromInterval(seedAggregate(fs.map((f) => f.means)), fs.length);
    return fs.length >= MIN_BOOTSTRAP_SEEDS ? estimate : hull(estimate, fs.map((f) => f.average));
  };
  const lowFigure = pooled(low);
  const highFigure = pooled(high);
  const pooledGrowth = fromInterval(growthAggregate(low.map((f) => f.growthMeans)), low.length);
  const growth = low.length === 1 ? low[0]!.growth : low.length >= MIN_BOOTSTRAP_SEEDS ? pooledGrowth : hull(pooledGrowth, low.map((f) => f.growth));
  const pooledRatio = fromInterval(
    settingRatio(
      high.map((f) => f.means),
      low.map((f) => f.means),
    ),
    Math.min(low.length, high.length),
  );
  const ratio =
    Math.min(low.length, high.length) >= MIN_BOOTSTRAP_SEEDS
      ? pooledRatio
      : low.length === 1 && high.length === 1
        ? conservativeRatio(highFigure, lowFigure)
        : { ...conservativeRatio(highFigure, lowFigure), value: pooledRatio.value };
  return { family, component, runs: withData.length, lowLevel, highLevel, growth, low: lowFigure, high: highFigure, ratio };
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

function sweepFindingsTable(sweep: SweepInfo, families: readonly string[]): string {
  const rows: string[][] = [];
  for (const family of families) {
    const members = sweep.runs.filter((r) => sweep.family.get(r.id) === family);
    // Completed runs only, as in sweep.csv's group figures; while none has completed, every run with data.
    const completed = members.filter((r) => r.summary?.['status'] === 'completed');
    const runs = completed.length > 0 ? completed : members;
    for (const component of COMPONENT_ORDER) {
      const f = familyFindings(runs, family, component);
      if (!f) continue;
      const levels = f.lowLevel === f.highLevel ? `${f.lowLevel}` : `${f.lowLevel} → ${f.highLevel}`;
      rows.push([
        family,
        component,
        completed.length > 0 ? String(f.runs) : `${f.runs} (none completed)`,
        levels,
        fig(f.growth, '×'),
        fig(f.low),
        f.lowLevel === f.highLevel ? '–' : fig(f.high),
        f.lowLevel === f.highLevel ? '–' : fig(f.ratio, '×'),
      ]);
    }
  }
  if (rows.length === 0) return '<p class="note">No noise measurements in this sweep yet.</p>';
  return (
    table(
      'Findings: gradient noise scale by env family (B_simple in samples = env steps)',
      ['env family', 'component', 'runs', 'levels (low → high)', 'growth over training, low level', 'B_simple avg, low level', 'B_simple avg, high level', 'ratio high / low level'],
      rows,
    ) +
    `<p class="note">Completed runs only. Growth: B_simple over the last quarter of a run (by env steps) divided by that over the first. B_simple avg: ratio of means over the whole run. Across seeds: per-seed mean tr(Σ) and |G|² pooled over seeds (as in sweep.csv); interval: ${pct(REPORT_CONFIDENCE)} percentile bootstrap over seeds with ${MIN_BOOTSTRAP_SEEDS} seeds or more (rough with 3), else the hull of the runs' own Fieller intervals (combined conservatively for ratios). The paper's findings: growth by an order of magnitude or more; harder tasks noisier (ratio &gt; 1).</p>`
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
  const rows = sweep.runs.map((r) => {
    const meta = r.meta ?? {};
    return [
      r.id,
      sweep.family.get(r.id)!,
      String(r.level),
      r.seed,
      runStatus(r),
      formatCellValue(lastCell(r.metrics, 'env_steps') ?? ''),
      num(finalReturn(r)),
      ...COMPONENT_ORDER.map((c) => fig(componentFindings(r, c).average)),
      `${String(meta['backend'] ?? '?')}${meta['gpu'] === true ? ' (GPU)' : ''}`,
    ];
  });
  return table('Runs', ['run', 'env family', 'level', 'seed', 'status', 'env steps', 'final return', ...COMPONENT_ORDER.map((c) => `B_simple avg, ${c}`), 'backend'], rows);
}

// --- critical batch

export interface CriticalFit {
  target: string;
  label: string;
  /** `fit`, `b_crit_below_range`, `b_crit_above_range`, `not_fitted`, or '' when not given. */
  regime: string;
  sMin: number;
  eMin: number;
  bCrit: Figure;
  bSimple: Figure;
  points: ParetoPoint[];
}

interface CriticalInfo {
  env: string;
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
  const label = typeof given === 'string' && given !== String(resolved) && given !== returnLabel ? `${given} (${returnLabel})` : returnLabel;
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
  const csv = readCsvIfAny(path.join(dir, 'critical-batch.csv'));
  if (fits.length === 0 && csv) fits = csv.rows.map((r, i) => fitFrom(r, i));
  const runs = loadRuns(dir, null, asObject(readJsonIfAny(path.join(dir, 'sweep.json'))));
  // Measured points missing from the JSON: read them off the runs' metrics (first update whose mean return ≥ target).
  for (const fit of fits) {
    const target = Number(fit.target);
    if (fit.points.length > 0 || !Number.isFinite(target)) continue;
    fit.points = pointsFromRuns(runs, target);
  }
  const base = asObject(root?.['base']) ?? asObject(root?.['config']);
  const env = String(pick(root ?? {}, ['env', 'envId']) ?? getPath(base, 'env.id') ?? runs[0]?.envId ?? path.basename(dir));
  return { env, fits, json, runs };
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

async function criticalSections(builder: ReportBuilder, dir: string, prefix: string, withSummaryFigure: boolean): Promise<CriticalInfo> {
  const info = loadCritical(dir);
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
    const svg = await paretoFronts(targets, { id: name, title: `Steps vs samples to reach each target: ${info.env}` });
    blocks.push(builder.figure(name, svg, 'Optimizer steps S vs samples E to reach each target (log-log), with the fitted tradeoff hyperbola.'));
  }
  const points = criticalPoints(info);
  if (withSummaryFigure && points.length > 0) {
    const name = `${prefix}bcrit-vs-bsimple`;
    const svg = await bCritVsBSimple(points, { id: name });
    blocks.push(builder.figure(name, svg, 'Average B_simple vs measured B_crit (log-log), with y = x and 10× either way.'));
  }
  blocks.push(criticalTable(info));
  blocks.push(groupMetadata(asObject(readJsonIfAny(path.join(dir, 'sweep.json'))), info.runs));
  if (info.json !== null) blocks.push(details('Fits (critical-batch.json)', JSON.stringify(info.json, null, 2)));
  builder.sections.push({ title: `Critical batch size: ${info.env}`, blocks });
  return info;
}

function criticalPoints(info: CriticalInfo): CriticalPoint[] {
  return info.fits
    .filter((f) => Number.isFinite(f.bCrit.value) && Number.isFinite(f.bSimple.value))
    .map((f) => ({
      label: `${info.env}, ${f.label}`,
      bCrit: f.bCrit.value,
      bCritLo: f.bCrit.lo,
      bCritHi: f.bCrit.hi,
      bSimple: f.bSimple.value,
      bSimpleLo: f.bSimple.lo,
      bSimpleHi: f.bSimple.hi,
    }));
}

function criticalTable(info: CriticalInfo): string {
  if (info.fits.length === 0) return '<p class="note">No fits in critical-batch.json yet.</p>';
  const rows = info.fits.map((f) => [
    f.label,
    f.regime.replace(/_/g, ' ') || '–',
    String(new Set(f.points.map((p) => p.batchSize)).size),
    num(f.sMin),
    num(f.eMin),
    fig(f.bCrit),
    fig(f.bSimple),
    Number.isFinite(f.bSimple.value / f.bCrit.value) ? `${num(f.bSimple.value / f.bCrit.value)}×` : '–',
  ]);
  return (
    table(
      `Findings: critical batch size, ${info.env}`,
      ['target', 'fit', 'batch sizes reaching it', 'S_min (updates)', 'E_min (env steps)', 'B_crit = E_min/S_min', 'B_simple avg to target', 'B_simple / B_crit'],
      rows,
    ) + '<p class="note">The paper finds B_simple/B_crit within about 10× either way across tasks.</p>'
  );
}

// --- reproduce

async function reproduceSections(builder: ReportBuilder, dir: string): Promise<void> {
  const criticals: CriticalInfo[] = [];
  for (const child of subfolders(dir)) {
    const kind = detectFolder(child);
    const prefix = `${slug(path.basename(child))}-`;
    if (kind === 'sweep') await sweepSections(builder, child, prefix, `Sweep ${path.basename(child)}`);
    else if (kind === 'critical-batch') criticals.push(await criticalSections(builder, child, prefix, false));
    else if (kind === 'run') await runSections(builder, loadRun(child), prefix);
  }
  const points = criticals.flatMap(criticalPoints);
  if (points.length > 0) {
    const svg = await bCritVsBSimple(points, { id: 'bcrit-vs-bsimple' });
    const block = builder.figure('bcrit-vs-bsimple', svg, 'Average B_simple vs measured B_crit across tasks and targets (log-log), with y = x and 10× either way.');
    builder.sections.push({ title: 'Noise scale vs critical batch size', blocks: [block] });
  }
  if (builder.sections.length === 0) builder.sections.push({ title: 'No results yet', blocks: ['<p class="note">The sub-folders hold no runs yet.</p>'] });
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

/** `1,230 [890, 1,700]`; unresolved: `not resolved (≥ 890)`. */
export function fig(f: Figure, unit = ''): string {
  if (f.value === Infinity) return '∞ (above the range measured)';
  if (!Number.isFinite(f.value)) {
    if (f.n === 0) return '–';
    return Number.isFinite(f.lo) && f.lo > 0 ? `not resolved (≥ ${num(f.lo)}${unit})` : 'not resolved';
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
