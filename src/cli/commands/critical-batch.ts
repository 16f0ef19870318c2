/**
 * `gradnoise critical-batch CONFIG --batch-sizes LIST [--targets LIST] [--seeds N] [--out DIR] [--workers N]
 *  [--scale envs|steps] [--lr-rule paper|fixed] [--lr-noise-scale B] [--lr-alpha A] [--lr-multipliers LIST]
 *  [--component policy|value|total] [--set path=value ...] [--executor local|slurm] [--detach] [slurm flags] [--quiet]`
 */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig } from '../../config/load.js';
import {
  analyzeCriticalBatch,
  DEFAULT_TARGETS,
  parseNumberList,
  parseTargets,
  planCriticalBatch,
  type BatchScale,
  type CriticalBatchResult,
  type LrRule,
} from '../../experiments/critical-batch.js';
import { InvalidValueError } from '../../core/errors.js';
import type { NoiseComponent } from '../../core/components.js';
import { Progress } from '../../run/progress.js';
import { checkOutDir } from '../../experiments/sweep/folder.js';
import { validatePlan } from '../../experiments/sweep/plan.js';
import { runSweep } from '../../experiments/sweep/run.js';
import { executorFlags, resolveExecutor, withInterrupts, workersOption, type ExecutorArgs, type LongCommandHooks } from '../long-command.js';

interface CriticalBatchArgs extends ExecutorArgs {
  config: string;
  batchSizes: string;
  targets: string;
  seeds: number;
  out?: string;
  workers?: number;
  scale: BatchScale;
  lrRule: LrRule;
  lrNoiseScale?: number;
  lrAlpha?: number;
  lrMultipliers: string;
  component: NoiseComponent;
  set?: string[];
  quiet: boolean;
}

export function makeCriticalBatchCommand(hooks: LongCommandHooks = {}): CommandModule<object, CriticalBatchArgs> {
  return {
    command: 'critical-batch <config>',
    describe: 'Measure the critical batch size: runs over batch sizes × seeds, fit S = S_min(1 + B_crit/B) per target',
    builder: (y: Argv) =>
      executorFlags(y)
        .positional('config', { type: 'string', demandOption: true, describe: 'path to a config JSON' })
        .option('batch-sizes', { type: 'string', demandOption: true, describe: 'comma-separated batch sizes B = numEnvs × numSteps, e.g. 64,128,256,512' })
        .option('targets', { type: 'string', default: DEFAULT_TARGETS, describe: 'returns to reach: absolute (200) or % of the reached return range (50%)' })
        .option('seeds', { type: 'number', default: 3, describe: 'seeds per batch size (seeds 1..N)' })
        .option('out', { type: 'string', describe: 'output folder (default results/critical-batch-ENV-ALGO); rerun into it to resume' })
        .option('workers', { type: 'number', describe: 'parallel worker processes (default: available CPU cores)' })
        .option('scale', { type: 'string', choices: ['envs', 'steps'], default: 'envs', describe: 'reach B by scaling numEnvs (keep numSteps) or numSteps (keep numEnvs)' })
        .option('lr-rule', { type: 'string', choices: ['paper', 'fixed'], default: 'paper', describe: 'lr per batch size: paper = ε₀·((1+B_s/B₀)/(1+B_s/B))^α, fixed = config lr' })
        .option('lr-noise-scale', { type: 'number', describe: "B_s of the paper rule (default: the config's batch size B₀)" })
        .option('lr-alpha', { type: 'number', describe: 'α of the paper rule (default 1 for sgd/momentum, 0.5 for adam/rmsprop)' })
        .option('lr-multipliers', { type: 'string', default: '1', describe: 'lr multipliers tried per batch size (best per target kept), e.g. 0.5,1,2' })
        .option('component', { type: 'string', choices: ['policy', 'value', 'total'], default: 'policy', describe: 'gradient whose B_simple fills the b_simple columns (all three are reported too)' })
        .option('set', { type: 'string', array: true, requiresArg: true, describe: 'override a config path, e.g. --set run.totalSteps=200000 (repeatable)' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
        .example('$0 critical-batch configs/cartpole-ppo.json --batch-sizes 64,128,256,512,1024 --seeds 3', '') as unknown as Argv<CriticalBatchArgs>,
    handler: async (args: ArgumentsCamelCase<CriticalBatchArgs>) => {
      const workers = workersOption(args.workers);
      const executor = await resolveExecutor(args);
      const config = loadConfig(args.config, { ...(args.set ? { set: args.set } : {}), ...(args.backend !== undefined ? { backend: args.backend } : {}) });
      const batchSizes = parseNumberList(args.batchSizes, '--batch-sizes', { integer: true, positive: true });
      const targets = parseTargets(args.targets);
      if (!Number.isInteger(args.seeds) || args.seeds < 1) throw new InvalidValueError('--seeds', args.seeds, 'expected a positive integer');
      const plan = planCriticalBatch({
        config,
        configDir: path.dirname(path.resolve(args.config)),
        batchSizes,
        seeds: Array.from({ length: args.seeds }, (_, i) => i + 1),
        scale: args.scale,
        lrRule: args.lrRule,
        ...(args.lrNoiseScale !== undefined ? { lrNoiseScale: args.lrNoiseScale } : {}),
        ...(args.lrAlpha !== undefined ? { lrAlpha: args.lrAlpha } : {}),
        lrMultipliers: parseNumberList(args.lrMultipliers, '--lr-multipliers', { positive: true }),
      });
      await validatePlan(plan);
      const out = args.out ?? path.join('results', plan.name);
      checkOutDir(plan, out);
      const result = await withInterrupts((signals) =>
        runSweep(plan, {
          out,
          workers,
          executor,
          // Detached, the finish job analyses with the same targets and component.
          finishJob: { args: ['--targets', args.targets, '--component', args.component] },
          progress: Progress.modeFor(args.quiet),
          signal: signals.stop,
          killSignal: signals.kill,
        }),
      );
      if (result.detached) return;
      const analysis = analyzeCriticalBatch(out, { targets, component: args.component });
      if (!args.quiet) process.stderr.write(formatCriticalBatch(analysis, out));
      await hooks.onDone?.(out);
      // A run that diverged is data here (that learning rate does not suit that batch size), not a failure.
      process.exitCode = result.interrupted ? 130 : result.records.some((r) => r.status === 'failed') ? 1 : 0;
    },
  };
}

/** A short table of the fitted figures. */
export function formatCriticalBatch(result: CriticalBatchResult, dir: string): string {
  const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : x === Infinity ? '∞' : '-');
  const lines = [`critical batch (${result.component} B_simple), return range ${fmt(result.returnRange.min)}..${fmt(result.returnRange.max)}:`];
  for (const t of result.targets) {
    const head = `  target ${t.spec.label} (return ${fmt(t.target)}):`;
    if (t.excluded) lines.push(`${head} not fitted — ${t.reason}`);
    else {
      lines.push(
        `${head} B_crit ${fmt(t.bCrit.estimate)} [${fmt(t.bCrit.lo)}, ${fmt(t.bCrit.hi)}], S_min ${fmt(t.sMin.estimate)}, E_min ${fmt(t.eMin.estimate)}, ` +
          `B_simple ${fmt(t.bSimple.estimate)} [${fmt(t.bSimple.lo)}, ${fmt(t.bSimple.hi)}] (${t.points.length} batch sizes${t.regime !== 'fit' ? `, ${t.regime}` : ''})`,
      );
    }
  }
  if (result.runsLeftOut.length > 0) lines.push(`  ${result.runsLeftOut.length} runs left out (not completed or diverged)`);
  lines.push(`  written: ${path.join(dir, 'critical-batch.csv')}, critical-batch.json`);
  return `${lines.join('\n')}\n`;
}

export const criticalBatchCommand = makeCriticalBatchCommand();
