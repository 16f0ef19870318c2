/**
 * Running a sweep: skip runs already completed in the folder, resume those with a checkpoint, clear the others and
 * run them, and keep the aggregate files (results.ts) current after every run. The runs execute in local worker slots (pool.ts) or as Slurm array
 * jobs (../slurm/executor.ts); either way they land in the same folder layout, so resuming, aggregation and the
 * report do not care where they ran. Runs that an earlier Slurm submission still has queued or running are neither
 * cleared nor resubmitted: the Slurm executor waits for them, the local one refuses to start.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidValueError } from '../../core/errors.js';
import { type ProgressMode } from '../../run/progress.js';
import { runOnSlurm } from '../slurm/executor.js';
import { runsInFlight, taskStates } from '../slurm/jobs.js';
import type { ExecutorChoice } from '../slurm/options.js';
import { hasUsableCheckpoint } from '../../run/checkpoint.js';
import { parseConfig } from '../../config/load.js';
import { clearRun, ensureSummary, readRunSummary, runDirOf, writeManifest } from './folder.js';
import { acquireLock } from './lock.js';
import type { SweepPlan } from './plan.js';
import { defaultWorkerScript, InProcessSlot, runInSlots, WorkerSlot, type RunOne, type RunRecord, type RunTask, type Slot } from './pool.js';
import { SweepProgress } from './progress.js';
import { SweepAggregator } from './results.js';
import type { RunOutcome } from './worker.js';

export interface SweepOptions {
  readonly out: string;
  /** Local parallel runs (default os.availableParallelism()). */
  readonly workers?: number;
  /** Where runs execute (default local worker processes). */
  readonly executor?: ExecutorChoice;
  /** Slurm, detached: further arguments of the finish job's `gradnoise sweep finish`, or false for no finish job. */
  readonly finishJob?: false | { readonly args: readonly string[] };
  /** Run in this process with this function instead of worker processes. */
  readonly runOne?: RunOne;
  /** Worker module to fork (default worker.ts); it must call `serveRuns`. */
  readonly workerScript?: string;
  /** Runs one worker process serves before a fresh one replaces it (default: no limit; 1 = a process per run). */
  readonly runsPerProcess?: number;
  /** Progress display on stderr (default quiet). */
  readonly progress?: ProgressMode;
  readonly stream?: NodeJS.WritableStream;
  /** Abort: stop dispatching, stop the running runs (they end `interrupted`), write the aggregate, return. */
  readonly signal?: AbortSignal;
  /** Abort: kill worker processes at once (a second Ctrl-C); with Slurm, stop waiting. */
  readonly killSignal?: AbortSignal;
  /** Called after every finished run. */
  readonly onRunDone?: (record: RunRecord) => void;
  /**
   * Called once at the end, after the aggregate files are written, with the sweep folder (also after an interrupt;
   * not when detached). The hook for report generation.
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
  /** Runs neither completed nor failed at the end (stopped, or cancelled in Slurm); 0 when detached. */
  readonly unfinished: number;
  readonly interrupted: boolean;
  readonly records: readonly RunRecord[];
  /** Slurm: the client returned after submitting; the runs (and the finish job) go on without it. */
  readonly detached: boolean;
  /** Slurm: the array jobs this invocation submitted or waited for, and the finish job (detached). */
  readonly jobs: readonly string[];
  readonly finishJob: string | null;
}

/**
 * Run a validated plan into `options.out`: skip completed runs, clear and rerun the others, and keep the aggregate
 * files current after every run. Call `checkOutDir` (and `validatePlan`) first.
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

/** Runs an earlier Slurm submission still has queued or running (none for a folder that never used Slurm). */
async function slurmInFlight(out: string, executor: ExecutorChoice['executor']): Promise<Map<string, string>> {
  try {
    return runsInFlight(await taskStates(out));
  } catch (error) {
    // Without the Slurm commands a local sweep cannot ask; the folder has left the cluster.
    if (executor === 'local' && error instanceof InvalidValueError) return new Map();
    throw error;
  }
}

async function runLocked(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const out = options.out;
  const executor = options.executor ?? { executor: 'local' };
  const attached = await slurmInFlight(out, executor.executor);
  if (executor.executor === 'local' && attached.size > 0) {
    const jobs = [...new Set([...attached.values()].map((k) => k.split('_')[0]))].join(', ');
    throw new InvalidValueError('--executor', 'local', `${attached.size} runs of this sweep are queued or running in Slurm job(s) ${jobs}; wait for them, scancel them, or rerun with --executor slurm`);
  }
  writeManifest(plan, out);

  const taskOf = (id: string): RunTask => {
    const run = plan.runs.find((r) => r.id === id)!;
    return { id: run.id, config: run.config, runDir: runDirOf(out, run.id), configDir: plan.configDir };
  };
  const records: RunRecord[] = [];
  const pending: RunTask[] = [];
  for (const run of plan.runs) {
    if (readRunSummary(runDirOf(out, run.id))?.status === 'completed') {
      records.push({ id: run.id, status: 'skipped', wallS: 0 });
    } else if (!attached.has(run.id)) {
      // A run killed with a checkpoint in its folder continues from it (its log goes on); anything else starts over.
      if (!hasUsableCheckpoint(runDirOf(out, run.id), parseConfig(run.config))) clearRun(out, run.id);
      pending.push(taskOf(run.id));
    }
  }
  const inFlight = [...attached.keys()].filter((id) => !records.some((r) => r.id === id));

  const aggregator = new SweepAggregator(plan, out);
  aggregator.write({ runsOnly: true });

  const workers = executor.executor === 'slurm' ? pending.length + inFlight.length : Math.max(1, Math.min(options.workers ?? os.availableParallelism(), pending.length));
  const stream = options.stream ?? process.stderr;
  const display = new SweepProgress(options.progress ?? 'quiet', plan.name, plan.runs.length, records.length, workers, stream, executor.executor);
  display.start();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort);

  let completed = 0;
  let failed = 0;
  const finished = (task: RunTask, outcome: RunOutcome, wallS: number, began = true) => {
    // A run that never began (cancelled while queued) keeps no folder: it is simply still pending.
    const summary = began ? ensureSummary(task.runDir, task.config, outcome) : { status: outcome.status, error: outcome.error };
    const record: RunRecord = { id: task.id, status: summary.status, ...(summary.error !== undefined ? { error: summary.error } : {}), wallS };
    records.push(record);
    if (record.status === 'completed') completed++;
    else if (record.status === 'failed' || record.status === 'diverged') failed++;
    aggregator.invalidate(task.id);
    aggregator.write({ runsOnly: true });
    display.finished(record);
    options.onRunDone?.(record);
  };

  let detached = false;
  let jobs: readonly string[] = [];
  let finishJob: string | null = null;
  let interrupted = false;
  try {
    if (executor.executor === 'slurm') {
      const submission = await runOnSlurm({
        name: plan.name,
        out,
        tasks: pending,
        attached: new Map(inFlight.map((id) => [id, attached.get(id)!])),
        taskOf,
        slurm: executor.slurm,
        detach: executor.detach,
        ...(options.finishJob !== undefined ? { finishJob: options.finishJob } : {}),
        stop: stop.signal,
        ...(options.killSignal ? { kill: options.killSignal } : {}),
        say: (line) => display.message(line),
        started: (id) => display.started(id),
        finished,
      });
      ({ jobs, finishJob } = submission);
      // Nothing left to submit: finish here, as a waiting client would.
      detached = executor.detach && jobs.length > 0;
      interrupted = submission.interrupted;
    } else {
      await runLocally(pending, workers, stop.signal, options, out, display, finished);
      interrupted = stop.signal.aborted;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    display.stop();
  }
  if (detached) {
    display.detached(out, jobs, finishJob);
  } else {
    aggregator.write();
    display.final(completed, failed, interrupted, out);
    await options.onDone?.(out);
  }
  const order = new Map(plan.runs.map((r, i) => [r.id, i]));
  records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  const skipped = records.filter((r) => r.status === 'skipped').length;
  const unfinished = detached ? 0 : plan.runs.length - skipped - completed - failed;
  return { dir: out, total: plan.runs.length, skipped, completed, failed, unfinished, interrupted, records, detached, jobs, finishJob };
}

async function runLocally(
  pending: readonly RunTask[],
  workers: number,
  stop: AbortSignal,
  options: SweepOptions,
  out: string,
  display: SweepProgress,
  finished: (task: RunTask, outcome: RunOutcome, wallS: number) => void,
): Promise<void> {
  const slots: Slot[] = Array.from({ length: pending.length > 0 ? workers : 0 }, () =>
    options.runOne
      ? new InProcessSlot(options.runOne)
      : new WorkerSlot({ script: options.workerScript ?? defaultWorkerScript(), logDir: path.join(out, 'logs'), ...(options.runsPerProcess ? { runsPerProcess: options.runsPerProcess } : {}) }),
  );
  for (const slot of slots) slot.warm?.();
  const onKill = () => slots.forEach((s) => s.kill());
  options.killSignal?.addEventListener('abort', onKill);
  try {
    await runInSlots(pending, slots, stop, { started: (task) => display.started(task.id), finished });
  } finally {
    await Promise.all(slots.map((s) => s.close()));
    options.killSignal?.removeEventListener('abort', onKill);
  }
}
