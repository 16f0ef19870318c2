/** `gradnoise reproduce [--preset quick|full|FILE] [--out DIR] [--workers N] [--executor local|slurm] [--detach] [slurm flags] [--quiet]` */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { Progress } from '../../run/progress.js';
import { checkReproduceDir, reproduceExitCode, runReproduce } from '../../experiments/reproduce.js';
import { loadPreset, resolvePresetFile, validateReproducePlan } from '../../experiments/reproduce-preset.js';
import { withBackend } from '../../experiments/sweep/plan.js';
import { executorFlags, resolveExecutor, withInterrupts, workersOption, type ExecutorArgs, type LongCommandHooks } from '../long-command.js';

interface ReproduceArgs extends ExecutorArgs {
  preset: string;
  out?: string;
  workers?: number;
  quiet: boolean;
}

export function makeReproduceCommand(hooks: LongCommandHooks = {}): CommandModule<object, ReproduceArgs> {
  return {
    command: 'reproduce',
    describe: "The paper's headline figures: noise growth over training, noise vs difficulty (and, with --preset full, B_crit vs B_simple); resumable",
    builder: (y: Argv) =>
      executorFlags(y)
        .option('preset', {
          type: 'string',
          default: 'quick',
          describe: 'quick (under 10 minutes on 2 cores), full (all env families, 3 seeds per level, critical batch sizes), or a preset file (see configs/reproduce/)',
        })
        .option('out', { type: 'string', describe: 'output folder (default results/reproduce-<preset>); rerun into it to resume' })
        .option('workers', { type: 'number', describe: 'parallel worker processes (default: available CPU cores)' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
        .example('$0 reproduce --preset quick', '')
        .example('$0 reproduce --preset full --workers 2 --out results/full', '')
        .example('$0 reproduce --preset full --executor slurm --partition gpu --gres gpu:1 --backend tensorflow --detach', '') as unknown as Argv<ReproduceArgs>,
    handler: async (args: ArgumentsCamelCase<ReproduceArgs>) => {
      const workers = workersOption(args.workers);
      // Everything is validated before the first run: a bad preset, sweep file or config exits 2 with nothing written.
      const preset = loadPreset(resolvePresetFile(args.preset));
      const plan = args.backend !== undefined ? { ...preset, parts: preset.parts.map((part) => ({ ...part, plan: withBackend(part.plan, args.backend!) })) } : preset;
      const executor = await resolveExecutor(args, plan.preset);
      await validateReproducePlan(plan);
      const out = args.out ?? path.join('results', `reproduce-${plan.preset.name}`);
      checkReproduceDir(plan, out);
      const result = await withInterrupts((signals) =>
        runReproduce(plan, {
          out,
          workers,
          executor,
          progress: Progress.modeFor(args.quiet),
          signal: signals.stop,
          killSignal: signals.kill,
          ...(hooks.onDone ? { onDone: hooks.onDone } : {}),
        }),
      );
      process.exitCode = reproduceExitCode(result);
    },
  };
}

export const reproduceCommand = makeReproduceCommand();
