/** `gradnoise train CONFIG [--set path=value ...] [--out DIR] [--seed N] [--backend B] [--quiet]` */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig } from '../../config/load.js';
import { Progress } from '../../run/progress.js';
import { defaultRunName } from '../../run/run-folder.js';
import type { RunStatus } from '../../run/run-folder.js';

interface TrainArgs {
  config: string;
  set?: string[];
  out?: string;
  seed?: number;
  backend?: string;
  quiet: boolean;
}

/** Exit code per final status: interrupted runs exit like a shell's Ctrl-C (130). */
export const EXIT_FOR_STATUS: Record<RunStatus, number> = { completed: 0, interrupted: 130, diverged: 1, failed: 1 };

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train <config>',
  describe: 'Train one agent from a JSON config, measuring gradient noise as it goes',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', demandOption: true, describe: 'path to a config JSON (see configs/)' })
      .option('set', { type: 'string', array: true, requiresArg: true, describe: 'override a config path, e.g. --set agent.lr=1e-3 (repeatable)' })
      .option('out', { type: 'string', describe: 'run folder (default results/ENV__ALGO__SEED__TIME)' })
      .option('seed', { type: 'number', describe: 'shorthand for --set run.seed=N' })
      .option('backend', { type: 'string', choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'], describe: 'tfjs backend (default auto)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
      .example('$0 train configs/cartpole-ppo.json --set run.totalSteps=50000 --seed 3', '') as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    const config = loadConfig(args.config, {
      ...(args.set ? { set: args.set } : {}),
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.backend !== undefined ? { backend: args.backend } : {}),
    });
    const runDir = args.out ?? path.join('results', config.run.name ?? defaultRunName(config.env.id, config.agent.algo, config.run.seed));
    // Loaded on demand: tfjs is heavy and `envs` or `--help` do not need it.
    const { train } = await import('../../run/trainer.js');
    const summary = await train(config, {
      runDir,
      configDir: path.dirname(path.resolve(args.config)),
      progress: Progress.modeFor(args.quiet),
      handleSignals: true,
    });
    if (summary.status !== 'completed' && summary.error) process.stderr.write(`gradnoise: run ${summary.status}: ${summary.error}\n`);
    process.exitCode = EXIT_FOR_STATUS[summary.status];
  },
};
