/**
 * `gradnoise critical-batch CONFIG --batch-sizes LIST [--targets LIST] [--scores LIST] [--score-ref R] [--seeds N]
 *  [--out DIR] [--workers N] [--scale envs|steps] [--lr-rule paper|fixed] [--lr-noise-scale B] [--lr-alpha A]
 *  [--lr-multipliers LIST] [--lr-extensions N] [--min-batch-span X] [--reach-episodes K] [--no-stop-at-target]
 *  [--component policy|value|total] [--set path=value ...] [--executor local|slurm] [--detach] [slurm flags] [--quiet]`
 */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig } from '../../config/load.js';
import {
  DEFAULT_LR_EXTENSIONS,
  DEFAULT_LR_MULTIPLIERS,
  DEFAULT_MIN_BATCH_SPAN,
  defaultTargets,
  DEFAULT_SCORES,
  DEFAULT_TARGETS,
  parseNumberList,
  parseScores,
  parseTargets,
  planCriticalBatch,
  reachEpisodesOf,
  targetStop,
  type BatchScale,
  type CriticalBatchRequest,
  type CriticalBatchResult,
  type LrRule,
} from '../../experiments/critical-batch.js';
import { planBaseline, scaleOf } from '../../experiments/critical-batch-baseline.js';
import { runCriticalBatch } from '../../experiments/critical-batch-run.js';
import { POST_UPDATE_EPISODES, REACH_Z } from '../../analysis/score.js';
import type { TargetSpec } from '../../analysis/critical-batch-fit.js';
import { InvalidValueError } from '../../core/errors.js';
import type { NoiseComponent } from '../../core/components.js';
import { Progress } from '../../run/progress.js';
import { checkOutDir } from '../../experiments/sweep/folder.js';
import { validatePlan } from '../../experiments/sweep/plan.js';
import { executorFlags, resolveExecutor, withInterrupts, workersOption, type ExecutorArgs, type LongCommandHooks } from '../long-command.js';

interface CriticalBatchArgs extends ExecutorArgs {
  config: string;
  batchSizes: string;
  targets?: string;
  scores?: string;
  scoreRef?: number;
  seeds: number;
  out?: string;
  workers?: number;
  scale: BatchScale;
  lrRule: LrRule;
  lrNoiseScale?: number;
  lrAlpha?: number;
  lrMultipliers: string;
  lrExtensions: number;
  minBatchSpan: number;
  reachEpisodes: string;
  stopAtTarget: boolean;
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
        .option('targets', {
          type: 'string',
          describe: `targets: absolute returns (200), % of the reached return range (50%) or normalised scores (s=0.8); default s=${DEFAULT_SCORES.replace(',', ',s=')} where the task has a reference return R_ref, else ${DEFAULT_TARGETS}`,
        })
        .option('scores', { type: 'string', describe: 'normalised-score targets s = (R − R_random)/(R_ref − R_random), e.g. 0.5,0.8 (added to --targets)' })
        .option('score-ref', { type: 'number', describe: "R_ref for the scores, fixed before the runs (default: the task's known optimum or stated value; see docs/science.md)" })
        .option('seeds', { type: 'number', default: 3, describe: 'seeds per batch size (seeds 1..N)' })
        .option('out', { type: 'string', describe: 'output folder (default results/critical-batch-ENV-ALGO); rerun into it to resume' })
        .option('workers', { type: 'number', describe: 'parallel worker processes (default: available CPU cores)' })
        .option('scale', { type: 'string', choices: ['envs', 'steps'], default: 'envs', describe: 'reach B by scaling numEnvs (keep numSteps) or numSteps (keep numEnvs)' })
        .option('lr-rule', { type: 'string', choices: ['paper', 'fixed'], default: 'paper', describe: 'lr per batch size: paper = ε₀·((1+B_s/B₀)/(1+B_s/B))^α, fixed = config lr' })
        .option('lr-noise-scale', { type: 'number', describe: "B_s of the paper rule (default: the config's batch size B₀)" })
        .option('lr-alpha', { type: 'number', describe: 'α of the paper rule (default 1 for sgd/momentum, 0.5 for adam/rmsprop)' })
        .option('lr-multipliers', { type: 'string', default: DEFAULT_LR_MULTIPLIERS.join(','), describe: 'lr grid: multipliers of the rule lr tried per batch size (best per target kept)' })
        .option('lr-extensions', { type: 'number', default: DEFAULT_LR_EXTENSIONS, describe: 'times a batch size\'s grid may be extended per side when the best lr sits at its edge (0: only flag it)' })
        .option('min-batch-span', { type: 'number', default: DEFAULT_MIN_BATCH_SPAN, describe: 'smallest allowed largest/smallest batch size ratio' })
        .option('reach-episodes', {
          type: 'string',
          default: 'auto',
          describe: `episodes completed after an update that its return estimate averages; auto: enough that random play sits ${REACH_Z} standard errors below the lowest target (at least ${POST_UPDATE_EPISODES})`,
        })
        .option('stop-at-target', {
          type: 'boolean',
          default: true,
          describe: 'end each run once its post-update return reaches the highest target (fixed returns and scores only); --no-stop-at-target runs every budget out',
        })
        .option('component', { type: 'string', choices: ['policy', 'value', 'total'], default: 'policy', describe: 'gradient whose B_simple fills the b_simple columns (all three are reported too)' })
        .option('set', { type: 'string', array: true, requiresArg: true, describe: 'override a config path, e.g. --set run.totalSteps=200000 (repeatable)' })
        .option('quiet', { type: 'boolean', default: false, describe: 'no progress output' })
        .example('$0 critical-batch configs/cartpole-ppo.json --batch-sizes 64,128,256,512,1024 --seeds 3', '') as unknown as Argv<CriticalBatchArgs>,
    handler: async (args: ArgumentsCamelCase<CriticalBatchArgs>) => {
      const workers = workersOption(args.workers);
      const executor = await resolveExecutor(args);
      const config = loadConfig(args.config, { ...(args.set ? { set: args.set } : {}), ...(args.backend !== undefined ? { backend: args.backend } : {}) });
      const batchSizes = parseNumberList(args.batchSizes, '--batch-sizes', { integer: true, positive: true });
      const explicit: TargetSpec[] = [
        ...(args.targets !== undefined ? parseTargets(args.targets) : []),
        ...(args.scores !== undefined ? parseScores(args.scores) : []),
      ];
      if (!Number.isInteger(args.seeds) || args.seeds < 1) throw new InvalidValueError('--seeds', args.seeds, 'expected a positive integer');
      const givenEpisodes = args.reachEpisodes === 'auto' ? null : Number(args.reachEpisodes);
      if (givenEpisodes !== null && !(Number.isInteger(givenEpisodes) && givenEpisodes >= 1)) {
        throw new InvalidValueError('--reach-episodes', args.reachEpisodes, "expected a positive integer or 'auto'");
      }
      if (args.scoreRef !== undefined && !Number.isFinite(args.scoreRef)) throw new InvalidValueError('--score-ref', args.scoreRef, 'expected a number');
      let request: CriticalBatchRequest = {
        config,
        configDir: path.dirname(path.resolve(args.config)),
        batchSizes,
        seeds: Array.from({ length: args.seeds }, (_, i) => i + 1),
        scale: args.scale,
        lrRule: args.lrRule,
        ...(args.lrNoiseScale !== undefined ? { lrNoiseScale: args.lrNoiseScale } : {}),
        ...(args.lrAlpha !== undefined ? { lrAlpha: args.lrAlpha } : {}),
        lrMultipliers: parseNumberList(args.lrMultipliers, '--lr-multipliers', { positive: true }),
        lrExtensions: args.lrExtensions,
        minBatchSpan: args.minBatchSpan,
      };
      // Validating loads an env module (env.module) too, which the baseline below needs.
      const initial = planCriticalBatch(request);
      await validatePlan(initial);
      const out = args.out ?? path.join('results', initial.name);
      // R_random and R_ref are fixed before any run (written by runCriticalBatch); the default targets depend on
      // whether the task has an R_ref, and the stopping return on both.
      const baseline = planBaseline(out, config, args.scoreRef);
      const targets = explicit.length > 0 ? explicit : defaultTargets(baseline);
      if (targets.some((t) => t.kind === 'score') && !baseline.reference) {
        throw new InvalidValueError('--scores', targets.filter((t) => t.kind === 'score').map((t) => t.label).join(','), `${config.env.id} has no reference return R_ref; give one with --score-ref`);
      }
      const reachEpisodes = givenEpisodes ?? reachEpisodesOf(targets, baseline);
      const stopAt = args.stopAtTarget ? targetStop(targets, scaleOf(baseline)) : null;
      request = { ...request, reachEpisodes, ...(stopAt !== null ? { stop: { return: stopAt, episodes: reachEpisodes } } : {}) };
      // The same plan with the stopping return and K in every run's config (schema-checked as it is built).
      const plan = planCriticalBatch(request);
      checkOutDir(plan, out);
      const targetArg = targets.map((t) => t.label).join(',');
      const progress = Progress.modeFor(args.quiet);
      const run = await withInterrupts((signals) =>
        runCriticalBatch({
          request,
          scoreRef: args.scoreRef,
          analysis: { targets, component: args.component, reachEpisodes },
          sweep: {
            out,
            workers,
            executor,
            // Detached, the finish job analyses with the same targets and component.
            finishJob: { args: ['--targets', targetArg, '--component', args.component] },
            progress,
            signal: signals.stop,
            killSignal: signals.kill,
          },
          ...(args.quiet ? {} : { say: (line: string) => process.stderr.write(`${line}\n`) }),
        }),
      );
      if (run.sweep.detached) return;
      if (run.analysis && !args.quiet) process.stderr.write(formatCriticalBatch(run.analysis, out));
      await hooks.onDone?.(out);
      // A run that diverged is data here (that learning rate does not suit that batch size), not a failure.
      process.exitCode = run.sweep.interrupted ? 130 : run.sweep.records.some((r) => r.status === 'failed') ? 1 : 0;
    },
  };
}

/** A short table of the fitted figures. */
export function formatCriticalBatch(result: CriticalBatchResult, dir: string): string {
  const fmt = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : x === Infinity ? '∞' : '-');
  const scale = result.scale ? `, R_random ${fmt(result.scale.random)}, R_ref ${fmt(result.scale.reference)}` : '';
  const lines = [`critical batch (${result.component} gradient; ${result.returnEstimate} returns), return range ${fmt(result.returnRange.min)}..${fmt(result.returnRange.max)}${scale}:`];
  for (const t of result.targets) {
    const head = `  target ${t.spec.label} (return ${fmt(t.target)}${Number.isFinite(t.score) ? `, s ${t.score.toFixed(2)}` : ''}):`;
    if (t.excluded) lines.push(`${head} not fitted — ${t.reason}`);
    else {
      lines.push(
        `${head} B_crit ${fmt(t.bCrit.estimate)} [${fmt(t.bCrit.lo)}, ${fmt(t.bCrit.hi)}], S_min ${fmt(t.sMin.estimate)}, E_min ${fmt(t.eMin.estimate)}, ` +
          `B_simple ${fmt(t.bSimple.estimate)} [${fmt(t.bSimple.lo)}, ${fmt(t.bSimple.hi)}], B_simple(w) ${fmt(t.bSimpleW.estimate)}, B_noise ${fmt(t.bNoise.estimate)}, B_noise(w) ${fmt(t.bNoiseW.estimate)} ` +
          `(${t.points.length} batch sizes${t.regime !== 'fit' ? `, ${t.regime}` : ''}${t.edges.length > 0 ? `; lr at grid edge: ${t.edges.map((e) => `${e.batchSize} ${e.edge}`).join(', ')}` : ''})`,
      );
    }
  }
  if (result.runsLeftOut.length > 0) lines.push(`  ${result.runsLeftOut.length} runs left out (not completed or diverged)`);
  lines.push(`  written: ${path.join(dir, 'critical-batch.csv')}, critical-batch.json`);
  return `${lines.join('\n')}\n`;
}

export const criticalBatchCommand = makeCriticalBatchCommand();
