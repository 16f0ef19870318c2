/**
 * The Slurm client commands gradnoise uses, as functions: `sbatch` (submit a job script), `squeue` (per-task state
 * of jobs the controller still knows: pending, running, and for MinJobAge after the end their end state) and
 * `scancel`. They find the cluster the usual way (slurm.conf, or SLURM_CONF in the environment). A command that is
 * missing, or fails, is a runtime error naming the command and its message.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GradnoiseError, InvalidValueError } from '../../core/errors.js';

const exec = promisify(execFile);

/** Slurm's job states (squeue %T), the ones a sweep tells apart. */
export type SlurmState =
  | 'PENDING'
  | 'RUNNING'
  | 'COMPLETING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELLED'
  | 'TIMEOUT'
  | 'NODE_FAIL'
  | 'OUT_OF_MEMORY'
  | 'PREEMPTED'
  | 'BOOT_FAIL'
  | 'DEADLINE'
  | string;

/** States in which a task may still write to its run folder. */
export function inFlight(state: SlurmState): boolean {
  return ['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING', 'SIGNALING', 'STAGE_OUT'].includes(state);
}

async function slurm(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  try {
    const { stdout } = await exec(command, [...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...(options.cwd ? { cwd: options.cwd } : {}) });
    return stdout;
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new InvalidValueError('--executor', 'slurm', `'${command}' is not on PATH: run this where the Slurm client commands are installed (a login node), or use --executor local`);
    }
    const message = (e.stderr ?? '').trim().split('\n').slice(-3).join(' ') || e.message;
    throw new GradnoiseError('runtime', `${command} ${args.join(' ')}: ${message}`);
  }
}

/** Whether sbatch is on PATH (says nothing about a controller answering). */
export async function haveSlurm(): Promise<boolean> {
  try {
    await exec('sbatch', ['--version'], { encoding: 'utf8' });
    return true;
  } catch {
    return false;
  }
}

/** Submit a job script; returns the job id. */
export async function sbatch(script: string, args: readonly string[] = [], cwd?: string): Promise<string> {
  const out = await slurm('sbatch', ['--parsable', ...args, script], cwd ? { cwd } : {});
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new GradnoiseError('runtime', `sbatch ${script}: unexpected answer '${out.trim()}'`);
  return id;
}

/**
 * The state of every task of `jobs` the controller knows, keyed `JOB_TASK` for array tasks (pending ones expanded)
 * and `JOB` otherwise. Jobs it has forgotten are simply absent.
 */
export async function squeue(jobs: readonly string[]): Promise<Map<string, SlurmState>> {
  const states = new Map<string, SlurmState>();
  if (jobs.length === 0) return states;
  let out: string;
  try {
    out = await slurm('squeue', ['--noheader', '--array', '--states=all', `--jobs=${jobs.join(',')}`, '--format=%i %T']);
  } catch (error) {
    // One forgotten job id makes squeue refuse the whole list: ask job by job.
    if (jobs.length > 1 && /Invalid job id/i.test((error as Error).message)) {
      for (const job of jobs) for (const [key, state] of await squeue([job])) states.set(key, state);
      return states;
    }
    if (/Invalid job id/i.test((error as Error).message)) return states;
    throw error;
  }
  for (const line of out.split('\n')) {
    const [key, state] = line.trim().split(/\s+/);
    if (key && state) states.set(key, state);
  }
  return states;
}

/** The cluster's MaxArraySize (array indices must stay below it); 1001, Slurm's default, when it cannot be read. */
export async function maxArraySize(): Promise<number> {
  try {
    const match = /MaxArraySize\s*=\s*(\d+)/.exec(await slurm('scontrol', ['show', 'config']));
    return match ? Number(match[1]) : 1001;
  } catch {
    return 1001;
  }
}

/**
 * The state of array task `JOB_INDEX` in an squeue answer. Tasks that never left the queue are not listed one by
 * one once the array ends (cancelled while pending): the array's own record (`JOB`) then speaks for them.
 */
export function taskState(states: ReadonlyMap<string, SlurmState>, task: string): SlurmState | null {
  return states.get(task) ?? states.get(task.split('_')[0]!) ?? null;
}

/** Cancel jobs (or `JOB_TASK` array tasks); running tasks get SIGTERM, then SIGKILL after the cluster's KillWait. */
export async function scancel(jobs: readonly string[]): Promise<void> {
  if (jobs.length > 0) await slurm('scancel', [...jobs]);
}
