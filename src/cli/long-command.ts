/**
 * What the long-running commands (sweep, critical-batch, reproduce) share: the `--workers` value, where runs execute
 * (`--executor local|slurm`, `--detach` and the Slurm flags, over a file's `executor`/`slurm` keys), the hook that
 * draws the report at the end, and Ctrl-C handling (first SIGINT/SIGTERM: stop gracefully, runs end `interrupted`
 * and results are written, Slurm jobs are cancelled; second: kill the workers, or stop waiting for Slurm).
 */
import os from 'node:os';
import type { Argv } from 'yargs';
import { InvalidValueError } from '../core/errors.js';
import { haveSlurm } from '../experiments/slurm/commands.js';
import { EXECUTORS, mergeSlurmOptions, type ExecutorChoice, type ExecutorName, type SlurmOptions } from '../experiments/slurm/options.js';

export interface LongCommandHooks {
  /** Called with the output folder once the aggregate files are written (e.g. to draw the report). */
  onDone?: (dir: string) => unknown;
}

export function workersOption(value: number | undefined): number {
  const workers = value ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new InvalidValueError('--workers', value, 'expected a positive integer');
  return workers;
}

export interface InterruptSignals {
  /** Aborted by the first Ctrl-C: stop gracefully. */
  readonly stop: AbortSignal;
  /** Aborted by the second: kill. */
  readonly kill: AbortSignal;
}

/** Install the Ctrl-C handlers; returns the signals and a function that removes the handlers. */
export function interruptHandlers(): InterruptSignals & { release: () => void } {
  const stop = new AbortController();
  const kill = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      process.stderr.write('\ngradnoise: stopping; running runs are saving their state (Ctrl-C again to kill them)\n');
      stop.abort();
    } else kill.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    kill: kill.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Run `task` with the Ctrl-C handlers installed, then remove them. */
export async function withInterrupts<T>(task: (signals: InterruptSignals) => Promise<T>): Promise<T> {
  const signals = interruptHandlers();
  try {
    return await task(signals);
  } finally {
    signals.release();
  }
}

export interface ExecutorArgs {
  backend?: string;
  executor?: string;
  detach?: boolean;
  partition?: string;
  account?: string;
  qos?: string;
  time?: string;
  cpusPerTask?: number;
  mem?: string;
  gres?: string;
  arrayThrottle?: number;
  runsPerTask?: number;
  sbatchArg?: string[];
  pollSeconds?: number;
}

/** The flags behind `ExecutorArgs`, for a command's builder. */
export function executorFlags<T>(y: Argv<T>): Argv<T> {
  return y
    .option('backend', { type: 'string', describe: 'tfjs backend of every run (auto, tensorflow, webgpu, wasm, cpu); overrides run.backend' })
    .option('executor', { type: 'string', choices: EXECUTORS, describe: 'where runs execute: local worker processes (default) or Slurm array jobs' })
    .option('detach', { type: 'boolean', describe: 'slurm: return once submitted; a dependent job writes the aggregates and the report' })
    .option('partition', { type: 'string', describe: 'slurm: sbatch --partition' })
    .option('account', { type: 'string', describe: 'slurm: sbatch --account' })
    .option('qos', { type: 'string', describe: 'slurm: sbatch --qos' })
    .option('time', { type: 'string', describe: 'slurm: time limit per run, e.g. 02:00:00' })
    .option('cpus-per-task', { type: 'number', describe: 'slurm: CPUs per run (default 1)' })
    .option('mem', { type: 'string', describe: 'slurm: memory per run, e.g. 4G' })
    .option('gres', { type: 'string', describe: 'slurm: generic resources per run, e.g. gpu:1 (with --backend tensorflow or webgpu)' })
    .option('array-throttle', { type: 'number', describe: 'slurm: runs at once at most (--array=0-N%K)' })
    .option('runs-per-task', { type: 'number', describe: 'slurm: runs one array task serves in one process (default 1)' })
    .option('sbatch-arg', { type: 'string', array: true, describe: 'slurm: a further sbatch argument (repeatable), e.g. --sbatch-arg=--constraint=a100' })
    .option('poll-seconds', { type: 'number', describe: 'slurm: how often a waiting client checks (default 5)' }) as unknown as Argv<T>;
}

/** The flag behind each Slurm option. */
const SLURM_FLAGS: Record<string, string> = {
  cpusPerTask: '--cpus-per-task',
  throttle: '--array-throttle',
  runsPerTask: '--runs-per-task',
  extraArgs: '--sbatch-arg',
  pollSeconds: '--poll-seconds',
};

/**
 * Where runs go: the flags over the file's `executor` and `slurm` keys (`fileWhere` names that file for errors).
 * Slurm flags without the Slurm executor, and a Slurm executor without `sbatch` on PATH, are input errors (exit 2).
 */
export async function resolveExecutor(args: ExecutorArgs, file: { executor?: ExecutorName; slurm?: SlurmOptions } = {}): Promise<ExecutorChoice> {
  const executor = (args.executor as ExecutorName | undefined) ?? file.executor ?? 'local';
  const flags: Record<string, unknown> = {
    partition: args.partition,
    account: args.account,
    qos: args.qos,
    time: args.time,
    cpusPerTask: args.cpusPerTask,
    mem: args.mem,
    gres: args.gres,
    throttle: args.arrayThrottle,
    runsPerTask: args.runsPerTask,
    extraArgs: args.sbatchArg,
    pollSeconds: args.pollSeconds,
  };
  const nameOf = (key: string) => SLURM_FLAGS[key] ?? `--${key}`;
  if (executor === 'local') {
    const given = Object.entries({ ...flags, detach: args.detach || undefined }).find(([, v]) => v !== undefined);
    if (given) throw new InvalidValueError(nameOf(given[0]), given[1], 'is a Slurm option; add --executor slurm');
    return { executor: 'local' };
  }
  const slurm = mergeSlurmOptions(file.slurm, flags, nameOf);
  if (!(await haveSlurm())) throw new InvalidValueError('--executor', 'slurm', "'sbatch' is not on PATH: run this where the Slurm client commands are installed (a login node), or use --executor local");
  return { executor: 'slurm', slurm, detach: args.detach ?? false };
}
