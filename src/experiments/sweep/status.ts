/**
 * `gradnoise sweep status DIR`: the state of every run of a sweep folder, from the folder itself (summary.json,
 * metrics.csv rows, the sweep lock) and, for runs submitted to Slurm, from `squeue` (the task's state while the
 * controller remembers it). States: completed, failed, diverged, interrupted (from summary.json), running, pending
 * (queued, or never started), cancelled and timeout (Slurm stopped it), each with Slurm's own state where known.
 */
import path from 'node:path';
import { InvalidValueError } from '../../core/errors.js';
import { readCsvIfExists } from '../../run/csv.js';
import type { RunStatus, RunSummary } from '../../run/run-folder.js';
import { inFlight } from '../slurm/commands.js';
import { readSlurmRecord, taskStates, type TaskState } from '../slurm/jobs.js';
import { readManifest, readRunSummary, runDirOf } from './folder.js';
import { lockHolder } from './lock.js';

export type RunState = RunStatus | 'running' | 'pending' | 'cancelled' | 'timeout';

export interface RunStateRow {
  readonly id: string;
  readonly state: RunState;
  readonly slurm: TaskState | null;
  /** Rows in metrics.csv (updates logged so far), or null without one. */
  readonly updates: number | null;
  readonly error?: string;
}

export interface SweepStatus {
  readonly dir: string;
  readonly name: string;
  readonly kind: string;
  readonly runs: readonly RunStateRow[];
  readonly counts: Readonly<Partial<Record<RunState, number>>>;
  /** The Slurm jobs the folder has submitted (array and finish jobs), oldest first. */
  readonly jobs: readonly string[];
  /** Whether Slurm could be asked (null: the folder never used it). */
  readonly slurmQueried: boolean | null;
}

/** One run's state from what its folder and Slurm say. */
export function runState(summary: RunSummary | null, slurm: TaskState | null, hasRows: boolean, sweepAlive: boolean): RunState {
  const state = slurm?.state ?? null;
  if (summary) {
    if (summary.status === 'interrupted' && state === 'CANCELLED') return 'cancelled';
    if (summary.status === 'interrupted' && state === 'TIMEOUT') return 'timeout';
    return summary.status;
  }
  if (state !== null) {
    if (inFlight(state)) return state === 'PENDING' ? 'pending' : 'running';
    if (state === 'CANCELLED') return 'cancelled';
    if (state === 'TIMEOUT') return 'timeout';
    if (state !== 'COMPLETED') return 'failed';
  }
  if (hasRows) return sweepAlive ? 'running' : 'interrupted';
  return 'pending';
}

export async function sweepStatus(dir: string): Promise<SweepStatus> {
  const manifest = readManifest(dir);
  const record = readSlurmRecord(dir);
  let states = new Map<string, TaskState>();
  let slurmQueried: boolean | null = null;
  if (record.arrays.length > 0) {
    try {
      states = await taskStates(dir);
      slurmQueried = true;
    } catch (error) {
      // No Slurm commands here (the folder left the cluster): the folder alone speaks.
      if (!(error instanceof InvalidValueError)) throw error;
      slurmQueried = false;
    }
  }
  const sweepAlive = lockHolder(dir) !== null;
  const runs = manifest.runs.map((run): RunStateRow => {
    const runDir = runDirOf(dir, run.id);
    const summary = readRunSummary(runDir);
    const metrics = readCsvIfExists(path.join(runDir, 'metrics.csv'));
    const slurm = states.get(run.id) ?? null;
    const updates = metrics ? metrics.rows.length : null;
    const state = runState(summary, slurm, (updates ?? 0) > 0, sweepAlive);
    const error = summary?.error?.split('\n')[0];
    return { id: run.id, state, slurm, updates, ...(error !== undefined ? { error } : {}) };
  });
  const counts: Partial<Record<RunState, number>> = {};
  for (const run of runs) counts[run.state] = (counts[run.state] ?? 0) + 1;
  const jobs = [...record.arrays.map((a) => a.jobId), ...record.finish.map((f) => f.jobId)];
  return { dir, name: manifest.name, kind: manifest.kind, runs, counts, jobs, slurmQueried };
}

/** The status as a table. */
export function formatSweepStatus(status: SweepStatus): string {
  const order: RunState[] = ['completed', 'running', 'pending', 'failed', 'diverged', 'interrupted', 'cancelled', 'timeout'];
  const counts = order.filter((s) => status.counts[s]).map((s) => `${status.counts[s]} ${s}`).join(', ');
  const slurm = status.jobs.length > 0 ? `; Slurm jobs ${status.jobs.join(', ')}${status.slurmQueried === false ? ' (squeue not available here)' : ''}` : '';
  const lines = [`${status.kind} ${status.name} (${status.dir}): ${status.runs.length} runs: ${counts}${slurm}`];
  const width = Math.max(6, ...status.runs.map((r) => r.id.length));
  lines.push(`  ${'run id'.padEnd(width)}  ${'state'.padEnd(11)}  ${'slurm'.padEnd(24)}  updates  note`);
  for (const run of status.runs) {
    const slurmText = run.slurm ? `${run.slurm.task} ${run.slurm.state ?? '(forgotten)'}` : '-';
    lines.push(`  ${run.id.padEnd(width)}  ${run.state.padEnd(11)}  ${slurmText.padEnd(24)}  ${String(run.updates ?? '-').padStart(7)}  ${run.error ?? ''}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
