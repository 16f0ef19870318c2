/**
 * What a sweep folder remembers of its Slurm jobs: `slurm/jobs.json`, one entry per submitted array job (its id, job
 * script, and the run id each array task runs) and per dependent finish job. From it and `squeue`, every run's latest
 * task and its Slurm state are known, so a re-run can tell runs still queued or running (left alone) from those to
 * resubmit, and `sweep status` can show Slurm's view next to the folder's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../../run/run-folder.js';
import { inFlight, squeue, taskState, type SlurmState } from './commands.js';

export const SLURM_FOLDER = 'slurm';
const JOBS_FILE = 'jobs.json';

export interface ArrayJobRecord {
  readonly jobId: string;
  /** The job script, relative to the sweep folder. */
  readonly script: string;
  /** Task i runs `runs[i·k .. i·k + k − 1]`, k = runsPerTask (1 when absent). */
  readonly runs: readonly string[];
  readonly runsPerTask?: number;
  readonly submittedAt: string;
}

export interface FinishJobRecord {
  readonly jobId: string;
  readonly script: string;
  /** The jobs it waits for (afterany). */
  readonly after: readonly string[];
  readonly submittedAt: string;
}

export interface SlurmRecord {
  readonly arrays: ArrayJobRecord[];
  readonly finish: FinishJobRecord[];
}

export function slurmDir(out: string): string {
  return path.join(out, SLURM_FOLDER);
}

export function readSlurmRecord(out: string): SlurmRecord {
  const file = path.join(slurmDir(out), JOBS_FILE);
  if (!fs.existsSync(file)) return { arrays: [], finish: [] };
  const record = readJson<Partial<SlurmRecord>>(file);
  return { arrays: record.arrays ?? [], finish: record.finish ?? [] };
}

export function writeSlurmRecord(out: string, record: SlurmRecord): void {
  fs.mkdirSync(slurmDir(out), { recursive: true });
  writeJsonAtomic(path.join(slurmDir(out), JOBS_FILE), record);
}

/** Run id → the array task (`JOB_INDEX`) that last ran or will run it. */
export function latestTasks(record: SlurmRecord): Map<string, string> {
  const tasks = new Map<string, string>();
  for (const job of record.arrays) job.runs.forEach((id, i) => tasks.set(id, `${job.jobId}_${Math.floor(i / (job.runsPerTask ?? 1))}`));
  return tasks;
}

export interface TaskState {
  /** `JOB_INDEX`. */
  readonly task: string;
  /** Slurm's state, or null once the controller has forgotten the task. */
  readonly state: SlurmState | null;
}

/** Every run's latest task and its Slurm state (an empty map for a folder that never used Slurm). */
export async function taskStates(out: string): Promise<Map<string, TaskState>> {
  const tasks = latestTasks(readSlurmRecord(out));
  const result = new Map<string, TaskState>();
  if (tasks.size === 0) return result;
  const jobs = [...new Set([...tasks.values()].map((t) => t.split('_')[0]!))];
  const states = await squeue(jobs);
  for (const [id, task] of tasks) result.set(id, { task, state: taskState(states, task) });
  return result;
}

/** Runs whose latest task is queued or running (so nobody else may clear or rerun them). */
export function runsInFlight(states: ReadonlyMap<string, TaskState>): Map<string, string> {
  const running = new Map<string, string>();
  for (const [id, { task, state }] of states) if (state !== null && inFlight(state)) running.set(id, task);
  return running;
}
