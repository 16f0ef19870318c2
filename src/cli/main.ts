/**
 * The `gradnoise` command line. Exit codes: 0 success, 2 bad input (nothing written), 1 runtime failure. Every error
 * ends as one line on stderr, never a stack trace (`GRADNOISE_DEBUG=1` adds the stack, for bugs in gradnoise itself).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { errorLine, exitCodeFor } from '../core/errors.js';
import { benchCommand } from './commands/bench.js';
import { envsCommand } from './commands/envs.js';
import { makeCriticalBatchCommand } from './commands/critical-batch.js';
import { reportCommand } from './commands/report.js';
import { makeReproduceCommand } from './commands/reproduce.js';
import { makeSweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('gradnoise')
    .usage('$0 <command> [options]\n\nMeasure the gradient noise scale of policy-gradient agents while they train.')
    .command(envsCommand)
    .command(trainCommand)
    .command(makeSweepCommand({ onDone: drawReport }))
    .command(makeCriticalBatchCommand({ onDone: drawReport }))
    .command(makeReproduceCommand({ onDone: drawReport }))
    .command(reportCommand)
    .command(benchCommand)
    .demandCommand(1, 'Name a command (see --help).')
    .recommendCommands()
    .strict()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((message, error) => {
      // yargs' own validation errors (YError, e.g. a flag missing its value) are usage errors like the rest.
      if (error && error.name !== 'YError') throw error;
      process.stderr.write(`gradnoise: ${message}\nRun 'gradnoise --help' for usage.\n`);
      exitCode = 2;
      throw new CliUsageError(message);
    });
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof CliUsageError) return 2;
    if (process.env.GRADNOISE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.stderr.write(`gradnoise: ${errorLine(error)}\n`);
    return exitCodeFor(error);
  }
  return exitCode || (typeof process.exitCode === 'number' ? process.exitCode : 0);
}

class CliUsageError extends Error {}

/** Sweeps, critical-batch runs and reproduce end with their plots and report.html (loaded on demand: the plotting stack is heavy). */
async function drawReport(dir: string): Promise<void> {
  const { writeReport } = await import('../report/report.js');
  const result = await writeReport(dir);
  process.stderr.write(`gradnoise: report written to ${result.html}\n`);
}

process.exitCode = await main(hideBin(process.argv));
