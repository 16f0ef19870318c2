/** `gradnoise train CONFIG [--set path=value ...] [--out DIR] [--seed N] [--backend B] [--quiet]`, `gradnoise train --resume DIR` */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig, parseConfig } from '../../config/load.js';
import { InvalidValueError } from '../../core/errors.js';
import { checkResumable } from '../../run/checkpoint.js';
import { Progress } from '../../run/progress.js';
import { defaultRunName } from '../../run/run-folder.js';
import type { RunStatus } from '../../run/run-folder.js';

interface TrainArgs {
  config?: string;
  resume?: string;
  set?: string[];
  out?: string;
  seed?: number;
  backend?: string;
  quiet: boolean;
}

/** Exit code per final status: interrupted runs exit like a shell's Ctrl-C (130). */
export const EXIT_FOR_STATUS: Record<RunStatus, number> = { completed: 0, interrupted: 130, diverged: 1, failed: 1 };

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train [config]',
  describe: 'Train one agent from a JSON config, measuring gradient noise as it goes',
  builder: (y: Argv) =>
    y
      .positional('config', { type: 'string', describe: 'path to a config JSON (see configs/)' })
      .option('resume', { type: 'string', requiresArg: true, describe: 'continue the killed or interrupted run in this folder from its last checkpoint' })
      .option('set', { type: 'string', array: true, requiresArg: true, describe: 'override a config path, e.g. --set agent.lr=1e-3 (repeatable)' })
      .option('out', { type: 'string', describe: 'run folder (default results/ENV__ALGO__SEED__TIME)' })
      .option('seed', { type: 'number', describe: 'shorthand for --set run.seed=N' })
      .option('backend', { type: 'string', choices: ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'], describe: 'tfjs backend (default auto)' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
      .example('$0 train configs/cartpole-ppo.json --set run.totalSteps=50000 --seed 3', '')
      .example('$0 train --resume results/CartPole-v1__ppo__3__20250101T000000Z', '') as unknown as Argv<TrainArgs>,
  handler: async (args: ArgumentsCamelCase<TrainArgs>) => {
    if (args.resume !== undefined) return resume(args as ArgumentsCamelCase<TrainArgs> & { resume: string });
    if (args.config === undefined) throw new InvalidValueError('config', '', 'train needs a CONFIG file (or --resume DIR)');
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

/** `gradnoise train --resume DIR`: the folder's own config.json, on the backend the run used. */
async function resume(args: ArgumentsCamelCase<TrainArgs> & { resume: string }): Promise<void> {
  const extra = [args.config !== undefined ? 'CONFIG' : '', args.set ? '--set' : '', args.seed !== undefined ? '--seed' : '', args.out !== undefined ? '--out' : ''].filter(Boolean);
  if (extra.length > 0) throw new InvalidValueError('--resume', args.resume, `takes the run's own config.json; drop ${extra.join(', ')}`);
  const runDir = args.resume;
  const folder = checkResumable(runDir);
  const config = parseConfig(folder.config);
  const used = folder.folderConfig.meta?.backend ?? config.run.backend;
  if (args.backend !== undefined && args.backend !== used && args.backend !== config.run.backend) {
    throw new InvalidValueError('--backend', args.backend, `the run in ${runDir} ran on ${used}; resume it on that backend (results differ between backends)`);
  }
  const { train } = await import('../../run/trainer.js');
  const summary = await train(config, {
    runDir,
    resume: true,
    backend: used,
    ...(folder.folderConfig.meta?.configDir !== undefined ? { configDir: folder.folderConfig.meta.configDir } : {}),
    progress: Progress.modeFor(args.quiet),
    handleSignals: true,
  });
  if (summary.status !== 'completed' && summary.error) process.stderr.write(`gradnoise: run ${summary.status}: ${summary.error}\n`);
  process.exitCode = EXIT_FOR_STATUS[summary.status];
}
