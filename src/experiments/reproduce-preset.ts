/**
 * Reproduce presets: the file format, loading, and every check made before anything is written.
 *
 * A preset is plain data, `configs/reproduce/<name>.json`, listing the parts to run; paths are relative to the file:
 *
 *     {
 *       "name": "full",                                        // default output folder: results/reproduce-<name>
 *       "description": "...",
 *       "sweeps": ["../sweeps/cartpole-difficulty.json", ...], // sweep files (see sweep/plan.ts)
 *       "criticalBatch": [                                     // critical-batch experiments (see critical-batch.ts)
 *         { "name": "critical-batch-cartpole-level0", "config": "../cartpole-ppo.json",
 *           "set": { "env.level": 0, "run.totalSteps": 100000 },
 *           "batchSizes": [128, 256, 512, 1024], "seeds": 2, "targets": ["50%"] }
 *       ],
 *       "executor": "slurm", "slurm": { "partition": "gpu", "gres": "gpu:1" }   // optional (slurm/options.ts)
 *     }
 *
 * Critical-batch entries take the `critical-batch` command's options as keys: `scale`, `lrRule`, `lrNoiseScale`,
 * `lrAlpha`, `lrMultipliers`, `lrExtensions`, `minBatchSpan`, `scoreRef`, `component`, `reachEpisodes`, `stopAtTarget`
 * (`--no-stop-at-target`), with the same defaults; targets
 * may be scores (`"s=0.8"`). Their lr grids are extended as the command extends them (critical-batch-run.ts).
 *
 * Everything is read, expanded and validated (preset schema, every sweep file and config, env ids, params and
 * levels) before anything is written, so bad input exits 2 and leaves nothing behind. A difficulty sweep whose levels
 * resolve to the same env params (a base config pinning the params the ladder sets) is refused too: its
 * noise-vs-difficulty figure would compare a task with itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RunConfig } from '../config/schema.js';
import type { TargetSpec } from '../analysis/critical-batch-fit.js';
import { ConfigError, InputError, InvalidValueError } from '../core/errors.js';
import type { NoiseComponent } from '../core/components.js';
import { packageRoot } from '../core/package-root.js';
import { getEnvSpec, resolveEnvParams } from '../run/registry.js';
import { parseTargets, planCriticalBatch, reachEpisodesOf, targetStop, type CriticalBatchRequest } from './critical-batch.js';
import { measureBaseline, scaleOf } from './critical-batch-baseline.js';
import { POST_UPDATE_EPISODES } from '../run/target-stop.js';
import { configPathSchema, displayPath as display, firstIssue, folderNameSchema, readJsonInput, seedList, seedsSchema } from './input.js';
import { executorSchema, slurmSchema } from './slurm/options.js';
import { canonicalJson } from './sweep/ids.js';
import { loadSweepFile, reasonOf, resolveRunConfig, validatePlan, type SweepPlan } from './sweep/plan.js';


export const criticalBatchEntrySchema = z.strictObject({
  name: folderNameSchema.describe('names the output folder DIR/<name>'),
  description: z.string().optional(),
  config: z.string().min(1).describe('config file, relative to the preset file'),
  set: z.record(configPathSchema, z.unknown()).default({}).describe('config overrides (path → value), e.g. env.level, run.totalSteps'),
  batchSizes: z.array(z.number().int().positive()).min(2).describe('batch sizes B = numEnvs × numSteps'),
  seeds: seedsSchema.default(3),
  targets: z
    .array(z.union([z.number(), z.string().min(1)]))
    .min(1)
    .default(['25%', '50%', '75%'])
    .describe('returns to reach: absolute (200) or % of the reached return range ("50%")'),
  scale: z.enum(['envs', 'steps']).default('envs'),
  lrRule: z.enum(['paper', 'fixed']).default('paper'),
  lrNoiseScale: z.number().positive().optional(),
  lrAlpha: z.number().min(0).optional(),
  lrMultipliers: z.array(z.number().positive()).min(1).default([0.5, 1, 2]).describe('lr grid: multipliers of the rule lr per batch size'),
  lrExtensions: z.number().int().min(0).default(2).describe('grid extensions per batch size and side when the best lr sits at an edge'),
  minBatchSpan: z.number().min(1).default(16).describe('smallest allowed largest/smallest batch size ratio'),
  scoreRef: z.number().optional().describe("R_ref of score targets (default: the task's, see docs/science.md)"),
  component: z.enum(['policy', 'value', 'total']).default('policy'),
  reachEpisodes: z
    .union([z.number().int().positive(), z.literal('auto')])
    .default('auto')
    .describe('episodes of the post-update return estimate; auto: random play 3 standard errors below the lowest target (at least 10)'),
  stopAtTarget: z.boolean().default(true).describe('end each run once its post-update return reaches the highest target (fixed returns and scores only)'),
});

export const presetSchema = z.strictObject({
  name: folderNameSchema.describe('preset name; the default output folder is results/reproduce-<name>'),
  description: z.string().optional(),
  sweeps: z.array(z.string().min(1)).default([]).describe('sweep files, relative to the preset file'),
  criticalBatch: z.array(criticalBatchEntrySchema).default([]).describe('critical-batch experiments'),
  executor: executorSchema.optional(),
  slurm: slurmSchema.optional().describe('Slurm options for every part (a sweep file\'s own slurm section is not used here)'),
});

export type PresetFile = z.infer<typeof presetSchema>;
export type CriticalBatchEntry = z.infer<typeof criticalBatchEntrySchema>;

/** The presets shipped in configs/reproduce/. */
export const BUILT_IN_PRESETS = ['quick', 'full'] as const;

/** One part of a preset, expanded and ready to run into `DIR/<name>/`. */
export interface ReproducePart {
  readonly kind: 'sweep' | 'critical-batch';
  readonly name: string;
  /** Where it is defined: the sweep file, or `<preset file>#criticalBatch.<i>`. */
  readonly source: string;
  readonly plan: SweepPlan;
  /** Critical-batch parts: the analysis settings. */
  readonly targets?: readonly TargetSpec[];
  readonly component?: NoiseComponent;
  /** Critical-batch parts: the request behind `plan` (its grid extensions plan from it) and the user's R_ref. */
  readonly request?: CriticalBatchRequest;
  readonly scoreRef?: number;
  /** Critical-batch parts: where a config path's value came from (`<preset>: criticalBatch.0.set.env.level`, else the config file). */
  readonly where?: (configPath: string) => string;
}

export interface ReproducePlan {
  readonly file: string;
  readonly preset: PresetFile;
  readonly parts: readonly ReproducePart[];
}

/** `quick` / `full` (any name in configs/reproduce/) → that file; anything that looks like a path → the path. */
export function resolvePresetFile(preset: string): string {
  const folder = path.join(packageRoot(), 'configs', 'reproduce');
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(preset)) {
    const file = path.join(folder, `${preset}.json`);
    if (fs.existsSync(file)) return file;
    const known = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [...BUILT_IN_PRESETS];
    throw new InvalidValueError('--preset', preset, `expected a preset name (${known.join(', ')}) or a preset file path`);
  }
  if (!fs.existsSync(preset)) throw new InvalidValueError('--preset', preset, 'no such preset file');
  return path.resolve(preset);
}

function parsePreset(raw: unknown, file: string): PresetFile {
  const result = presetSchema.safeParse(raw);
  if (!result.success) {
    const { at, value, message } = firstIssue(result.error, raw);
    throw new ConfigError(`${display(file)}: ${at.join('.') || '(preset)'}`, value, message);
  }
  const preset = result.data;
  if (preset.sweeps.length + preset.criticalBatch.length === 0) {
    throw new ConfigError(`${display(file)}: sweeps`, preset.sweeps, 'a preset lists at least one sweep or critical-batch experiment');
  }
  return preset;
}

/** Read a preset file and expand every part (sweep files, configs), validating everything that needs no registry. */
export function loadPreset(file: string): ReproducePlan {
  const raw = readJsonInput(file, '--preset');
  const preset = parsePreset(raw, file);
  const presetDir = path.dirname(path.resolve(file));
  const parts: ReproducePart[] = [];

  preset.sweeps.forEach((entry, i) => {
    const sweepFile = path.resolve(presetDir, entry);
    if (!fs.existsSync(sweepFile)) throw new ConfigError(`${display(file)}: sweeps.${i}`, entry, `no such sweep file (${display(sweepFile)})`);
    let plan: SweepPlan;
    try {
      plan = loadSweepFile(sweepFile);
    } catch (error) {
      throw withFile(error, sweepFile);
    }
    parts.push({ kind: 'sweep', name: plan.name, source: sweepFile, plan });
  });

  preset.criticalBatch.forEach((entry, i) => {
    const where = `${display(file)}: criticalBatch.${i}`;
    const configFile = path.resolve(presetDir, entry.config);
    const base = readJsonInput(configFile, `${where}.config`);
    if (base === null || typeof base !== 'object' || Array.isArray(base)) throw new ConfigError(`${where}.config`, entry.config, 'expected a JSON object');
    const origin = Object.fromEntries(Object.keys(entry.set).map((k) => [k, `${where}.set.${k}`]));
    if ('run.seed' in entry.set) throw new ConfigError(`${where}.set.run.seed`, entry.set['run.seed'], "set seeds with the entry's 'seeds'");
    let config: RunConfig;
    try {
      // The seed is set per run by the plan.
      config = resolveRunConfig(base as Record<string, unknown>, entry.set, 1, entry.name, origin);
    } catch (error) {
      if (error instanceof InputError && error.path.startsWith('base.')) {
        throw new ConfigError(`${display(configFile)}: ${error.path.slice('base.'.length)}`, error.value, reasonOf(error));
      }
      throw error;
    }
    const seeds = seedList(entry.seeds);
    let plan: SweepPlan;
    let targets: TargetSpec[];
    let request: CriticalBatchRequest = {
      config,
      configDir: path.dirname(configFile),
      batchSizes: entry.batchSizes,
      seeds,
      scale: entry.scale,
      lrRule: entry.lrRule,
      ...(entry.lrNoiseScale !== undefined ? { lrNoiseScale: entry.lrNoiseScale } : {}),
      ...(entry.lrAlpha !== undefined ? { lrAlpha: entry.lrAlpha } : {}),
      lrMultipliers: entry.lrMultipliers,
      lrExtensions: entry.lrExtensions,
      minBatchSpan: entry.minBatchSpan,
      name: entry.name,
    };
    try {
      targets = parseTargets(entry.targets.map(String).join(','), `${where}.targets`);
      // The stopping return and the automatic episode count need R_random, measured as the run will measure it
      // (deterministic; writes nothing). An env from a module is not registered until validation loads it: such parts
      // run their budgets out, with the default episodes unless the entry names them.
      const fixed = config.env.module === undefined && targets.every((t) => t.kind !== 'fraction');
      const baseline = fixed && (entry.stopAtTarget || entry.reachEpisodes === 'auto') ? measureBaseline(config, entry.scoreRef) : null;
      const reachEpisodes = entry.reachEpisodes !== 'auto' ? entry.reachEpisodes : baseline ? reachEpisodesOf(targets, baseline) : POST_UPDATE_EPISODES;
      const stopAt = entry.stopAtTarget && baseline ? targetStop(targets, scaleOf(baseline)) : null;
      request = { ...request, reachEpisodes, ...(stopAt !== null ? { stop: { return: stopAt, episodes: reachEpisodes } } : {}) };
      plan = planCriticalBatch(request);
    } catch (error) {
      if (error instanceof InputError && error.path.startsWith('--')) {
        const key = {
          '--batch-sizes': 'batchSizes',
          '--seeds': 'seeds',
          '--lr-rule': 'lrRule',
          '--lr-noise-scale': 'lrNoiseScale',
          '--lr-alpha': 'lrAlpha',
          '--lr-multipliers': 'lrMultipliers',
          '--lr-extensions': 'lrExtensions',
          '--min-batch-span': 'minBatchSpan',
          '--scores': 'targets',
        }[error.path];
        throw new ConfigError(`${where}.${key ?? error.path}`, error.value, reasonOf(error));
      }
      throw error;
    }
    const whereOf = (configPath: string) => {
      const key = Object.keys(entry.set).find((k) => configPath === k || configPath.startsWith(`${k}.`));
      return key !== undefined ? `${where}.set.${key}${configPath.slice(key.length)}` : `${display(configFile)}: ${configPath}`;
    };
    parts.push({
      kind: 'critical-batch',
      name: entry.name,
      source: `${path.resolve(file)}#criticalBatch.${i}`,
      plan,
      targets,
      component: entry.component,
      request,
      ...(entry.scoreRef !== undefined ? { scoreRef: entry.scoreRef } : {}),
      where: whereOf,
    });
  });

  const seen = new Map<string, ReproducePart>();
  for (const part of parts) {
    const other = seen.get(part.name);
    if (other) throw new ConfigError(`${display(file)}: ${part.kind === 'sweep' ? 'sweeps' : 'criticalBatch'}`, part.name, `two parts are named '${part.name}' (${display(other.source)} and ${display(part.source)}); each writes DIR/<name>/`);
    seen.set(part.name, part);
  }
  return { file: path.resolve(file), preset, parts };
}

/** An InputError from a sweep file, with the file named in its path. */
function withFile(error: unknown, file: string): unknown {
  if (!(error instanceof InputError)) return error;
  if (error.path === 'SWEEP') return new ConfigError(display(file), error.value, reasonOf(error));
  return new ConfigError(`${display(file)}: ${error.path}`, error.value, reasonOf(error));
}

/**
 * What needs the registry: env ids, params and levels for every run of every part (validatePlan), and that each
 * difficulty sweep's levels really are different tasks.
 */
export async function validateReproducePlan(plan: ReproducePlan): Promise<void> {
  for (const part of plan.parts) {
    try {
      await validatePlan(part.plan);
    } catch (error) {
      if (part.where && error instanceof InputError && error.path.startsWith('base.')) {
        throw new ConfigError(part.where(error.path.slice('base.'.length)), error.value, reasonOf(error));
      }
      throw withFile(error, part.source);
    }
    if (part.kind === 'sweep') checkLadderIsLive(part);
  }
}

/**
 * Runs of a sweep that differ only in `env.level` must resolve to different env params; otherwise the base config pins
 * every param the ladder sets (e.g. explicit `env.params`), and "noise vs difficulty" would compare a task with itself.
 */
export function checkLadderIsLive(part: ReproducePart): void {
  const byRest = new Map<string, Map<string, number>>();
  for (const run of part.plan.runs) {
    const config = run.config;
    const rest = canonicalJson({ ...config, env: { ...config.env, level: null }, run: { ...config.run, seed: null, name: null } });
    const spec = getEnvSpec(config.env.id);
    const params = canonicalJson(resolveEnvParams(spec, config.env.level, config.env.params, 'env', config.env.ladder));
    let levels = byRest.get(rest);
    if (!levels) byRest.set(rest, (levels = new Map()));
    for (const [otherParams, otherLevel] of levels) {
      if (otherLevel !== config.env.level && otherParams === params) {
        const pinned = Object.keys(config.env.params);
        throw new ConfigError(
          `${display(part.source)}: env.params`,
          config.env.params,
          `levels ${otherLevel} and ${config.env.level} of ${config.env.id} resolve to the same env params${pinned.length > 0 ? ` (explicit params ${pinned.join(', ')} override the ladder; set "env.params": {} in the sweep's "set")` : ''}`,
        );
      }
    }
    levels.set(params, config.env.level);
  }
}
