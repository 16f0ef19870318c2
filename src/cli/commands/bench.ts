/** `gradnoise bench envs|train|monitor|all [--json]`: throughput figures; with --json the last line is one JSON object. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runEnvBench } from '../../bench/envs.js';
import { machineInfo } from '../../bench/machine.js';

type BenchTarget = 'envs' | 'train' | 'monitor' | 'all';

interface BenchArgs {
  what: BenchTarget;
  json: boolean;
  seconds: number;
}

function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

function benchEnvs(seconds: number, log: (line: string) => void) {
  const result = runEnvBench({ seconds });
  log('env                        impl            numEnvs   steps/s');
  for (const r of result.rows) log(`${r.env.padEnd(26)} ${r.implementation.padEnd(15)} ${String(r.numEnvs).padStart(7)}   ${formatRate(r.stepsPerSec)}`);
  log(`CartPole-v1 at ${result.largestNumEnvs} envs: ${formatRate(result.cartPoleAtLargest)} steps/s, ${result.cartPoleSpeedup.toFixed(1)}x the naive baseline`);
  return result;
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <what>',
  describe: 'Throughput benchmarks (envs, train, monitor, or all)',
  builder: (y: Argv) =>
    y
      .positional('what', { choices: ['envs', 'train', 'monitor', 'all'] as const, demandOption: true })
      .option('json', { type: 'boolean', default: false, describe: 'end with one JSON line holding every figure' })
      .option('seconds', { type: 'number', default: 0.5, describe: 'measuring time per env case' })
      .example('$0 bench envs --json', '') as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    const report: Record<string, unknown> = { machine: machineInfo(), date: new Date().toISOString() };
    if (args.what === 'envs' || args.what === 'all') report.envs = benchEnvs(args.seconds, log);
    if (args.json) log(JSON.stringify(report));
  },
};
