/**
 * Running a sweep: skip runs already completed in the folder, clear and rerun the others several at a time in worker
 * slots (pool.ts), keep the aggregate files (results.ts) current after every run, and show progress.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ProgressMode } from '../../run/progress.js';
import { clearRun, ensureSummary, readRunSummary, runDirOf, writeManifest } from './folder.js';
import { acquireLock } from './lock.js';
import type { PlannedRun, SweepPlan } from './plan.js';
import { defaultWorkerScript, InProcessSlot, WorkerSlot, type RunOne, type RunRecord, type RunTask, type Slot } from './pool.js';
import { SweepProgress } from './progress.js';
import { SweepAggregator } from './results.js';
import type { RunOutcome } from './worker.js';

export interface SweepOptions {
  readonly out: string;
  /** Parallel runs (default os.availableParallelism()). */
  readonly workers?: number;
  /** Run in this process with this function instead of worker processes. */
  readonly runOne?: RunOne;
  /** Worker module to fork (default worker.ts); it must call `serveRuns`. */
  readonly workerScript?: string;
  /** Progress display on stderr (default quiet). */
  readonly progress?: ProgressMode;
  readonly stream?: NodeJS.WritableStream;
  /** Abort: stop dispatching, stop the running runs (they end `interrupted`), write the aggregate, return. */
  readonly signal?: AbortSignal;
  /** Abort: kill worker processes at once (a second Ctrl-C). */
  readonly killSignal?: AbortSignal;
  /** Called after every finished run. */
  readonly onRunDone?: (record: RunRecord) => void;
  /**
   * Called once at the end, after the aggregate files are written, with the sweep folder (also after an interrupt).
   * The hook for report generation.
   */
  readonly onDone?: (dir: string) => unknown;
}

export interface SweepResult {
  readonly dir: string;
  readonly total: number;
  readonly skipped: number;
  readonly completed: number;
  /** Runs that ended failed or diverged in this invocation. */
  readonly failed: number;
  readonly interrupted: boolean;
  readonly records: readonly RunRecord[];
}

/**
 * Run a validated plan into `options.out`: skip completed runs, clear and rerun the others, several at a time, and keep
 * the aggregate files current after every run. Call `checkOutDir` (and `validatePlan`) first.
 */
export async function runSweep(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const out = options.out;
  fs.mkdirSync(out, { recursive: true });
  const release = acquireLock(out);
  try {
    return await runLocked(plan, options);
  } finally {
    release();
  }
}

async function runLocked(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const out = options.out;
  writeManifest(plan, out);

  const records: RunRecord[] = [];
  const pending: PlannedRun[] = [];
  for (const run of plan.runs) {
    if (readRunSummary(runDirOf(out, run.id))?.status === 'completed') {
      records.push({ id: run.id, status: 'skipped', wallS: 0 });
      continue;
    }
    clearRun(out, run.id);
    pending.push(run);
  }

  const aggregator = new SweepAggregator(plan, out);
  aggregator.write({ runsOnly: true });

  const workers = Math.max(1, Math.min(options.workers ?? os.availableParallelism(), pending.length));
  const display = new SweepProgress(options.progress ?? 'quiet', plan.name, plan.runs.length, records.length, workers, options.stream ?? process.stderr);
  display.start();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort);

  const slots: Slot[] = Array.from({ length: pending.length > 0 ? workers : 0 }, () =>
    options.runOne ? new InProcessSlot(options.runOne) : new WorkerSlot(options.workerScript ?? defaultWorkerScript(), path.join(out, 'logs')),
  );
  const onKill = () => slots.forEach((s) => s.kill());
  options.killSignal?.addEventListener('abort', onKill);

  let next = 0;
  let completed = 0;
  let failed = 0;
  try {
    await Promise.all(
      slots.map(async (slot) => {
        while (!stop.signal.aborted && next < pending.length) {
          const run = pending[next++]!;
          const task: RunTask = { id: run.id, config: run.config, runDir: runDirOf(out, run.id), configDir: plan.configDir };
          display.started(run.id);
          const t0 = performance.now();
          let outcome: RunOutcome;
          try {
            outcome = await slot.run(task, stop.signal);
          } catch (error) {
            outcome = { status: 'failed', error: (error as Error).stack ?? String(error) };
          }
          const summary = ensureSummary(task.runDir, task.config, outcome);
          const record: RunRecord = {
            id: run.id,
            status: summary.status,
            ...(summary.error !== undefined ? { error: summary.error } : {}),
            wallS: (performance.now() - t0) / 1000,
          };
          records.push(record);
          if (record.status === 'completed') completed++;
          else if (record.status === 'failed' || record.status === 'diverged') failed++;
          aggregator.invalidate(run.id);
          aggregator.write({ runsOnly: true });
          display.finished(record);
          options.onRunDone?.(record);
        }
      }),
    );
  } finally {
    await Promise.all(slots.map((s) => s.close()));
    options.signal?.removeEventListener('abort', onAbort);
    options.killSignal?.removeEventListener('abort', onKill);
    display.stop();
  }
  aggregator.write();
  const interrupted = stop.signal.aborted;
  display.final(completed, failed, interrupted, out);
  await options.onDone?.(out);
  const order = new Map(plan.runs.map((r, i) => [r.id, i]));
  records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { dir: out, total: plan.runs.length, skipped: records.filter((r) => r.status === 'skipped').length, completed, failed, interrupted, records };
}

