/**
 * Reading gradnoise output folders for the report: which kind a folder is, and each file read through the type its
 * writer uses — run folders with `readRunFolder`, `sweep.json` as `SweepManifest`, `critical-batch.json` as
 * `CriticalBatchFile` (or `critical-batch.csv` by `CRITICAL_BATCH_COLUMNS`), `reproduce.json` as `ReproduceManifest`.
 *
 * Folder kinds, told apart by the files present:
 * - run: `config.json` plus `metrics.csv` / `noise.csv` / `summary.json`;
 * - sweep: `sweep.json` or `sweep.csv`, with one run folder per run under `runs/`;
 * - critical-batch: `critical-batch.json` or `critical-batch.csv` (fits per target), or a `sweep.json` of that kind;
 * - reproduce: sub-folders of the kinds above (and maybe `reproduce.json`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { figureRead, READ_FOR_FINDINGS, runData, type Figure, type RunData } from '../analysis/findings.js';
import { stepsFromRuns, type CriticalFit } from '../analysis/findings-critical.js';
import { formatSetting } from '../analysis/findings-format.js';
import type { RunConfig } from '../config/schema.js';
import { isNoiseComponent, type NoiseComponent } from '../core/components.js';
import { CRITICAL_BATCH_COLUMNS, parseTargets, type CriticalBatchDefinition, type CriticalBatchFile, type TargetResult } from '../experiments/critical-batch.js';
import type { REPRODUCE_MANIFEST, ReproduceManifest } from '../experiments/reproduce.js';
import { SWEEP_MANIFEST, type SweepManifest } from '../experiments/sweep/folder.js';
import { MATCHED_FRACTION } from '../experiments/sweep/results.js';
import { cellNumber, readCsvIfExists, type CsvTable } from '../run/csv.js';
import { readJson, readRunFolder, RUN_FILES } from '../run/run-folder.js';

export type FolderKind = 'run' | 'sweep' | 'critical-batch' | 'reproduce';

/** A value written with writeJsonAtomic, as JSON.parse gives it back: non-finite numbers were written as null. */
export type Parsed<T> = T extends number
  ? number | null
  : T extends readonly (infer U)[]
    ? readonly Parsed<U>[]
    : T extends object
      ? { readonly [K in keyof T]: Parsed<T[K]> }
      : T;

// The writer's name, checked against its constant without loading reproduce.ts (and with it every env) at run time.
const REPRODUCE_JSON: typeof REPRODUCE_MANIFEST = 'reproduce.json';
const CRITICAL_JSON = 'critical-batch.json';
const CRITICAL_CSV = 'critical-batch.csv';
const SWEEP_CSV = 'sweep.csv';
const SWEEP_SUMMARY = 'sweep-summary.json';

/** A JSON file as its writer's type, or null when it is missing or unreadable (a folder being written). */
function readJsonIfAny<T>(file: string): T | null {
  if (!fs.existsSync(file)) return null;
  try {
    return readJson<T>(file);
  } catch {
    return null;
  }
}

const has = (dir: string, name: string) => fs.existsSync(path.join(dir, name));

function isRunFolder(dir: string): boolean {
  return has(dir, RUN_FILES.config) && (has(dir, RUN_FILES.metrics) || has(dir, RUN_FILES.noise) || has(dir, RUN_FILES.summary));
}

/** Sub-folders in name order (plots/ and hidden ones left out). */
export function subfolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'plots' && !e.name.startsWith('.'))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** The kind of gradnoise output folder `dir` is, or null when it is none. */
export function detectFolder(dir: string): FolderKind | null {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return null;
  if (has(dir, CRITICAL_JSON) || has(dir, CRITICAL_CSV)) return 'critical-batch';
  if (has(dir, SWEEP_MANIFEST) || has(dir, SWEEP_CSV)) {
    return readJsonIfAny<SweepManifest>(path.join(dir, SWEEP_MANIFEST))?.kind === 'critical-batch' ? 'critical-batch' : 'sweep';
  }
  if (isRunFolder(dir)) return 'run';
  const children = subfolders(dir).map(detectFolder);
  if (has(dir, REPRODUCE_JSON) || children.some((k) => k === 'sweep' || k === 'critical-batch')) return 'reproduce';
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/**
 * One run folder. `sweepRow` is its sweep.csv row (for the matched-progress target the sweep gave it), `planned` the
 * config its sweep.json planned, used while the run's own config.json is missing (a run that has not started).
 */
export function loadRun(dir: string, sweepRow: Readonly<Record<string, string>> = {}, planned: RunConfig | null = null): RunData {
  return runData(readRunFolder(dir, READ_FOR_FINDINGS), { planned, matchedTarget: cellNumber(sweepRow['matched_target']) });
}

/** The run folders under `dir/runs/` (else directly under `dir`), in sweep.json's order. */
export function loadRuns(dir: string, manifest: SweepManifest | null, aggregate: CsvTable | null): RunData[] {
  const base = fs.existsSync(path.join(dir, 'runs')) ? path.join(dir, 'runs') : dir;
  const rows = new Map((aggregate?.rows ?? []).map((r) => [r['run_id'] ?? '', r]));
  const planned = new Map((manifest?.runs ?? []).map((r) => [r.id, r.config]));
  const order = [...planned.keys()];
  const rank = (d: string) => (planned.has(path.basename(d)) ? order.indexOf(path.basename(d)) : order.length);
  return subfolders(base)
    .filter((d) => has(d, RUN_FILES.metrics) || has(d, RUN_FILES.noise) || has(d, RUN_FILES.config))
    .sort((a, b) => rank(a) - rank(b))
    .map((d) => loadRun(d, rows.get(path.basename(d)), planned.get(path.basename(d)) ?? null));
}

// ---------------------------------------------------------------------------------------------------------------
// Sweeps

/** The part of sweep-summary.json the report reads (sweep/results.ts writes its rules in words). */
interface SweepSummaryRules {
  readonly rules?: Readonly<Record<string, string>>;
}

export interface SweepInfo {
  readonly dir: string;
  readonly runs: readonly RunData[];
  /** Env family per run id: the env and any other varied setting (level and seed aside). */
  readonly family: ReadonlyMap<string, string>;
  /** Family labels in run order. */
  readonly families: readonly string[];
  readonly manifest: SweepManifest | null;
  /** sweep-summary.json's rules, when written. */
  readonly rules: Readonly<Record<string, string>> | null;
  /** The matched-progress rule in words (sweep-summary.json's, else the one the findings apply) and its fraction. */
  readonly matchedRule: string;
  readonly fraction: number;
}

function defaultMatchedRule(fraction: number): string {
  return `within each level (runs differing only in seed), target = min + ${fraction}·(max − min) of the return_mean its completed runs logged; each run's matched point is its first update with return_mean ≥ target; B_simple there is the ratio of means over the monitor.window measurements centred on that update`;
}

export function loadSweep(dir: string): SweepInfo {
  const manifest = readJsonIfAny<SweepManifest>(path.join(dir, SWEEP_MANIFEST));
  const runs = loadRuns(dir, manifest, readCsvIfExists(path.join(dir, SWEEP_CSV)));
  const settings = new Map((manifest?.runs ?? []).map((r) => [r.id, r.settings]));
  const varied = (manifest?.keys ?? []).filter((p) => !['env.id', 'env.level', 'run.seed'].includes(p));
  // A named ladder (env.ladder v1) is part of the family: its levels are other tasks than the default ladder's.
  const ladderOf = (run: RunData) => (run.config?.env.ladder && !varied.includes('env.ladder') ? [`ladder ${run.config.env.ladder}`] : []);
  const family = new Map(
    runs.map((run) => [run.id, [run.envId, ...ladderOf(run), ...varied.map((p) => `${p}=${formatSetting(settings.get(run.id)?.[p])}`)].join(' · ')]),
  );
  const rules = readJsonIfAny<SweepSummaryRules>(path.join(dir, SWEEP_SUMMARY))?.rules ?? null;
  // Sweeps match progress at sweep/results.ts's fraction (runSweep sets no other).
  const fraction = MATCHED_FRACTION;
  return {
    dir,
    runs,
    family,
    families: [...new Set(runs.map((r) => family.get(r.id)!))],
    manifest,
    rules,
    matchedRule: rules?.['matchedProgress'] ?? defaultMatchedRule(fraction),
    fraction,
  };
}

/** A sweep's runs grouped by env family, families in run order. */
export function runsByFamily(sweep: SweepInfo): Map<string, RunData[]> {
  return new Map(sweep.families.map((f) => [f, sweep.runs.filter((r) => sweep.family.get(r.id) === f)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Critical batch

export interface CriticalInfo {
  readonly dir: string;
  /** The folder's name (in a reproduce folder: the part's name). */
  readonly part: string;
  readonly env: string;
  /** Difficulty level of the task (NaN when unknown). */
  readonly level: number;
  /** The batch sizes tried, ascending. */
  readonly batchSizes: readonly number[];
  /** The B_simple component the fits compare (critical-batch.json's; policy unless set). */
  readonly component: NoiseComponent;
  readonly fits: readonly CriticalFit[];
  readonly file: Parsed<CriticalBatchFile> | null;
  readonly manifest: SweepManifest | null;
  readonly runs: readonly RunData[];
}

/** JSON cannot hold ∞: a B_crit above the batch sizes tried is told by its regime. */
function bCritFigure(figure: Figure, regime: string): Figure {
  return regime === 'b_crit_above_range' && Number.isNaN(figure.value) ? { ...figure, value: Infinity } : figure;
}

const orNaN = (x: number | null | undefined) => x ?? NaN;

function fitFromJson(t: Parsed<TargetResult>): CriticalFit {
  const interval = (i: { estimate: number | null; lo: number | null; hi: number | null }) => figureRead(orNaN(i.estimate), orNaN(i.lo), orNaN(i.hi));
  return {
    spec: { kind: t.spec.kind, label: t.spec.label },
    target: orNaN(t.target),
    regime: t.regime,
    sMin: orNaN(t.sMin.estimate),
    eMin: orNaN(t.eMin.estimate),
    bCrit: bCritFigure(interval(t.bCrit), t.regime),
    bSimple: interval(t.bSimple),
    points: t.points.map((p) => ({ batchSize: orNaN(p.batchSize), steps: orNaN(p.steps), samples: orNaN(p.samples) })),
    // Files written before the protocol's figures hold none of these.
    ...(t.bSimpleW
      ? {
          extra: {
            score: orNaN(t.score),
            sMin: interval(t.sMin),
            eMin: interval(t.eMin),
            bSimpleW: interval(t.bSimpleW),
            bNoise: interval(t.bNoise),
            bNoiseW: interval(t.bNoiseW),
            edges: (t.edges ?? []).map((e) => `${orNaN(e.batchSize)}:${e.edge}`),
          },
        }
      : {}),
  };
}

type CriticalBatchColumn = (typeof CRITICAL_BATCH_COLUMNS)[number];

function fitFromCsv(row: Readonly<Record<string, string>>): CriticalFit {
  const text = (column: CriticalBatchColumn) => row[column] ?? '';
  const cell = (column: CriticalBatchColumn) => cellNumber(row[column]);
  const figure = (column: 'b_crit' | 'b_simple') => figureRead(cell(column), cell(`${column}_lo`), cell(`${column}_hi`));
  const regime = text('fit_regime');
  let spec: CriticalFit['spec'] = null;
  try {
    const [parsed] = parseTargets(text('target_spec'));
    if (parsed) spec = { kind: parsed.kind, label: parsed.label };
  } catch {
    // No target as asked for: the fit is named by its return.
  }
  const base = { spec, target: cell('target'), regime, sMin: cell('s_min'), eMin: cell('e_min'), bCrit: bCritFigure(figure('b_crit'), regime), bSimple: figure('b_simple'), points: [] };
  if (!('b_simple_w' in row)) return base;
  const triple = (column: 's_min' | 'e_min' | 'b_simple_w' | 'b_noise' | 'b_noise_w') => figureRead(cell(column), cell(`${column}_lo`), cell(`${column}_hi`));
  const edges = text('lr_edges').split(' ').filter((e) => e.length > 0);
  return { ...base, extra: { score: cell('score'), sMin: triple('s_min'), eMin: triple('e_min'), bSimpleW: triple('b_simple_w'), bNoise: triple('b_noise'), bNoiseW: triple('b_noise_w'), edges } };
}

export function loadCritical(dir: string): CriticalInfo {
  const file = readJsonIfAny<Parsed<CriticalBatchFile>>(path.join(dir, CRITICAL_JSON));
  const manifest = readJsonIfAny<SweepManifest>(path.join(dir, SWEEP_MANIFEST));
  const definition = manifest?.kind === 'critical-batch' ? (manifest.definition as CriticalBatchDefinition) : null;
  const runs = loadRuns(dir, manifest, null);
  const csv = readCsvIfExists(path.join(dir, CRITICAL_CSV));
  const given = file ? file.targets.map(fitFromJson) : (csv?.rows ?? []).map(fitFromCsv);
  // Measured points the file does not hold: read them off the runs' metrics (first update whose mean return ≥ target).
  const fits = given.map((fit) => (fit.points.length > 0 || !Number.isFinite(fit.target) ? fit : { ...fit, points: stepsFromRuns(runs, fit.target) }));
  const sizes = file ? file.definition.batchSizes.map(orNaN) : (definition?.batchSizes ?? [...new Set(fits.flatMap((f) => f.points.map((p) => p.batchSize)))]);
  const csvComponent = csv?.rows[0]?.['component'];
  return {
    dir,
    part: path.basename(dir),
    env: definition?.config.env.id ?? runs[0]?.envId ?? path.basename(dir),
    level: definition?.config.env.level ?? runs[0]?.level ?? NaN,
    batchSizes: sizes.filter((b) => b > 0).sort((a, b) => a - b),
    component: file?.component ?? (isNoiseComponent(csvComponent) ? csvComponent : 'policy'),
    fits,
    file,
    manifest,
    runs,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reproduce

/** One sub-folder of a reproduce folder, loaded as what it is. */
export type ReproducePartInfo =
  | { readonly dir: string; readonly kind: 'sweep'; readonly sweep: SweepInfo }
  | { readonly dir: string; readonly kind: 'critical-batch'; readonly critical: CriticalInfo }
  | { readonly dir: string; readonly kind: 'run'; readonly run: RunData }
  | { readonly dir: string; readonly kind: 'reproduce' | null };

export interface ReproduceInfo {
  readonly dir: string;
  readonly manifest: ReproduceManifest | null;
  /** The parts in the preset's order (reproduce.json), then any other sub-folder. */
  readonly parts: readonly ReproducePartInfo[];
}

export function loadReproduce(dir: string): ReproduceInfo {
  const manifest = readJsonIfAny<ReproduceManifest>(path.join(dir, REPRODUCE_JSON));
  const planned = (manifest?.parts ?? []).map((p) => p.dir);
  const rank = (child: string) => (planned.includes(path.basename(child)) ? planned.indexOf(path.basename(child)) : planned.length);
  const parts = subfolders(dir)
    .map((child, i) => ({ child, i }))
    .sort((a, b) => rank(a.child) - rank(b.child) || a.i - b.i)
    .map(({ child }): ReproducePartInfo => {
      const kind = detectFolder(child);
      if (kind === 'sweep') return { dir: child, kind, sweep: loadSweep(child) };
      if (kind === 'critical-batch') return { dir: child, kind, critical: loadCritical(child) };
      if (kind === 'run') return { dir: child, kind, run: loadRun(child) };
      return { dir: child, kind };
    });
  return { dir, manifest, parts };
}
