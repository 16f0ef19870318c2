/**
 * Findings as data: the noise figures a report (or a reproduction's summary) states about runs, computed from what
 * their folders hold, as typed records that the presentation layers only format.
 *
 * - `Figure`: one estimate with its interval and how much data is behind it (the report's and reproduce's figure),
 *   and `FigureJson`, its form in JSON files (non-finite numbers as null, or 'inf').
 * - Per run and component (`componentFindings`): B_simple over the first and last quarter of the run, their ratio
 *   (growth over training), the whole-run ratio of means and the monitor's own final figure.
 * - Per run at matched progress (`matchedFindings`), per level of an env family (`levelFigures`, seeds pooled) and per
 *   family (`familyFindings`: growth at the lowest level, highest / lowest level ratios).
 * - `trend`: which way a ratio points, as data (rises, falls, no clear change, unresolved).
 *
 * Rules are noise-figures.ts's (the same as sweep.csv's; docs/science.md, "Smoothing, windows and intervals"): B_simple
 * over a window of measurements is the ratio of means, mean tr(Σ) / mean |G|² (never the mean of ratios), with
 * Fieller's interval; across seeds, per-seed means are pooled and the interval is a bootstrap over seeds from
 * MIN_BOOTSTRAP_SEEDS seeds on, else the hull of the runs' own intervals.
 */
import path from 'node:path';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import type { RunConfig } from '../config/schema.js';
import type { NoiseColumn } from '../monitor/monitor.js';
import { cellNumber } from '../run/csv.js';
import type { RunFolder, RunFolderReadOptions, RunMeta } from '../run/run-folder.js';
import {
  firstReaching,
  growthAggregate,
  growthOverTraining,
  matchedPoints,
  ratioOfMeans,
  runSeries,
  seedAggregate,
  settingRatio,
  windowAround,
  type GrowthMeans,
  type Interval,
  type NoiseMeans,
  type ReturnPoint,
  type RunSeries,
  type WindowFigure,
} from './noise-figures.js';

/** Two-sided confidence of every interval the findings state. */
export const FINDINGS_CONFIDENCE = 0.95;

/** Seeds from which a bootstrap over seeds gives the interval; fewer get the hull of the runs' own intervals. */
export const MIN_BOOTSTRAP_SEEDS = 3;

// ---------------------------------------------------------------------------------------------------------------
// Figures

/**
 * An estimate with its interval. value NaN: not resolved (lo is then still a lower bound and hi may be ∞); +∞: above
 * anything measured (a B_crit above the batch sizes tried).
 */
export interface Figure {
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  /** Measurements (or runs) behind it; 0: no data. */
  readonly n: number;
}

export const NO_FIGURE: Figure = { value: NaN, lo: NaN, hi: NaN, n: 0 };

/** A number as JSON can hold it: NaN as null, ±∞ as 'inf' / '-inf'. */
export type JsonNumber = number | 'inf' | '-inf' | null;

/** A figure in a JSON file (reproduce.json's findings). */
export interface FigureJson {
  readonly value: JsonNumber;
  readonly lo: JsonNumber;
  readonly hi: JsonNumber;
}

export function toJsonNumber(x: number): JsonNumber {
  if (Number.isNaN(x)) return null;
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return x;
}

export function fromJsonNumber(x: JsonNumber | undefined): number {
  if (x === 'inf') return Infinity;
  if (x === '-inf') return -Infinity;
  return typeof x === 'number' ? x : NaN;
}

/** An interval as the analysis returns it (`Interval`, a fit's `{estimate, lo, hi}`), in JSON form. */
export function figureJson(interval: { readonly estimate: number; readonly lo: number; readonly hi: number }): FigureJson {
  return { value: toJsonNumber(interval.estimate), lo: toJsonNumber(interval.lo), hi: toJsonNumber(interval.hi) };
}

/**
 * A figure read back from a file, where a missing value is NaN (JSON null, an empty CSV cell). Without a value or a
 * lower bound there is nothing to say: n = 0.
 */
export function figureRead(value: number, lo: number, hi: number): Figure {
  return { value, lo, hi, n: Number.isNaN(value) && Number.isNaN(lo) ? 0 : 1 };
}

/** A figure a JSON file recorded (reproduce.json's findings): without a value it was computed but not resolved. */
export function figureFromJson(f: FigureJson): Figure {
  return { value: fromJsonNumber(f.value), lo: fromJsonNumber(f.lo), hi: fromJsonNumber(f.hi), n: 1 };
}

function fromWindow(w: WindowFigure): Figure {
  return { value: w.bSimple, lo: w.lo, hi: w.hi, n: w.measurements };
}

function fromInterval(i: Interval, n: number): Figure {
  return { value: Number.isFinite(i.estimate) ? i.estimate : NaN, lo: i.lo, hi: i.hi, n };
}

/**
 * A ratio of two pooled noise scales (growth, level ratio). Its estimate is 0 or ∞ exactly when the pooled |G|² of the
 * denominator or the numerator is ≤ 0 (that B_simple is not resolved, noise-figures.ts scaleRatio): then the ratio is
 * not resolved either, and only the bootstrap's bounds say anything.
 */
function fromRatioInterval(i: Interval, n: number): Figure {
  const figure = fromInterval(i, n);
  return i.estimate === 0 ? { ...figure, value: NaN } : figure;
}

/** a/b with the interval [a.lo/b.hi, a.hi/b.lo]: joint coverage ≥ 1 − (α_a + α_b) for independent intervals. */
function conservativeRatio(a: Figure, b: Figure): Figure {
  const lo = a.lo / b.hi;
  const hi = b.lo > 0 ? a.hi / b.lo : Infinity;
  const value = Number.isFinite(a.value) && Number.isFinite(b.value) ? a.value / b.value : NaN;
  return { value, lo: Number.isNaN(lo) ? NaN : lo, hi, n: 1 };
}

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
 * Which way a ratio (growth factor, level ratio) points: `rises` when its interval lies above 1 (`rises10` when its
 * lower end is ≥ 10), `falls` below (`falls10`: upper end ≤ 0.1), `flat` when it spans 1, `no-interval`; for a ratio
 * that is not resolved, `unresolved` or, when its interval still lies on one side of 1, `unresolved-rises` /
 * `unresolved-falls`; `no-data` without data.
 */
export type Trend = 'rises' | 'rises10' | 'falls' | 'falls10' | 'flat' | 'no-interval' | 'unresolved' | 'unresolved-rises' | 'unresolved-falls' | 'no-data';

export function trend(f: Figure): Trend {
  if (f.n === 0) return 'no-data';
  if (!Number.isFinite(f.value)) {
    if (f.lo > 1) return 'unresolved-rises';
    if (f.hi < 1) return 'unresolved-falls';
    return 'unresolved';
  }
  if (f.lo > 1) return f.lo >= 10 ? 'rises10' : 'rises';
  if (f.hi < 1) return f.hi <= 0.1 ? 'falls10' : 'falls';
  if (Number.isNaN(f.lo) || Number.isNaN(f.hi)) return 'no-interval';
  return 'flat';
}

/** +1 when the trend establishes a rise, −1 a fall, 0 otherwise. */
export function trendSign(t: Trend): 1 | -1 | 0 {
  if (t === 'rises' || t === 'rises10' || t === 'unresolved-rises') return 1;
  if (t === 'falls' || t === 'falls10' || t === 'unresolved-falls') return -1;
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/**
 * The log columns the findings and the report read (src/analysis; src/report: run-section.ts and the plots); the
 * others are detail for a reader of the files. Held whole as rows of strings, logs took ~12× their size on disk in
 * memory (a 10-part critical-batch reproduction holds 628 MB of them: past Node's default heap); kept to these
 * columns, ~2.6× (four bandit parts, 21.5 MB of logs: 255 MB of heap before, 56 MB after).
 */
export const FINDINGS_METRICS_COLUMNS: readonly string[] = ['update', 'env_steps', 'episodes', 'return_mean', 'return_sum', 'batch_size'];

export const FINDINGS_NOISE_COLUMNS: readonly NoiseColumn[] = [
  'update',
  'env_steps',
  'component',
  'layer',
  'grad_sq',
  'trace_sigma',
  'b_simple',
  'b_simple_lo',
  'b_simple_hi',
  'trace_h_sigma',
  'g_h_g',
  'b_noise',
  'b_noise_lo',
  'b_noise_hi',
];

/** How the analyses and the report read a run folder: those columns, and noise.csv's component rows (per-layer rows are detail). */
export const READ_FOR_FINDINGS: RunFolderReadOptions = {
  metrics: { columns: FINDINGS_METRICS_COLUMNS },
  noise: { columns: FINDINGS_NOISE_COLUMNS, where: (row) => row['layer'] === undefined || row['layer'] === '' || row['layer'] === 'all' },
};

/** One run as the findings read it: its folder (noise.csv component rows only), series and identity. */
export interface RunData {
  /** The run folder's name. */
  readonly id: string;
  readonly folder: RunFolder;
  /** config.json, else the config its sweep planned (a run not started yet); null when neither is known. */
  readonly config: RunConfig | null;
  readonly meta: RunMeta | null;
  readonly series: RunSeries;
  readonly envId: string;
  readonly level: number;
  readonly seed: number | null;
  readonly algo: string;
  /** summary.json says `completed`. */
  readonly completed: boolean;
  /** The matched-progress return target its sweep's sweep.csv gives it; NaN when none. */
  readonly matchedTarget: number;
  /** Measurements per matched-progress window (the run's monitor.window). */
  readonly window: number;
}

export interface RunDataOptions {
  /** The config a sweep planned for the run, used while the run's own config.json is missing. */
  readonly planned?: RunConfig | null;
  readonly matchedTarget?: number;
}

/** The run behind a folder read with `readRunFolder`. */
export function runData(folder: RunFolder, options: RunDataOptions = {}): RunData {
  const config: RunConfig | null = folder.config ?? options.planned ?? null;
  // Per-layer rows (monitor.perLayer) are detail; the findings use the component rows.
  const noise = folder.noise && { ...folder.noise, rows: folder.noise.rows.filter((r) => r['layer'] === undefined || r['layer'] === 'all' || r['layer'] === '') };
  return {
    id: path.basename(folder.dir),
    folder: { ...folder, noise },
    config,
    meta: folder.config?.meta ?? null,
    series: runSeries(folder),
    envId: config?.env.id ?? 'unknown env',
    level: config?.env.level ?? 0,
    seed: config?.run.seed ?? null,
    algo: config?.agent.algo ?? '',
    completed: folder.summary?.status === 'completed',
    matchedTarget: options.matchedTarget ?? NaN,
    window: config?.monitor.window ?? 10,
  };
}

/** A noise.csv cell of the run's last component row. */
function lastNoiseCell(run: RunData, component: NoiseComponent, column: NoiseColumn): number | null {
  const rows = run.folder.noise?.rows ?? [];
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!['component'] === component) return cellNumber(rows[i]![column]);
  return null;
}

/** The components the run measured, in the usual order. */
export function runComponents(run: RunData): NoiseComponent[] {
  return NOISE_COMPONENTS.filter((c) => run.series.noise[c].length > 0);
}

/** The runs of a group that enter its pooled figures: the completed ones (as in sweep.csv's groups); while none has completed, every run. */
export function pooledRuns<T extends RunData>(runs: readonly T[]): { runs: T[]; completed: boolean } {
  const completed = runs.filter((r) => r.completed);
  return completed.length > 0 ? { runs: completed, completed: true } : { runs: [...runs], completed: false };
}

export interface ComponentFindings {
  readonly component: NoiseComponent;
  readonly measurements: number;
  /** First and last quarter of the run, each at confidence 1 − (1 − c)/2 so that `growth` holds jointly at c. */
  readonly start: Figure;
  readonly end: Figure;
  /** end / start; interval [end.lo/start.hi, end.hi/start.lo]. */
  readonly growth: Figure;
  /** Whole run, ratio of means ("average over training"). */
  readonly average: Figure;
  /** The monitor's smoothed figure at the last measurement (noise.csv b_simple, b_simple_lo, b_simple_hi). */
  readonly final: Figure;
  /** Per-run means behind the across-seed figures. */
  readonly means: NoiseMeans;
  readonly growthMeans: GrowthMeans;
}

export function componentFindings(run: RunData, component: NoiseComponent, confidence = FINDINGS_CONFIDENCE): ComponentFindings {
  const items = run.series.noise[component];
  const halves = growthOverTraining(items, 1 - (1 - confidence) / 2);
  const whole = ratioOfMeans(items, confidence);
  const start = fromWindow(halves.start);
  const end = fromWindow(halves.end);
  const last = lastNoiseCell(run, component, 'b_simple');
  return {
    component,
    measurements: items.length,
    start,
    end,
    growth: start.n > 0 && end.n > 0 ? conservativeRatio(end, start) : NO_FIGURE,
    average: fromWindow(whole),
    final: last === null ? NO_FIGURE : { value: last, lo: lastNoiseCell(run, component, 'b_simple_lo')!, hi: lastNoiseCell(run, component, 'b_simple_hi')!, n: 1 },
    means: { gradSq: whole.gradSq, traceSigma: whole.traceSigma },
    growthMeans: {
      start: { gradSq: halves.start.gradSq, traceSigma: halves.start.traceSigma },
      end: { gradSq: halves.end.gradSq, traceSigma: halves.end.traceSigma },
    },
  };
}

/** B_simple of one run at matched progress: at the first update whose return_mean reaches `target`. */
export interface MatchedFindings {
  /** Where the run first reached the target, or null. */
  readonly reached: ReturnPoint | null;
  /** Ratio of means over the run's `window` measurements centred on that update (NO_FIGURE when not reached). */
  readonly figure: Figure;
  readonly means: NoiseMeans;
  readonly measurements: number;
}

export function matchedFindings(run: RunData, component: NoiseComponent, target: number, confidence = FINDINGS_CONFIDENCE): MatchedFindings {
  const reached = Number.isFinite(target) ? firstReaching(run.series.returns, target) : null;
  if (!reached) return { reached: null, figure: NO_FIGURE, means: { gradSq: NaN, traceSigma: NaN }, measurements: 0 };
  const w = ratioOfMeans(windowAround(run.series.noise[component], reached.envSteps, run.window), confidence);
  return { reached, figure: w.measurements > 0 ? fromWindow(w) : NO_FIGURE, means: { gradSq: w.gradSq, traceSigma: w.traceSigma }, measurements: w.measurements };
}

/**
 * The matched-progress target of one level (runs differing only in seed): the one sweep.csv gives, else computed as
 * sweep/results.ts does (min + fraction·(max − min) of the return_mean its completed runs logged, all runs if none;
 * `fraction` defaults to noise-figures.ts's).
 */
export function levelTarget(runs: readonly RunData[], fraction?: number): number {
  const given = runs.map((r) => r.matchedTarget).find((t) => Number.isFinite(t));
  if (given !== undefined) return given;
  return matchedPoints(pooledRuns(runs).runs.map((r) => r.series.returns), fraction)[0]?.target ?? NaN;
}

/** Per run id, the matched-progress target of its level within its family (`familyOf`). */
export function runTargets(runs: readonly RunData[], familyOf: (run: RunData) => string, fraction?: number): Map<string, number> {
  const targets = new Map<string, number>();
  for (const family of new Set(runs.map(familyOf))) {
    const members = runs.filter((r) => familyOf(r) === family);
    const { runs: pooled } = pooledRuns(members);
    for (const level of new Set(pooled.map((r) => r.level))) {
      const target = levelTarget(
        pooled.filter((r) => r.level === level),
        fraction,
      );
      for (const r of members) if (r.level === level) targets.set(r.id, target);
    }
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------------------------
// Levels and families

/** One run's figures at its level: the run average and at matched progress. */
export interface RunLevelFigures {
  readonly run: RunData;
  readonly findings: ComponentFindings;
  readonly average: Figure;
  readonly matched: MatchedFindings;
}

/** One level of a family, its seeds pooled. */
export interface LevelFigures {
  readonly level: number;
  readonly runs: number;
  /** The matched-progress return target of the level. */
  readonly target: number;
  /** Runs that reached the target. */
  readonly reached: number;
  readonly average: Figure;
  readonly matched: Figure;
  readonly perRun: readonly RunLevelFigures[];
}

/** Per level (ascending) of `runs` (one family), the run-average and matched-progress B_simple pooled over seeds. */
export function levelFigures(runs: readonly RunData[], component: NoiseComponent, fraction?: number): LevelFigures[] {
  const withData = runs.filter((r) => r.series.noise[component].length > 0);
  const levels = [...new Set(withData.map((r) => r.level))].sort((a, b) => a - b);
  return levels.map((level) => {
    const target = levelTarget(
      runs.filter((r) => r.level === level),
      fraction,
    );
    const perRun = withData
      .filter((r) => r.level === level)
      .map((run) => {
        const findings = componentFindings(run, component);
        return { run, findings, average: findings.average, matched: matchedFindings(run, component, target) };
      });
    return {
      level,
      runs: perRun.length,
      target,
      reached: perRun.filter((r) => r.matched.reached).length,
      average: pooledFigure(averages(perRun)),
      matched: pooledFigure(matchedOnly(perRun)),
      perRun,
    };
  });
}

/** Figures of several runs and the per-run means that pool them. */
interface Pool {
  readonly figures: readonly Figure[];
  readonly means: readonly NoiseMeans[];
}

const averages = (perRun: readonly RunLevelFigures[]): Pool => ({ figures: perRun.map((r) => r.average), means: perRun.map((r) => r.findings.means) });

function matchedOnly(perRun: readonly RunLevelFigures[]): Pool {
  const reached = perRun.filter((r) => r.matched.measurements > 0);
  return { figures: reached.map((r) => r.matched.figure), means: reached.map((r) => r.matched.means) };
}

/**
 * Seeds pooled as in sweep.csv: the interval is a bootstrap over seeds from MIN_BOOTSTRAP_SEEDS on, and below that
 * (where a bootstrap has next to nothing to resample) the hull of the runs' own intervals. One seed: that run's own
 * figure.
 */
function pooledFigure({ figures, means }: Pool): Figure {
  if (figures.length === 0) return NO_FIGURE;
  if (figures.length === 1) return figures[0]!;
  const estimate = fromInterval(seedAggregate(means), figures.length);
  return figures.length >= MIN_BOOTSTRAP_SEEDS ? estimate : hull(estimate, figures);
}

/** high / low of two pooled levels: bootstrap over each level's seeds, or the conservative ratio of their intervals. */
function levelRatio(high: Pool, low: Pool): Figure {
  const n = Math.min(high.figures.length, low.figures.length);
  if (n === 0) return NO_FIGURE;
  const pooledRatio = fromRatioInterval(settingRatio(high.means, low.means), n);
  if (n >= MIN_BOOTSTRAP_SEEDS) return pooledRatio;
  const conservative = conservativeRatio(pooledFigure(high), pooledFigure(low));
  return high.figures.length === 1 && low.figures.length === 1 ? conservative : { ...conservative, value: pooledRatio.value };
}

export interface FamilyFindings {
  readonly family: string;
  readonly component: NoiseComponent;
  readonly runs: number;
  readonly lowLevel: number;
  readonly highLevel: number;
  /** Growth over training at the lowest level: pooled over seeds (bootstrap interval), or one run's own interval. */
  readonly growth: Figure;
  readonly low: Figure;
  readonly high: Figure;
  /** B_simple(high level) / B_simple(low level), run averages pooled over seeds (bootstrap interval). */
  readonly ratio: Figure;
  /** The same at matched progress. */
  readonly lowMatched: Figure;
  readonly highMatched: Figure;
  readonly ratioMatched: Figure;
  /** Runs that reached the matched-progress target / runs, at the low and the high level. */
  readonly reached: { readonly low: [number, number]; readonly high: [number, number] };
  /** Whether the runs behind it completed (false: none has yet, and every run counts). */
  readonly completed: boolean;
  /** Every level, ascending. */
  readonly levels: readonly LevelFigures[];
}

/** The findings of one env family (runs that differ in level and seed only), or null when it measured nothing. */
export function familyFindings(runs: readonly RunData[], family: string, component: NoiseComponent, fraction?: number): FamilyFindings | null {
  const pooled = pooledRuns(runs);
  const levels = levelFigures(pooled.runs, component, fraction);
  if (levels.length === 0) return null;
  const low = levels[0]!;
  const high = levels[levels.length - 1]!;
  const perRun = low.perRun.map((r) => r.findings);
  const pooledGrowth = fromRatioInterval(growthAggregate(perRun.map((f) => f.growthMeans)), perRun.length);
  const growth =
    perRun.length === 1 ? perRun[0]!.growth : perRun.length >= MIN_BOOTSTRAP_SEEDS ? pooledGrowth : hull(pooledGrowth, perRun.map((f) => f.growth));
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
    ratio: single ? NO_FIGURE : levelRatio(averages(high.perRun), averages(low.perRun)),
    lowMatched: low.matched,
    highMatched: high.matched,
    ratioMatched: single ? NO_FIGURE : levelRatio(matchedOnly(high.perRun), matchedOnly(low.perRun)),
    reached: { low: [low.reached, low.runs], high: [high.reached, high.runs] },
    completed: pooled.completed,
    levels,
  };
}

/** Every family's findings, per component in the usual order (families in the order given). */
export function findingsByFamily(families: ReadonlyMap<string, readonly RunData[]>, fraction?: number): FamilyFindings[] {
  return [...families].flatMap(([family, runs]) => NOISE_COMPONENTS.flatMap((c) => familyFindings(runs, family, c, fraction) ?? []));
}
