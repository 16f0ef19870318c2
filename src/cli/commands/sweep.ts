/**
 * `gradnoise sweep SWEEP [--workers N] [--out DIR] [--executor local|slurm] [--detach] [slurm flags] [--quiet]` and
 * the commands for a sweep folder: `sweep status DIR` (per-run state, with Slurm's), `sweep run-one DIR --id ID`
 * (one run, in this process: what a Slurm array task runs) and `sweep finish DIR` (aggregates and report once runs
 * that ran elsewhere have ended: what a detached submission's dependent job runs).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InvalidValueError } from '../../core/errors.js';
import type { NoiseComponent } from '../../core/components.js';
import { Progress } from '../../run/progress.js';
import { parseTargets } from '../../experiments/critical-batch.js';
import { finishFolder } from '../../experiments/finish.js';
import { REPRODUCE_MANIFEST } from '../../experiments/reproduce.js';
import { checkOutDir, logFileOf } from '../../experiments/sweep/folder.js';
import { loadSweepFile, validatePlan, withBackend } from '../../experiments/sweep/plan.js';
import { runOneInFolder } from '../../experiments/sweep/run-one.js';
import { runSweep, type SweepResult } from '../../experiments/sweep/run.js';
import { formatSweepStatus, sweepStatus, type SweepStatus } from '../../experiments/sweep/status.js';
import { executorFlags, resolveExecutor, withInterrupts, workersOption, type ExecutorArgs, type LongCommandHooks } from '../long-command.js';
import { formatCriticalBatch } from './critical-batch.js';

interface SweepArgs extends ExecutorArgs {
  sweep: string;
  workers?: number;
  out?: string;
  quiet: boolean;
}

/**
 * Exit code for a finished sweep: 130 after Ctrl-C, 1 when a run failed or diverged or did not finish (cancelled in
 * Slurm by someone else), else 0 (also when detached).
 */
export function sweepExitCode(result: SweepResult): number {
  if (result.interrupted) return 130;
  return result.failed > 0 || result.unfinished > 0 ? 1 : 0;
}

function runCommand(hooks: LongCommandHooks): CommandModule<object, SweepArgs> {
  return {
    command: '$0 <sweep>',
    describe: 'Run a grid of training runs (settings × seeds) in parallel worker processes or as Slurm array jobs; resumable',
    builder: (y: Argv) =>
      executorFlags(
        y
          .positional('sweep', { type: 'string', demandOption: true, describe: 'path to a sweep JSON (see configs/)' })
          .option('workers', { type: 'number', describe: 'parallel worker processes (default: available CPU cores)' })
          .option('out', { type: 'string', describe: 'output folder (default results/<sweep name>); rerun into it to resume' })
          .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' }),
      )
        .example('$0 sweep configs/sweeps/cartpole-difficulty.json --workers 4', '')
        .example('$0 sweep configs/sweeps/cartpole-difficulty.json --executor slurm --partition cpu --time 01:00:00 --detach', '') as unknown as Argv<SweepArgs>,
    handler: async (args: ArgumentsCamelCase<SweepArgs>) => {
      const workers = workersOption(args.workers);
      const file = loadSweepFile(args.sweep);
      const plan = args.backend !== undefined ? withBackend(file, args.backend) : file;
      const executor = await resolveExecutor(args, plan);
      await validatePlan(plan);
      const out = args.out ?? path.join('results', plan.name);
      checkOutDir(plan, out);
      const result = await withInterrupts((signals) =>
        runSweep(plan, {
          out,
          workers,
          executor,
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

interface RunOneArgs {
  dir: string;
  id?: string[];
  index?: number;
  quiet: boolean;
}

const runOneCommand: CommandModule<object, RunOneArgs> = {
  command: 'run-one <dir>',
  describe: 'Run one run (or several, one after another) of a sweep folder in this process, as a Slurm array task does; completed runs are skipped',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'the sweep folder (holding sweep.json)' })
      .option('id', { type: 'string', array: true, describe: 'the run id, e.g. level=3,seed=2 (repeatable: served in turn)' })
      .option('index', { type: 'number', describe: "the run's position in sweep.json's run list (from 0)" })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' }) as unknown as Argv<RunOneArgs>,
  handler: async (args: ArgumentsCamelCase<RunOneArgs>) => {
    if ((args.id === undefined) === (args.index === undefined)) throw new InvalidValueError('--id', args.id ?? null, 'name the run with --id (repeatable) or --index, not both');
    if (args.index !== undefined && !(Number.isInteger(args.index) && args.index >= 0)) throw new InvalidValueError('--index', args.index, 'expected an integer ≥ 0');
    const requests: { id?: string; index?: number }[] = args.id !== undefined ? args.id.map((id) => ({ id })) : [{ index: args.index! }];
    const task = process.env.SLURM_ARRAY_JOB_ID ? ` in Slurm task ${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : '';
    let code = 0;
    for (const request of requests) {
      // Several runs share this process's output; each run's own log says where it went.
      if (requests.length > 1) fs.appendFileSync(logFileOf(args.dir, request.id!), `gradnoise: run ${request.id} served${task} (pid ${process.pid}) with ${requests.length - 1} others; its output is in that task's log\n`);
      const result = await runOneInFolder({ dir: args.dir, ...request, progress: args.quiet ? 'quiet' : 'plain' });
      if (!args.quiet) process.stderr.write(`gradnoise: run ${result.id} ${result.skipped ? 'was completed already; nothing to do' : result.status}${result.error ? `: ${result.error.split('\n')[0]}` : ''}\n`);
      if (result.status === 'interrupted') {
        // Stopped (scancel, a time limit): the runs after it are left for a re-run.
        code = 130;
        break;
      }
      if (result.status !== 'completed') code = 1;
    }
    process.exitCode = code;
  },
};

interface StatusArgs {
  dir: string;
  json: boolean;
}

const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status <dir>',
  describe: 'Per-run state of a sweep, critical-batch or reproduce folder (pending/running/completed/failed/cancelled), with Slurm’s where it knows',
  builder: (y: Argv) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'the output folder' })
      .option('json', { type: 'boolean', default: false, describe: 'one JSON object instead of the table' }) as unknown as Argv<StatusArgs>,
  handler: async (args: ArgumentsCamelCase<StatusArgs>) => {
    // A reproduce folder: every part's folder in turn.
    const reproduce = path.join(args.dir, REPRODUCE_MANIFEST);
    const dirs = fs.existsSync(reproduce)
      ? (JSON.parse(fs.readFileSync(reproduce, 'utf8')) as { parts: { dir: string }[] }).parts.map((p) => path.join(args.dir, p.dir)).filter((d) => fs.existsSync(d))
      : [args.dir];
    const statuses: SweepStatus[] = [];
    for (const dir of dirs) statuses.push(await sweepStatus(dir));
    if (args.json) process.stdout.write(`${JSON.stringify(statuses.length === 1 && dirs[0] === args.dir ? statuses[0] : statuses)}\n`);
    else for (const status of statuses) process.stdout.write(formatSweepStatus(status));
  },
};

interface FinishArgs {
  dir: string;
  targets?: string;
  component?: NoiseComponent;
  quiet: boolean;
}

function finishCommand(hooks: LongCommandHooks): CommandModule<object, FinishArgs> {
  return {
    command: 'finish <dir>',
    describe: 'Write the aggregates (and the critical-batch analysis, reproduce findings) and the report of a folder whose runs have ended',
    builder: (y: Argv) =>
      y
        .positional('dir', { type: 'string', demandOption: true, describe: 'a sweep, critical-batch or reproduce folder' })
        .option('targets', { type: 'string', describe: 'critical-batch folders: returns to reach (as in critical-batch)' })
        .option('component', { type: 'string', choices: ['policy', 'value', 'total'], describe: 'critical-batch folders: the gradient whose B_simple is compared' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no summary output' }) as unknown as Argv<FinishArgs>,
    handler: async (args: ArgumentsCamelCase<FinishArgs>) => {
      const result = await finishFolder(args.dir, {
        ...(args.targets !== undefined ? { targets: parseTargets(args.targets) } : {}),
        ...(args.component !== undefined ? { component: args.component } : {}),
        progress: Progress.modeFor(args.quiet),
        ...(hooks.onDone ? { onDone: hooks.onDone } : {}),
      });
      if (result.critical && !args.quiet) process.stderr.write(formatCriticalBatch(result.critical, args.dir));
      // The finish job did its work whatever became of the runs: `sweep status` tells those apart.
      if (!args.quiet) process.stderr.write(`gradnoise: ${result.kind} ${args.dir} finished: ${Object.entries(result.counts).map(([s, n]) => `${n} ${s}`).join(', ')}\n`);
    },
  };
}

export function makeSweepCommand(hooks: LongCommandHooks = {}): CommandModule {
  return {
    command: 'sweep',
    describe: 'Run a grid of training runs (settings × seeds) locally or on Slurm; sweep status|run-one|finish DIR for its folder',
    builder: (y: Argv) => y.command(runCommand(hooks)).command(statusCommand).command(runOneCommand).command(finishCommand(hooks)),
    handler: () => {},
  };
}

export const sweepCommand = makeSweepCommand();
