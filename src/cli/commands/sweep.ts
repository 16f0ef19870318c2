/** `gradnoise sweep SWEEP [--workers N] [--out DIR] [--quiet]` */
import os from 'node:os';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InvalidValueError } from '../../core/errors.js';
import { Progress } from '../../run/progress.js';
import { checkOutDir, loadSweepFile, runSweep, validatePlan, type SweepResult } from '../../experiments/sweep.js';

interface SweepArgs {
  sweep: string;
  workers?: number;
  out?: string;
  quiet: boolean;
}

export interface SweepHooks {
  /** Called with the output folder once the sweep's aggregate files are written (e.g. to draw the report). */
  onDone?: (dir: string) => unknown;
}

/** Exit code for a finished sweep: 130 after Ctrl-C, 1 when a run failed or diverged, else 0. */
export function sweepExitCode(result: SweepResult): number {
  if (result.interrupted) return 130;
  return result.failed > 0 ? 1 : 0;
}

export function workersOption(value: number | undefined): number {
  const workers = value ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new InvalidValueError('--workers', value, 'expected a positive integer');
  return workers;
}

/**
 * Ctrl-C handling for long commands: the first SIGINT/SIGTERM stops gracefully (runs end `interrupted`, results are
 * written), the second kills the workers. Returns the signals and a function that removes the handlers.
 */
export function interruptHandlers(): { stop: AbortSignal; kill: AbortSignal; release: () => void } {
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

/** Run `task` with the Ctrl-C handlers installed (first: stop gracefully; second: kill the workers), then remove them. */
export async function withInterrupts<T>(task: (signals: { stop: AbortSignal; kill: AbortSignal }) => Promise<T>): Promise<T> {
  const signals = interruptHandlers();
  try {
    return await task(signals);
  } finally {
    signals.release();
  }
}

export function makeSweepCommand(hooks: SweepHooks = {}): CommandModule<object, SweepArgs> {
  return {
    command: 'sweep <sweep>',
    describe: 'Run a grid of training runs (settings × seeds) in parallel worker processes; resumable',
    builder: (y: Argv) =>
      y
        .positional('sweep', { type: 'string', demandOption: true, describe: 'path to a sweep JSON (see configs/)' })
        .option('workers', { type: 'number', describe: 'parallel worker processes (default: available CPU cores)' })
        .option('out', { type: 'string', describe: 'output folder (default results/<sweep name>); rerun into it to resume' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
        .example('$0 sweep configs/sweeps/cartpole-difficulty.json --workers 4', '') as unknown as Argv<SweepArgs>,
    handler: async (args: ArgumentsCamelCase<SweepArgs>) => {
      const workers = workersOption(args.workers);
      const plan = loadSweepFile(args.sweep);
      await validatePlan(plan);
      const out = args.out ?? path.join('results', plan.name);
      checkOutDir(plan, out);
      const result = await withInterrupts((signals) =>
        runSweep(plan, {
          out,
          workers,
          progress: Progress.modeFor(args.quiet),
          signal: signals.stop,
          killSignal: signals.kill,
          ...(hooks.onDone ? { onDone: hooks.onDone } : {}),
        }),
      );
      process.exitCode = sweepExitCode(result);
    },
  };
}

export const sweepCommand = makeSweepCommand();
