/**
 * A sweep as plain data (bsuite style: settings × seeds), and its expansion into fully resolved, validated runs.
 *
 * SWEEP.json:
 *
 *     {
 *       "name": "cartpole-difficulty",                 // names the output folder (results/<name>)
 *       "base": "../cartpole-ppo.json",                // a config object, or a config file relative to the sweep file
 *       "grid": { "env.level": [0, 1, 2, 3, 4] },      // config path → values; every combination is run
 *       "settings": [{ "agent.lr": 1e-3, "agent.numSteps": 64 }, ...],   // optional explicit list, × grid
 *       "seeds": [1, 2, 3],                            // or a count: 3 → seeds 1, 2, 3
 *       "set": { "run.totalSteps": 50000 },            // optional fixed overrides
 *       "executor": "slurm", "slurm": { ... }          // optional: where runs execute (../slurm/options.ts)
 *     }
 *
 * Overrides apply in the order base ← set ← settings entry ← grid values ← run.seed. Run ids (ids.ts) read like
 * bsuite's: `level=3,seed=2`. Runs of one setting (same id apart from the seed) form a group.
 *
 * Before anything is written every expanded config is validated (schema, env id, env params, user env module), so a
 * bad sweep exits 2 with the offending path and value and leaves nothing behind.
 */
import path from 'node:path';
import { z } from 'zod';
import { type RunConfig } from '../../config/schema.js';
import { checkJsonTree, setPath } from '../../core/json-path.js';
import { parseConfig } from '../../config/load.js';
import { ConfigError, InputError } from '../../core/errors.js';
import { configPathSchema as configPath, firstIssue, folderNameSchema, readJsonInput, seedList, seedsSchema } from '../input.js';
import { executorSchema, slurmSchema, type ExecutorName, type SlurmOptions } from '../slurm/options.js';
import { canonicalJson, formatId } from './ids.js';

export const sweepFileSchema = z.strictObject({
  name: folderNameSchema.describe('sweep name; the default output folder is results/<name>'),
  description: z.string().optional(),
  base: z
    .union([z.string().min(1), z.record(z.string(), z.unknown())])
    .describe('the base config: an object, or a config file path relative to the sweep file'),
  grid: z.record(configPath, z.array(z.unknown()).min(1)).default({}).describe('config path → values; all combinations run'),
  settings: z
    .array(z.record(configPath, z.unknown()))
    .min(1)
    .optional()
    .describe('explicit list of override sets (path → value), crossed with the grid'),
  seeds: seedsSchema.default(1),
  set: z.record(configPath, z.unknown()).default({}).describe('fixed overrides applied to every run'),
  executor: executorSchema.optional(),
  slurm: slurmSchema.optional().describe('Slurm options (see slurm/options.ts); used with executor slurm'),
});

export type SweepFile = z.infer<typeof sweepFileSchema>;

/** One run of a sweep, fully resolved. */
export interface PlannedRun {
  /** Readable id, e.g. `level=3,seed=2`; also the run folder's name. */
  readonly id: string;
  /** The id without its seed: runs of one group differ only in seed. */
  readonly group: string;
  /** The varied config paths and their values for this run (full paths). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly config: RunConfig;
  /** Override path → where it came from in the sweep definition (`grid.env.level`, `set.agent.lr`), for errors. */
  readonly origin?: Readonly<Record<string, string>>;
}

export interface SweepPlan {
  readonly kind: 'sweep' | 'critical-batch';
  readonly name: string;
  /** What makes two sweeps the same one (compared on resume); plain JSON. */
  readonly definition: unknown;
  /** The varied config paths, in column order. */
  readonly keys: readonly string[];
  /** Folder that relative paths inside configs (env.module) resolve against. */
  readonly configDir: string;
  readonly runs: readonly PlannedRun[];
  /** Where the sweep file asks its runs to execute (command-line flags win); not part of `definition`. */
  readonly executor?: ExecutorName;
  readonly slurm?: SlurmOptions;
}

/** Read, validate and expand a SWEEP.json file. */
export function loadSweepFile(file: string): SweepPlan {
  const raw = readJsonInput(file, 'SWEEP', file, 'sweep file');
  return expandSweep(raw, path.dirname(path.resolve(file)));
}

/** Validate a parsed sweep definition (paths relative to `sweepDir`) and expand it into runs. */
export function expandSweep(raw: unknown, sweepDir: string): SweepPlan {
  const spec = parseSweepFile(raw);
  let base: Record<string, unknown>;
  let configDir = sweepDir;
  if (typeof spec.base === 'string') {
    const baseFile = path.resolve(sweepDir, spec.base);
    base = readBaseConfig(baseFile, spec.base);
    configDir = path.dirname(baseFile);
  } else {
    base = spec.base;
  }
  const seeds = seedList(spec.seeds);
  checkUnique(seeds, 'seeds');
  for (const [key, values] of Object.entries(spec.grid)) checkUnique(values, `grid.${key}`);
  const reserved = ['run.seed', 'run.name'];
  const sources: [string, Record<string, unknown>][] = [
    ['grid', spec.grid],
    ['set', spec.set],
    ...(spec.settings ?? []).map((s, i): [string, Record<string, unknown>] => [`settings.${i}`, s]),
  ];
  for (const [where, record] of sources) {
    for (const key of Object.keys(record)) {
      if (reserved.includes(key)) {
        throw new ConfigError(`${where}.${key}`, record[key], key === 'run.seed' ? "set seeds with the sweep's 'seeds'" : 'run folders are named by the sweep');
      }
      if (where !== 'set' && key in spec.set) throw new ConfigError(`${where}.${key}`, record[key], "also fixed in 'set'; give each path one source");
      if (where.startsWith('settings') && key in spec.grid) throw new ConfigError(`${where}.${key}`, record[key], "also a grid path; give each path one source");
    }
  }

  const definition = {
    name: spec.name,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    base,
    grid: spec.grid,
    ...(spec.settings ? { settings: spec.settings } : {}),
    seeds,
    set: spec.set,
  };

  const gridKeys = Object.keys(spec.grid);
  const settingsList = spec.settings ?? [{}];
  const settingsKeys = [...new Set(settingsList.flatMap((s) => Object.keys(s)))];
  const variedSettingsKeys = settingsKeys.filter((key) => new Set(settingsList.map((s) => canonicalJson(s[key]))).size > 1);
  const keys = [...settingsKeys, ...gridKeys];
  const idKeys = [...variedSettingsKeys, ...gridKeys];

  const combos: { settings: Record<string, unknown>; origin: Record<string, string> }[] = [];
  settingsList.forEach((entry, i) => {
    for (const gridCombo of product(spec.grid)) {
      const origin: Record<string, string> = {};
      for (const key of Object.keys(spec.set)) origin[key] = `set.${key}`;
      for (const key of Object.keys(entry)) origin[key] = `settings.${i}.${key}`;
      for (const key of gridKeys) origin[key] = `grid.${key}`;
      combos.push({ settings: { ...entry, ...gridCombo }, origin });
    }
  });

  const runs: PlannedRun[] = [];
  for (const combo of combos) {
    const group = formatId(idKeys, combo.settings);
    for (const seed of seeds) {
      const id = group ? `${group},seed=${seed}` : `seed=${seed}`;
      const config = resolveRunConfig(base, { ...spec.set, ...combo.settings }, seed, id, combo.origin);
      runs.push({ id, group, settings: Object.fromEntries(keys.map((k) => [k, combo.settings[k]])), seed, config, origin: combo.origin });
    }
  }
  checkUniqueIds(runs);
  return {
    kind: 'sweep',
    name: spec.name,
    definition,
    keys,
    configDir,
    runs,
    ...(spec.executor ? { executor: spec.executor } : {}),
    ...(spec.slurm ? { slurm: spec.slurm } : {}),
  };
}

function parseSweepFile(raw: unknown): SweepFile {
  checkJsonTree(raw);
  const result = sweepFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = firstIssue(result.error, raw);
  const { at, value, code } = issue;
  let message = issue.message;
  const top = at.length === 1 ? at[0] : undefined;
  if (code === 'invalid_union' && top === 'base') message = 'expected a config object or a config file path';
  else if (code === 'invalid_union' && top === 'seeds') message = 'expected a list of seeds (integers ≥ 0) or a count (integer ≥ 1)';
  throw new ConfigError(at.join('.') || '(sweep)', value, message);
}

function readBaseConfig(file: string, given: string): Record<string, unknown> {
  const raw = readJsonInput(file, 'base', given, `config file ${file}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('base', given, 'expected a JSON object');
  return raw as Record<string, unknown>;
}

/**
 * Apply `overrides` (config path → value, in order) and the seed to a copy of the base and validate. A problem is
 * reported at the sweep path it came from (`origin` maps override paths to e.g. `grid.env.level`; anything else is
 * `base.<path>`), naming the run.
 */
export function resolveRunConfig(
  base: Record<string, unknown>,
  overrides: Record<string, unknown>,
  seed: number,
  id: string,
  origin: Readonly<Record<string, string>> = {},
): RunConfig {
  const raw = structuredClone(base);
  try {
    for (const [key, value] of Object.entries(overrides)) setPath(raw, key, value);
    setPath(raw, 'run.seed', seed);
    return parseConfig(raw);
  } catch (error) {
    if (error instanceof InputError) throw new ConfigError(sourceOf(error.path, origin), error.value, `run ${id}: ${reasonOf(error)}`);
    throw error;
  }
}

/**
 * The plan with every run on `backend` (the `--backend` flag of sweep, reproduce): part of the definition, since
 * runs on another backend are other runs. A value the schema refuses is a ConfigError at `--backend`.
 */
export function withBackend(plan: SweepPlan, backend: string): SweepPlan {
  const runs = plan.runs.map((run) => {
    try {
      return { ...run, config: parseConfig({ ...structuredClone(run.config), run: { ...run.config.run, backend } }) };
    } catch (error) {
      if (error instanceof InputError) throw new ConfigError('--backend', backend, reasonOf(error));
      throw error;
    }
  });
  return { ...plan, runs, definition: { ...(plan.definition as Record<string, unknown>), backend } };
}

/** The sweep path a config path's value came from: the longest override path that is a prefix of it, else the base. */
export function sourceOf(configPath: string, origin: Readonly<Record<string, string>>): string {
  const match = Object.keys(origin)
    .filter((key) => configPath === key || configPath.startsWith(`${key}.`))
    .sort((a, b) => b.length - a.length)[0];
  if (match === undefined) return `base.${configPath}`;
  return origin[match]! + configPath.slice(match.length);
}

/** The reason part of an InputError's message (`path: reason (got value)`). */
export function reasonOf(error: InputError): string {
  const prefix = `${error.path}: `;
  let text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  const got = text.lastIndexOf(' (got ');
  if (got >= 0) text = text.slice(0, got);
  return text;
}

/**
 * Check what only the registry can tell (env id, env params and levels, user env modules) for every run, writing
 * nothing. Distinct env settings are checked once.
 */
export async function validatePlan(plan: SweepPlan): Promise<void> {
  const { prepareRun } = await import('../../run/trainer.js');
  const checked = new Set<string>();
  for (const run of plan.runs) {
    const key = canonicalJson(run.config.env);
    if (checked.has(key)) continue;
    checked.add(key);
    try {
      await prepareRun(run.config, plan.configDir);
    } catch (error) {
      if (error instanceof InputError) {
        // Registry errors name config paths (env.id) or the env's own params; map the former to the sweep.
        const where = /^(env|agent|monitor|run)\./.test(error.path) ? sourceOf(error.path, run.origin ?? {}) : error.path;
        throw new ConfigError(where, error.value, `run ${run.id}: ${reasonOf(error)}`);
      }
      throw error;
    }
  }
}


function checkUniqueIds(runs: readonly PlannedRun[]): void {
  const seen = new Map<string, PlannedRun>();
  for (const run of runs) {
    const other = seen.get(run.id);
    if (other) {
      const key = Object.keys(run.settings).find((k) => canonicalJson(run.settings[k]) !== canonicalJson(other.settings[k]));
      throw new ConfigError(key !== undefined ? `grid.${key}` : 'grid', key !== undefined ? run.settings[key] : run.id, `two runs would share the id '${run.id}'; use values that differ after formatting`);
    }
    seen.set(run.id, run);
  }
}

function checkUnique(values: readonly unknown[], at: string): void {
  const seen = new Set<string>();
  for (const value of values) {
    const key = canonicalJson(value);
    if (seen.has(key)) throw new ConfigError(at, value, 'listed twice');
    seen.add(key);
  }
}

function* product(grid: Record<string, readonly unknown[]>): Generator<Record<string, unknown>> {
  const keys = Object.keys(grid);
  const index = keys.map(() => 0);
  if (keys.some((k) => grid[k]!.length === 0)) return;
  while (true) {
    yield Object.fromEntries(keys.map((k, i) => [k, grid[k]![index[i]!]]));
    let i = keys.length - 1;
    while (i >= 0) {
      index[i]! += 1;
      if (index[i]! < grid[keys[i]!]!.length) break;
      index[i] = 0;
      i--;
    }
    if (i < 0) return;
  }
}

