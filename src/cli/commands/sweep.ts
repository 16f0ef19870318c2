/** `gradnoise sweep SWEEP [--workers N] [--out DIR] [--quiet]` */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { Progress } from '../../run/progress.js';
import { checkOutDir } from '../../experiments/sweep/folder.js';
import { loadSweepFile, validatePlan } from '../../experiments/sweep/plan.js';
import { runSweep, type SweepResult } from '../../experiments/sweep/run.js';
import { withInterrupts, workersOption, type LongCommandHooks } from '../long-command.js';

interface SweepArgs {
  sweep: string;
  workers?: number;
  out?: string;
  quiet: boolean;
}

/** Exit code for a finished sweep: 130 after Ctrl-C, 1 when a run failed or diverged, else 0. */
export function sweepExitCode(result: SweepResult): number {
  if (result.interrupted) return 130;
  return result.failed > 0 ? 1 : 0;
}

export function makeSweepCommand(hooks: LongCommandHooks = {}): CommandModule<object, SweepArgs> {
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
