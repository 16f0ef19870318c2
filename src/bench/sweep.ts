/**
 * `gradnoise bench sweep`: how a sweep scales with `--workers`, and what reusing a worker process saves.
 *
 * One sweep of short runs (the cartpole PPO config, seeds 1..N, 16 updates each, monitor on) is run into fresh
 * folders in three ways, taking turns so that a change in machine load hits them alike: 1 worker, 2 workers (each
 * process serving run after run, as sweeps do), and 1 worker with a fresh process per run (what reuse avoids: Node,
 * tfjs and the backend starting for every run; only the first `freshRuns` runs, it is slow). Each figure is the wall
 * time of the whole `runSweep` call, worker start-up included, so the speed-up of 2 workers depends on how long a
 * run is against a worker's start-up (paid once per worker, both workers starting at once). The speed-up is taken
 * pair by pair (1-worker time / 2-worker time within a repeat), and every run's rows are compared across the
 * variants (wall-clock columns aside): they must be identical.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from '../core/stats.js';
import { readCsv } from '../run/csv.js';
import { loadAverage } from '../run/machine.js';
import { WALL_CLOCK_COLUMNS } from '../run/trainer.js';
import { expandSweep, validatePlan, type SweepPlan } from '../experiments/sweep/plan.js';
import { runSweep } from '../experiments/sweep/run.js';
import { benchConfig, type ConcreteBackend } from './setup.js';

export interface SweepBenchOptions {
  /** Runs in the sweep (default 12). */
  runs?: number;
  /** Env steps per run (default 8192: 16 PPO updates of 512). */
  totalSteps?: number;
  /** Runs of the process-per-run variant (default 4). */
  freshRuns?: number;
  /** Rounds of the three variants (default 2). */
  repeats?: number;
  backend?: ConcreteBackend;
  log?: (line: string) => void;
}

export type SweepVariant = '1 worker' | '2 workers' | '1 worker, process per run';

export interface SweepBenchRow {
  variant: SweepVariant;
  workers: number;
  runsPerProcess: number | null;
  /** Runs in this variant's sweep. */
  runs: number;
  /** Wall seconds of each repeat. */
  wallS: number[];
  medianS: number;
  /** Median over runs and repeats of each run's own wall time (summary.json). */
  runS: number;
}

export interface SweepBenchResult {
  config: { env: string; algo: string; runs: number; totalSteps: number; batch: number; backend: string; monitor: boolean };
  cpus: number;
  rows: SweepBenchRow[];
  /** 1-worker / 2-worker wall time, per repeat and median (the target is ≥ 1.8 on 2 cores). */
  speedup: { pairs: number[]; median: number };
  /** Wall time per run, process per run / reused worker (1 worker), per repeat and median; and the seconds per run it saves. */
  reuse: { pairs: number[]; median: number; savedPerRunS: number };
  /** Every run's metrics.csv and noise.csv rows, wall-clock columns aside, equal in all variants. */
  identical: boolean;
  load: { start: number[]; end: number[] };
  wallS: number;
}

const VARIANTS: readonly { variant: SweepVariant; workers: number; runsPerProcess: number | null }[] = [
  { variant: '1 worker', workers: 1, runsPerProcess: null },
  { variant: '2 workers', workers: 2, runsPerProcess: null },
  { variant: '1 worker, process per run', workers: 1, runsPerProcess: 1 },
];

/** Columns that depend on the clock: the trainer's and noise.csv's `measure_ms`. */
const CLOCK_COLUMNS = new Set<string>([...WALL_CLOCK_COLUMNS, 'measure_ms']);

/** A run folder's rows without clock columns, as one string to compare. */
function rowsOf(runDir: string): string {
  const strip = (file: string) =>
    fs.existsSync(file) ? readCsv(file).rows.map((row) => Object.entries(row).filter(([key]) => !CLOCK_COLUMNS.has(key))) : [];
  return JSON.stringify([strip(path.join(runDir, 'metrics.csv')), strip(path.join(runDir, 'noise.csv'))]);
}

function benchPlan(options: SweepBenchOptions): SweepPlan {
  const totalSteps = options.totalSteps ?? 8192;
  const { config } = benchConfig([`run.totalSteps=${totalSteps}`, `run.backend=${options.backend ?? 'wasm'}`]);
  const { meta: _meta, ...base } = structuredClone(config);
  return expandSweep({ name: 'bench-sweep', base, seeds: options.runs ?? 12 }, process.cwd());
}

export async function runSweepBench(options: SweepBenchOptions = {}): Promise<SweepBenchResult> {
  const log = options.log ?? (() => {});
  const plan = benchPlan(options);
  await validatePlan(plan);
  const repeats = options.repeats ?? 2;
  const freshRuns = Math.min(options.freshRuns ?? 4, plan.runs.length);
  const plans = new Map<SweepVariant, SweepPlan>(VARIANTS.map((v) => [v.variant, v.runsPerProcess ? { ...plan, runs: plan.runs.slice(0, freshRuns) } : plan]));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-bench-sweep-'));
  const t0 = performance.now();
  const load = { start: loadAverage(), end: [] as number[] };
  const times = new Map<SweepVariant, number[]>(VARIANTS.map((v) => [v.variant, []]));
  const runTimes = new Map<SweepVariant, number[]>(VARIANTS.map((v) => [v.variant, []]));
  const reference = new Map<string, string>();
  let identical = true;
  try {
    for (let repeat = 0; repeat < repeats; repeat++) {
      // ABC, then CBA: each variant sees the early and the late part of the load in turn.
      const order = repeat % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        const out = path.join(root, `${repeat}-${v.workers}-${v.runsPerProcess ?? 'reuse'}`);
        const start = performance.now();
        const variantPlan = plans.get(v.variant)!;
        const result = await runSweep(variantPlan, { out, workers: v.workers, ...(v.runsPerProcess ? { runsPerProcess: v.runsPerProcess } : {}) });
        const wallS = (performance.now() - start) / 1000;
        if (result.completed !== variantPlan.runs.length) throw new Error(`bench sweep: ${variantPlan.runs.length - result.completed} runs did not complete (see ${out})`);
        times.get(v.variant)!.push(wallS);
        for (const run of variantPlan.runs) {
          const dir = path.join(out, 'runs', run.id);
          const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { wallS: number };
          runTimes.get(v.variant)!.push(summary.wallS);
          const rows = rowsOf(dir);
          const seen = reference.get(run.id);
          if (seen === undefined) reference.set(run.id, rows);
          else if (seen !== rows) identical = false;
        }
        log(`sweep of ${variantPlan.runs.length} runs, ${v.variant}: ${wallS.toFixed(1)} s (repeat ${repeat + 1}/${repeats})`);
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  load.end = loadAverage();
  const rows = VARIANTS.map((v): SweepBenchRow => ({
    variant: v.variant,
    workers: v.workers,
    runsPerProcess: v.runsPerProcess,
    runs: plans.get(v.variant)!.runs.length,
    wallS: times.get(v.variant)!,
    medianS: median(times.get(v.variant)!),
    runS: median(runTimes.get(v.variant)!),
  }));
  const [one, two, fresh] = rows as [SweepBenchRow, SweepBenchRow, SweepBenchRow];
  const pairs = (a: SweepBenchRow, b: SweepBenchRow) => a.wallS.map((x, i) => x / a.runs / (b.wallS[i]! / b.runs));
  const config = plan.runs[0]!.config;
  return {
    config: {
      env: config.env.id,
      algo: config.agent.algo,
      runs: plan.runs.length,
      totalSteps: config.run.totalSteps,
      batch: config.env.numEnvs * config.agent.numSteps,
      backend: config.run.backend,
      monitor: config.monitor.enabled,
    },
    cpus: os.availableParallelism(),
    rows,
    speedup: { pairs: pairs(one, two), median: median(pairs(one, two)) },
    reuse: { pairs: pairs(fresh, one), median: median(pairs(fresh, one)), savedPerRunS: fresh.medianS / fresh.runs - one.medianS / one.runs },
    identical,
    load,
    wallS: (performance.now() - t0) / 1000,
  };
}
