/**
 * A sweep's aggregate files, computed from its run folders (summary.json, metrics.csv, noise.csv):
 *
 * - `sweep.csv`: one row per run (pending runs included): id, status, one column per varied config path (full path),
 *   seed, env, algo, batch size, lr, final and best return_mean, the matched point, and per component (policy, value,
 *   total) the run-average B_simple (the monitor's ratio of means over all measurements, from summary.json, with its
 *   interval), the final EMA B_simple, B_simple at matched progress, first/last-quarter B_simple and their ratio.
 * - `sweep-groups.csv`: one row per setting (its seeds pooled): pooled B_simple figures with bootstrap intervals.
 * - `sweep-summary.json`: the rules used, the groups, and hardest-vs-easiest level ratios when `env.level` varies.
 *
 * Rules are src/analysis/noise-figures.ts's. Only completed runs enter the group figures and the matched-progress return range.
 */
import path from 'node:path';
import {
  firstReaching,
  growthAggregate,
  growthOverTraining,
  matchedFigure,
  matchedPoints,
  ratioOfMeans,
  seedAggregate,
  settingRatio,
  type BootstrapOptions,
  type GrowthMeans,
  type Interval,
  type MatchedPoint,
  type NoiseMeans,
  runSeries,
  type RunSeries,
  type WindowFigure,
} from '../../analysis/noise-figures.js';
import type { RunConfig } from '../../config/schema.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../../core/components.js';
import { readRunFolder, writeJsonAtomic } from '../../run/run-folder.js';
import { writeCsvAtomic, type CsvValue } from '../../run/csv.js';

/** Fraction of a level's return range that defines matched progress. */
export const MATCHED_FRACTION = 0.5;

// ---------------------------------------------------------------------------------------------------------------
// Aggregation

/** The parts of a sweep plan the aggregate needs (what sweep.json holds). */
export interface AggregatePlan {
  readonly name: string;
  readonly keys: readonly string[];
  readonly runs: readonly { readonly id: string; readonly group: string; readonly settings: Readonly<Record<string, unknown>>; readonly seed: number; readonly config: RunConfig }[];
}

export interface AggregateOptions {
  readonly fraction?: number;
  /** Measurements in the matched-progress window (default: each run's monitor.window). */
  readonly window?: number;
  readonly bootstrap?: BootstrapOptions;
}

interface RunFigures {
  readonly matched: MatchedPoint | null;
  readonly perComponent: Record<NoiseComponent, { mean: WindowFigure; matched: WindowFigure; start: WindowFigure; end: WindowFigure; growth: number }>;
}

/** Reads run folders (caching the finished ones) and writes sweep.csv, sweep-groups.csv and sweep-summary.json. */
export class SweepAggregator {
  private readonly cache = new Map<string, RunSeries>();

  constructor(
    private readonly plan: AggregatePlan,
    private readonly dir: string,
    private readonly options: AggregateOptions = {},
  ) {}

  /** Forget a run's cached data (it has just been rerun). */
  invalidate(id: string): void {
    this.cache.delete(id);
  }

  private data(id: string): RunSeries {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const data = runSeries(readRunFolder(path.join(this.dir, 'runs', id)));
    // A folder without a summary is still being written; read it again next time.
    if (data.summary) this.cache.set(id, data);
    return data;
  }

  /**
   * Write sweep.csv and, unless `runsOnly` (the quick refresh after each run; the group bootstraps take longer),
   * sweep-groups.csv and sweep-summary.json. Returns the per-run rows.
   */
  write(options: { runsOnly?: boolean } = {}): Record<string, CsvValue>[] {
    const { rows, groups, summary } = this.compute(!options.runsOnly);
    writeCsvAtomic(path.join(this.dir, 'sweep.csv'), sweepCsvColumns(this.plan.keys), rows);
    if (!options.runsOnly) {
      writeCsvAtomic(path.join(this.dir, 'sweep-groups.csv'), groupCsvColumns(this.plan.keys), groups);
      writeJsonAtomic(path.join(this.dir, 'sweep-summary.json'), summary);
    }
    return rows;
  }

  compute(withGroups = true): { rows: Record<string, CsvValue>[]; groups: Record<string, CsvValue>[]; summary: unknown } {
    const fraction = this.options.fraction ?? MATCHED_FRACTION;
    const runs = this.plan.runs.map((run) => ({ run, data: this.data(run.id) }));
    const byGroup = new Map<string, typeof runs>();
    for (const entry of runs) {
      const list = byGroup.get(entry.run.group) ?? [];
      list.push(entry);
      byGroup.set(entry.run.group, list);
    }

    const figures = new Map<string, RunFigures>();
    for (const members of byGroup.values()) {
      const completed = members.filter((m) => m.data.summary?.status === 'completed');
      // The level's return range comes from its completed runs; every run is then matched against that target.
      const reference = completed.length > 0 ? completed : members;
      const points = matchedPoints(reference.map((m) => m.data.returns), fraction);
      const template = points[0] ?? null;
      for (const member of members) {
        const point: MatchedPoint | null = template
          ? { target: template.target, range: template.range, reached: Number.isFinite(template.target) ? firstReaching(member.data.returns, template.target) : null }
          : null;
        const window = this.options.window ?? member.run.config.monitor.window;
        const confidence = member.run.config.monitor.confidence;
        const perComponent = {} as RunFigures['perComponent'];
        for (const c of NOISE_COMPONENTS) {
          const ms = member.data.noise[c];
          const growth = growthOverTraining(ms, confidence);
          perComponent[c] = {
            mean: ratioOfMeans(ms, confidence),
            matched: point ? matchedFigure(ms, point, { window, confidence }) : ratioOfMeans([], confidence),
            start: growth.start,
            end: growth.end,
            growth: growth.growth,
          };
        }
        figures.set(member.run.id, { matched: point, perComponent });
      }
    }

    const rows = runs.map(({ run, data }) => runRow(run, data, figures.get(run.id)!, this.plan.keys));
    if (!withGroups) return { rows, groups: [], summary: null };
    const groupRows: Record<string, CsvValue>[] = [];
    const groupSummaries: unknown[] = [];
    const pooled = new Map<string, Record<NoiseComponent, { mean: NoiseMeans[]; matched: NoiseMeans[]; growth: GrowthMeans[] }>>();
    for (const [group, members] of byGroup) {
      const completed = members.filter((m) => m.data.summary?.status === 'completed');
      const perComponent = {} as Record<NoiseComponent, { mean: NoiseMeans[]; matched: NoiseMeans[]; growth: GrowthMeans[] }>;
      for (const c of NOISE_COMPONENTS) {
        const f = completed.map((m) => figures.get(m.run.id)!.perComponent[c]);
        perComponent[c] = {
          mean: f.filter((x) => x.mean.measurements > 0).map((x) => x.mean),
          matched: f.filter((x) => x.matched.measurements > 0).map((x) => x.matched),
          growth: f.filter((x) => x.start.measurements > 0 && x.end.measurements > 0).map((x) => ({ start: x.start, end: x.end })),
        };
      }
      pooled.set(group, perComponent);
      const row = groupRow(group, members[0]!.run.settings, members.length, completed, figures, perComponent, this.plan.keys, this.options.bootstrap);
      groupRows.push(row);
      groupSummaries.push(row);
    }

    const summary = {
      name: this.plan.name,
      rules: {
        runAverage: 'ratio of means over all measurements of the run: mean trace_sigma / mean grad_sq (noise.csv raw single-measurement estimates, equal weight per measurement)',
        matchedProgress: `within each group (runs differing only in seed), target = min + ${fraction}·(max − min) of the return_mean its completed runs logged; each run's matched point is its first update with return_mean ≥ target; B_simple there is the ratio of means over the monitor.window measurements centred on that update`,
        growth: 'ratio of means over the last quarter of the run (by env steps) / ratio of means over the first quarter',
        acrossSeeds: 'pooled: mean over seeds of mean trace_sigma / mean over seeds of mean grad_sq; interval: percentile bootstrap over seeds',
        resolution: 'per-run figures are empty (NaN) unless mean |G|² is significantly > 0 (Fieller interval bounded at monitor.confidence)',
      },
      groups: groupSummaries,
      levelRatios: levelRatios(this.plan, byGroup, pooled, this.options.bootstrap),
    };
    return { rows, groups: groupRows, summary };
  }
}

export function sweepCsvColumns(keys: readonly string[]): string[] {
  const columns = ['run_id', 'group', 'status', ...keys, 'seed', 'env_id', 'algo', 'batch_size', 'lr', 'total_steps', 'env_steps', 'updates', 'wall_s'];
  columns.push('return_mean_final', 'return_mean_best', 'matched_target', 'matched_update', 'matched_env_steps');
  for (const c of NOISE_COMPONENTS) {
    columns.push(
      `b_simple_mean_${c}`,
      `b_simple_mean_${c}_lo`,
      `b_simple_mean_${c}_hi`,
      `b_simple_final_${c}`,
      `b_simple_matched_${c}`,
      `b_simple_matched_${c}_lo`,
      `b_simple_matched_${c}_hi`,
      `b_simple_start_${c}`,
      `b_simple_end_${c}`,
      `growth_${c}`,
    );
  }
  columns.push('error');
  return columns;
}

export function groupCsvColumns(keys: readonly string[]): string[] {
  const columns = ['group', ...keys, 'runs', 'completed', 'return_mean_final', 'return_mean_best', 'matched_target', 'matched_reached'];
  for (const c of NOISE_COMPONENTS) {
    for (const figure of ['b_simple_mean', 'b_simple_matched', 'growth']) columns.push(`${figure}_${c}`, `${figure}_${c}_lo`, `${figure}_${c}_hi`);
  }
  return columns;
}

function settingCell(value: unknown): CsvValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function runRow(run: AggregatePlan['runs'][number], data: RunSeries, figures: RunFigures, keys: readonly string[]): Record<string, CsvValue> {
  const summary = data.summary;
  const lastReturn = data.returns[data.returns.length - 1];
  const row: Record<string, CsvValue> = {
    run_id: run.id,
    group: run.group,
    status: summary?.status ?? (data.returns.length > 0 ? 'running' : 'pending'),
    seed: run.seed,
    env_id: run.config.env.id,
    algo: run.config.agent.algo,
    batch_size: run.config.env.numEnvs * run.config.agent.numSteps,
    lr: run.config.agent.lr,
    total_steps: run.config.run.totalSteps,
    env_steps: summary ? summary.envSteps : (lastReturn?.envSteps ?? null),
    updates: summary ? summary.updates : (lastReturn?.update ?? null),
    wall_s: summary?.wallS ?? null,
    return_mean_final: summary?.returnMean ?? null,
    return_mean_best: summary?.returnBest ?? null,
    matched_target: figures.matched?.target ?? null,
    matched_update: figures.matched?.reached?.update ?? null,
    matched_env_steps: figures.matched?.reached?.envSteps ?? null,
    error: summary?.error?.split('\n')[0] ?? null,
  };
  for (const key of keys) row[key] = settingCell(run.settings[key]);
  for (const c of NOISE_COMPONENTS) {
    const monitor = summary?.noise?.components?.[c];
    const f = figures.perComponent[c];
    // The run average and final figures are the monitor's own (summary.json); the rest are computed from noise.csv.
    row[`b_simple_mean_${c}`] = monitor ? monitor.mean.bSimple : f.mean.bSimple;
    row[`b_simple_mean_${c}_lo`] = monitor ? monitor.mean.lo : f.mean.lo;
    // summary.json stores an unbounded upper end (+∞) as null.
    row[`b_simple_mean_${c}_hi`] = monitor ? (monitor.mean.hi ?? (monitor.mean.resolved ? null : Infinity)) : f.mean.hi;
    row[`b_simple_final_${c}`] = monitor ? monitor.final.bSimple : null;
    row[`b_simple_matched_${c}`] = f.matched.bSimple;
    row[`b_simple_matched_${c}_lo`] = f.matched.lo;
    row[`b_simple_matched_${c}_hi`] = f.matched.hi;
    row[`b_simple_start_${c}`] = f.start.bSimple;
    row[`b_simple_end_${c}`] = f.end.bSimple;
    row[`growth_${c}`] = f.growth;
  }
  // JSON turned non-finite numbers into null; show "no value" as an empty cell throughout.
  for (const [key, value] of Object.entries(row)) if (typeof value === 'number' && Number.isNaN(value)) row[key] = null;
  return row;
}

function groupRow(
  group: string,
  settings: Readonly<Record<string, unknown>>,
  runs: number,
  completed: readonly { data: RunSeries; run: AggregatePlan['runs'][number] }[],
  figures: Map<string, RunFigures>,
  pooled: Record<NoiseComponent, { mean: NoiseMeans[]; matched: NoiseMeans[]; growth: GrowthMeans[] }>,
  keys: readonly string[],
  bootstrapOptions: BootstrapOptions | undefined,
): Record<string, CsvValue> {
  const finals = completed.map((m) => m.data.summary?.returnMean).filter((v): v is number => typeof v === 'number');
  const bests = completed.map((m) => m.data.summary?.returnBest).filter((v): v is number => typeof v === 'number');
  const firstMatched = completed.map((m) => figures.get(m.run.id)!.matched).find((m) => m !== null);
  const row: Record<string, CsvValue> = {
    group,
    runs,
    completed: completed.length,
    return_mean_final: finals.length > 0 ? finals.reduce((a, b) => a + b, 0) / finals.length : null,
    return_mean_best: bests.length > 0 ? Math.max(...bests) : null,
    matched_target: firstMatched?.target ?? null,
    matched_reached: completed.filter((m) => figures.get(m.run.id)!.matched?.reached).length,
  };
  for (const key of keys) row[key] = settingCell(settings[key]);
  const put = (name: string, interval: Interval) => {
    row[name] = interval.estimate;
    row[`${name}_lo`] = interval.lo;
    row[`${name}_hi`] = interval.hi;
  };
  for (const c of NOISE_COMPONENTS) {
    put(`b_simple_mean_${c}`, seedAggregate(pooled[c].mean, bootstrapOptions));
    put(`b_simple_matched_${c}`, seedAggregate(pooled[c].matched, bootstrapOptions));
    put(`growth_${c}`, growthAggregate(pooled[c].growth, bootstrapOptions));
  }
  for (const [key, value] of Object.entries(row)) if (typeof value === 'number' && Number.isNaN(value)) row[key] = null;
  return row;
}

/**
 * When `env.level` varies: per combination of the other varied settings, pooled B_simple at the highest level over
 * that at the lowest, for the run average and at matched progress, each component, with a bootstrap over seeds.
 */
function levelRatios(
  plan: AggregatePlan,
  byGroup: Map<string, { run: AggregatePlan['runs'][number]; data: RunSeries }[]>,
  pooled: Map<string, Record<NoiseComponent, { mean: NoiseMeans[]; matched: NoiseMeans[]; growth: GrowthMeans[] }>>,
  bootstrapOptions: BootstrapOptions | undefined,
): unknown[] {
  if (!plan.keys.includes('env.level')) return [];
  const others = plan.keys.filter((k) => k !== 'env.level');
  const buckets = new Map<string, { settings: Record<string, unknown>; byLevel: Map<number, string> }>();
  for (const [group, members] of byGroup) {
    const settings = members[0]!.run.settings;
    const level = members[0]!.run.config.env.level;
    const key = JSON.stringify(others.map((k) => settings[k]));
    const bucket = buckets.get(key) ?? { settings: Object.fromEntries(others.map((k) => [k, settings[k]])), byLevel: new Map<number, string>() };
    bucket.byLevel.set(level, group);
    buckets.set(key, bucket);
  }
  const out: unknown[] = [];
  for (const bucket of buckets.values()) {
    const levels = [...bucket.byLevel.keys()].sort((a, b) => a - b);
    if (levels.length < 2) continue;
    const low = levels[0]!;
    const high = levels[levels.length - 1]!;
    const lowData = pooled.get(bucket.byLevel.get(low)!)!;
    const highData = pooled.get(bucket.byLevel.get(high)!)!;
    for (const c of NOISE_COMPONENTS) {
      for (const figure of ['mean', 'matched'] as const) {
        const ratio = settingRatio(highData[c][figure], lowData[c][figure], bootstrapOptions);
        out.push({
          settings: bucket.settings,
          levels: [low, high],
          component: c,
          figure,
          ratio: ratio.estimate,
          lo: ratio.lo,
          hi: ratio.hi,
          seeds: [lowData[c][figure].length, highData[c][figure].length],
        });
      }
    }
  }
  return out;
}

