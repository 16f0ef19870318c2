/**
 * The Slurm executor: a sweep's pending runs go to the cluster as one array job per sweep part (`sbatch
 * --array=0-N%K`, chunked below the cluster's MaxArraySize), each task running one run of the folder; results land
 * in the same folder layout as local runs.
 *
 * A waiting client polls the folder and `squeue` every `pollSeconds`: a run is finished once its summary.json exists;
 * a task that Slurm ended without one (killed, out of memory, cancelled or timed out before the run could save) is
 * recorded from Slurm's state. Ctrl-C cancels the jobs (`scancel`: running runs get SIGTERM and save, as locally) and
 * waits for the tasks to end; a second Ctrl-C stops waiting. With `detach` the client returns once the jobs are
 * submitted, after submitting a dependent finish job (`--dependency=afterany`) that writes the aggregates and the
 * report, so nothing depends on the submitting host staying up.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunStatus } from '../../run/run-folder.js';
import { readRunSummary } from '../sweep/folder.js';
import type { RunTask } from '../sweep/pool.js';
import type { RunOutcome } from '../sweep/worker.js';
import { inFlight, maxArraySize, sbatch, scancel, squeue, taskState, type SlurmState } from './commands.js';
import { readSlurmRecord, slurmDir, writeSlurmRecord, type SlurmRecord } from './jobs.js';
import type { SlurmOptions } from './options.js';
import { arrayScript, finishScript } from './script.js';

export interface SlurmExecution {
  readonly name: string;
  /** The sweep folder (made absolute here: compute nodes see it by that path). */
  readonly out: string;
  /** Runs to submit (their folders cleared already). */
  readonly tasks: readonly RunTask[];
  /** Runs already queued or running in an earlier submission: run id → `JOB_INDEX`; waited for, not resubmitted. */
  readonly attached: ReadonlyMap<string, string>;
  /** Look-up for attached runs (their RunTask). */
  readonly taskOf: (id: string) => RunTask;
  readonly slurm: SlurmOptions;
  readonly detach: boolean;
  /** Submit a finish job when detached (default true), with these further `sweep finish` arguments. */
  readonly finishJob?: false | { readonly args: readonly string[] };
  readonly stop?: AbortSignal;
  readonly kill?: AbortSignal;
  readonly say: (line: string) => void;
  readonly started: (id: string) => void;
  /** A run has ended; `started: false` when it never began (cancelled while queued: its folder stays absent). */
  readonly finished: (task: RunTask, outcome: RunOutcome, wallS: number, started: boolean) => void;
}

export interface SlurmSubmission {
  /** The array jobs of this invocation and of the attached runs. */
  readonly jobs: readonly string[];
  readonly finishJob: string | null;
  readonly interrupted: boolean;
}

/** How a run that Slurm ended without a summary.json counts. */
function outcomeOf(state: SlurmState | null, task: string): { status: RunStatus; error: string } {
  const stopped = ['CANCELLED', 'TIMEOUT', 'PREEMPTED', 'DEADLINE'].includes(state ?? '');
  const what = state === null ? 'the controller no longer knows it' : `Slurm state ${state}`;
  return { status: stopped ? 'interrupted' : 'failed', error: `Slurm task ${task} ended before the run wrote its summary.json (${what}); see the log` };
}

function nextNumber(record: SlurmRecord): number {
  return record.arrays.length + record.finish.length + 1;
}

/** Submit the runs (array jobs of at most the cluster's MaxArraySize tasks); returns run id → `JOB_INDEX`. */
async function submitArrays(x: SlurmExecution, out: string): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  if (x.tasks.length === 0) return keys;
  const perTask = x.slurm.runsPerTask;
  const size = (await maxArraySize()) * perTask;
  for (let start = 0; start < x.tasks.length; start += size) {
    const chunk = x.tasks.slice(start, start + size);
    const record = readSlurmRecord(out);
    const n = nextNumber(record);
    const script = path.join(slurmDir(out), `array-${n}.sh`);
    const runs = chunk.map((t) => t.id);
    fs.mkdirSync(slurmDir(out), { recursive: true });
    fs.writeFileSync(script, arrayScript({ name: x.name, dir: out, runs, slurm: x.slurm, output: path.join(slurmDir(out), `array-${n}-%A_%a.out`) }), { mode: 0o755 });
    const jobId = await sbatch(script, [], out);
    const entry = { jobId, script: path.relative(out, script), runs, ...(perTask > 1 ? { runsPerTask: perTask } : {}), submittedAt: new Date().toISOString() };
    writeSlurmRecord(out, { ...record, arrays: [...record.arrays, entry] });
    runs.forEach((id, i) => keys.set(id, `${jobId}_${Math.floor(i / perTask)}`));
    const throttle = x.slurm.throttle ? `%${x.slurm.throttle}` : '';
    const tasks = Math.ceil(runs.length / perTask);
    x.say(`sweep ${x.name}: submitted ${runs.length} runs as Slurm array job ${jobId} (--array=0-${tasks - 1}${throttle}${perTask > 1 ? `, ${perTask} runs per task` : ''}); job script ${script}`);
  }
  return keys;
}

export interface FinishJobRequest {
  readonly name: string;
  /** The folder to finish (a sweep, critical-batch or reproduce folder), absolute. */
  readonly out: string;
  readonly after: readonly string[];
  readonly slurm: SlurmOptions;
  /** Further `gradnoise sweep finish` arguments. */
  readonly args: readonly string[];
  readonly say: (line: string) => void;
}

/** Submit the job that finishes `out` once `after` have ended (afterany); recorded in its slurm/jobs.json. */
export async function submitFinishJob(request: FinishJobRequest): Promise<string> {
  const out = path.resolve(request.out);
  const record = readSlurmRecord(out);
  const n = nextNumber(record);
  const script = path.join(slurmDir(out), `finish-${n}.sh`);
  fs.mkdirSync(slurmDir(out), { recursive: true });
  const text = finishScript({ name: request.name, dir: out, after: request.after, slurm: request.slurm, output: path.join(slurmDir(out), `finish-${n}-%j.out`), args: request.args });
  fs.writeFileSync(script, text, { mode: 0o755 });
  const jobId = await sbatch(script, [], out);
  writeSlurmRecord(out, { ...record, finish: [...record.finish, { jobId, script: path.relative(out, script), after: request.after, submittedAt: new Date().toISOString() }] });
  request.say(`${request.name}: finish job ${jobId} writes the aggregates and the report once ${request.after.join(', ')} end (afterany)`);
  return jobId;
}

/** Resolves after `ms`, or as soon as one of the signals aborts. */
function pause(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const s of signals) s?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of signals) s?.addEventListener('abort', done, { once: true });
  });
}

export async function runOnSlurm(x: SlurmExecution): Promise<SlurmSubmission> {
  const out = path.resolve(x.out);
  const submitted = await submitArrays(x, out);
  const keys = new Map([...x.attached, ...submitted]);
  const jobs = [...new Set([...keys.values()].map((k) => k.split('_')[0]!))];
  if (x.attached.size > 0) x.say(`sweep ${x.name}: ${x.attached.size} runs already queued or running in Slurm job(s) ${[...new Set([...x.attached.values()].map((k) => k.split('_')[0]))].join(', ')}; waiting for them too`);

  if (x.detach) {
    const finishJob =
      x.finishJob === false || jobs.length === 0
        ? null
        : await submitFinishJob({ name: `sweep ${x.name}`, out, after: jobs, slurm: x.slurm, args: x.finishJob?.args ?? [], say: x.say });
    return { jobs, finishJob, interrupted: false };
  }

  const waiting = new Map<string, { task: RunTask; key: string; shownStarted: boolean; endedPolls: number }>();
  for (const [id, key] of keys) waiting.set(id, { task: submitted.has(id) ? x.tasks.find((t) => t.id === id)! : x.taskOf(id), key, shownStarted: false, endedPolls: 0 });
  let cancelled = false;
  let squeueFailures = 0;
  const pollMs = x.slurm.pollSeconds * 1000;
  while (waiting.size > 0 && !x.kill?.aborted) {
    if (x.stop?.aborted && !cancelled) {
      cancelled = true;
      x.say(`sweep ${x.name}: cancelling Slurm job(s) ${jobs.join(', ')} (scancel); running runs save and end interrupted (Ctrl-C again to stop waiting)`);
      await scancel(jobs);
    }
    let states: Map<string, SlurmState>;
    try {
      states = await squeue(jobs);
      squeueFailures = 0;
    } catch (error) {
      // A controller that is busy or restarting answers again soon; the jobs go on meanwhile.
      if (++squeueFailures >= 10) throw error;
      if (squeueFailures === 1) x.say(`sweep ${x.name}: squeue failed (${(error as Error).message}); trying again`);
      await pause(pollMs, x.kill);
      continue;
    }
    for (const [id, entry] of waiting) {
      const state = taskState(states, entry.key);
      const summary = readRunSummary(entry.task.runDir);
      if (summary) {
        waiting.delete(id);
        x.finished(entry.task, { status: summary.status, ...(summary.error !== undefined ? { error: summary.error } : {}) }, summary.wallS, true);
        continue;
      }
      if (state !== null && inFlight(state)) {
        if (!entry.shownStarted && state !== 'PENDING') {
          entry.shownStarted = true;
          x.started(id);
        }
        continue;
      }
      // Ended (or forgotten) without a summary: give the shared filesystem one more poll to show it.
      entry.endedPolls += 1;
      if (entry.endedPolls < 2) continue;
      waiting.delete(id);
      const began = fs.existsSync(entry.task.runDir);
      x.finished(entry.task, outcomeOf(state, entry.key), 0, began);
    }
    if (waiting.size > 0) await pause(pollMs, x.stop && !cancelled ? x.stop : undefined, x.kill);
  }
  return { jobs, finishJob: null, interrupted: cancelled || Boolean(x.kill?.aborted) };
}
