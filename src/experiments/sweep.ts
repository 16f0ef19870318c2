/**
 * Sweeps: a grid of runs as plain data (bsuite style: settings × seeds), run in parallel worker processes.
 *
 * SWEEP.json:
 *
 *     {
 *       "name": "cartpole-difficulty",                 // names the output folder (results/<name>)
 *       "base": "../cartpole-ppo.json",                // a config object, or a config file relative to the sweep file
 *       "grid": { "env.level": [0, 1, 2, 3, 4] },      // config path → values; every combination is run
 *       "settings": [{ "agent.lr": 1e-3, "agent.numSteps": 64 }, ...],   // optional explicit list, × grid
 *       "seeds": [1, 2, 3],                            // or a count: 3 → seeds 1, 2, 3
 *       "set": { "run.totalSteps": 50000 }             // optional fixed overrides
 *     }
 *
 * Overrides apply in the order base ← set ← settings entry ← grid values ← run.seed. Run ids read like bsuite's:
 * `level=3,seed=2` — every grid path (and every settings path whose value varies) by its last segment (more
 * segments when two would clash), then the seed. Runs of one setting (same id apart from the seed) form a group.
 *
 * Before anything is written every expanded config is validated (schema, env id, env params, user env module), so a
 * bad sweep exits 2 with the offending path and value and leaves nothing behind.
 *
 * The output folder: `sweep.json` (definition and expanded run list), `runs/<id>/` (one run folder each),
 * `logs/<id>.log` (the worker's output during that run), `sweep.csv` / `sweep-groups.csv` / `sweep-summary.json`
 * (see sweep-results.ts). Re-running the same sweep into the same folder skips runs whose summary.json says
 * `completed` and reruns the rest from scratch; a folder holding a different sweep is refused.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type RunConfig } from '../config/schema.js';
import { checkJsonTree, setPath, valueAt } from '../core/json-path.js';
import { parseConfig } from '../config/load.js';
import { ConfigError, InputError, InvalidValueError } from '../core/errors.js';
import { formatDuration, type ProgressMode } from '../run/progress.js';
import { packageVersion } from '../core/package-root.js';
import { readJson, writeJsonAtomic } from '../run/run-folder.js';
import { SweepAggregator } from './sweep-results.js';
import type { RunOutcome, WorkerReply, WorkerRequest, WorkerTask } from './sweep-worker.js';
import type { RunStatus, RunSummary } from '../run/run-folder.js';

export type { RunOutcome } from './sweep-worker.js';

// ---------------------------------------------------------------------------------------------------------------
// The sweep file

const configPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/, 'expected a dot-separated config path such as env.level');

export const sweepFileSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, . _ - (it names the output folder)')
    .describe('sweep name; the default output folder is results/<name>'),
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
  seeds: z
    .union([z.number().int().positive(), z.array(z.number().int().min(0)).min(1)])
    .default(1)
    .describe('seed list, or a count N meaning seeds 1..N'),
  set: z.record(configPath, z.unknown()).default({}).describe('fixed overrides applied to every run'),
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
}

/** Read, validate and expand a SWEEP.json file. */
export function loadSweepFile(file: string): SweepPlan {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError('SWEEP', file, 'cannot read sweep file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('SWEEP', file, `not valid JSON: ${(error as Error).message}`);
  }
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
  const seeds = typeof spec.seeds === 'number' ? Array.from({ length: spec.seeds }, (_, i) => i + 1) : spec.seeds;
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
  return { kind: 'sweep', name: spec.name, definition, keys, configDir, runs };
}

function parseSweepFile(raw: unknown): SweepFile {
  checkJsonTree(raw);
  const result = sweepFileSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let at = issue.path.map(String);
  let message = issue.message;
  let value = valueAt(raw, at);
  if (issue.code === 'unrecognized_keys') {
    at = [...at, issue.keys[0]!];
    value = valueAt(raw, at);
    message = `unknown key '${issue.keys[0]}'`;
  } else if (issue.code === 'invalid_key') {
    value = at[at.length - 1];
    message = issue.issues[0]?.message ?? message;
  } else if (issue.code === 'invalid_union' && at.length === 1 && at[0] === 'base') {
    message = 'expected a config object or a config file path';
  } else if (issue.code === 'invalid_union' && at.length === 1 && at[0] === 'seeds') {
    message = 'expected a list of seeds (integers ≥ 0) or a count (integer ≥ 1)';
  }
  throw new ConfigError(at.join('.') || '(sweep)', value, message);
}

function readBaseConfig(file: string, given: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError('base', given, `cannot read config file ${file}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('base', given, `not valid JSON: ${(error as Error).message}`);
  }
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
  const { prepareRun } = await import('../run/trainer.js');
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

// ---------------------------------------------------------------------------------------------------------------
// Ids

/** Short names for config paths: the last segment, or more segments where two would clash. */
export function shortNames(keys: readonly string[]): string[] {
  const parts = keys.map((k) => k.split('.'));
  const depth = keys.map(() => 1);
  for (let round = 0; round < 16; round++) {
    const names = parts.map((p, i) => p.slice(-depth[i]!).join('.'));
    let clash = false;
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i || names.lastIndexOf(name) !== i) {
        if (depth[i]! < parts[i]!.length) {
          depth[i]! += 1;
          clash = true;
        }
      }
    });
    if (!clash) return names;
  }
  return keys.slice();
}

/**
 * A value as it appears in a run id: numbers and strings as written, lists joined by `x`, objects as `key-value`
 * pairs joined by `+`; characters unsafe in folder names become `_`.
 */
export function formatIdValue(value: unknown): string {
  const format = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(format).join('x');
    if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => `${k}-${format(x)}`).join('+');
    return String(v);
  };
  return format(value).replace(/[^A-Za-z0-9._+-]/g, '_');
}

function formatId(keys: readonly string[], settings: Record<string, unknown>): string {
  const names = shortNames(keys);
  return keys.map((key, i) => `${names[i]}=${formatIdValue(settings[key])}`).join(',');
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

/** JSON with object keys sorted, so equal definitions compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? 'undefined';
}


// ---------------------------------------------------------------------------------------------------------------
// The output folder

/** What sweep.json holds. */
export interface SweepManifest {
  readonly kind: SweepPlan['kind'];
  readonly name: string;
  readonly definition: unknown;
  readonly keys: readonly string[];
  readonly configDir: string;
  readonly version: string;
  readonly createdAt: string;
  readonly runs: readonly { id: string; group: string; settings: Readonly<Record<string, unknown>>; seed: number; config: RunConfig }[];
}

export const SWEEP_MANIFEST = 'sweep.json';

/**
 * Whether `out` is free for this sweep (`new`) or holds this same sweep (`resume`). A folder that holds another
 * sweep, or other files, is refused (InvalidValueError, exit 2) before anything is written.
 */
export function checkOutDir(plan: SweepPlan, out: string, argPath = '--out'): 'new' | 'resume' {
  if (!fs.existsSync(out)) return 'new';
  if (!fs.statSync(out).isDirectory()) throw new InvalidValueError(argPath, out, 'exists and is not a folder');
  const holder = lockHolder(out);
  if (holder !== null) throw new InvalidValueError(argPath, out, `another gradnoise process (pid ${holder}) is running a sweep in this folder`);
  const manifestFile = path.join(out, SWEEP_MANIFEST);
  if (fs.existsSync(manifestFile)) {
    let old: SweepManifest;
    try {
      old = readJson<SweepManifest>(manifestFile);
    } catch {
      throw new InvalidValueError(argPath, out, `holds an unreadable ${SWEEP_MANIFEST}; choose another folder`);
    }
    if (old.kind !== plan.kind || canonicalJson(old.definition) !== canonicalJson(plan.definition)) {
      throw new InvalidValueError(
        argPath,
        out,
        `holds a different ${old.kind === 'critical-batch' ? 'critical-batch experiment' : 'sweep'} ('${old.name}'); choose another --out, or delete the folder to start over`,
      );
    }
    return 'resume';
  }
  if (fs.readdirSync(out).length > 0) throw new InvalidValueError(argPath, out, `folder holds files but no ${SWEEP_MANIFEST}; choose a new one`);
  return 'new';
}

const LOCK_FILE = 'sweep.lock';

/** The pid of a live process on this machine holding the folder's lock, or null. */
function lockHolder(out: string): number | null {
  let lock: { pid?: number; host?: string };
  try {
    lock = readJson<{ pid?: number; host?: string }>(path.join(out, LOCK_FILE));
  } catch {
    return null;
  }
  if (typeof lock.pid !== 'number' || lock.host !== os.hostname() || lock.pid === process.pid) return null;
  try {
    process.kill(lock.pid, 0);
    return lock.pid;
  } catch (error) {
    // EPERM: alive but not ours; ESRCH: a stale lock from a killed sweep.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? lock.pid : null;
  }
}

export function runDirOf(out: string, id: string): string {
  return path.join(out, 'runs', id);
}

/** The summary.json of a run folder, or null when missing or unreadable. */
export function readRunSummary(runDir: string): RunSummary | null {
  try {
    return readJson<RunSummary>(path.join(runDir, 'summary.json'));
  } catch {
    return null;
  }
}

function writeManifest(plan: SweepPlan, out: string): void {
  const file = path.join(out, SWEEP_MANIFEST);
  let createdAt = new Date().toISOString();
  if (fs.existsSync(file)) {
    try {
      createdAt = readJson<SweepManifest>(file).createdAt ?? createdAt;
    } catch {
      // rewritten below
    }
  }
  const manifest: SweepManifest = {
    kind: plan.kind,
    name: plan.name,
    definition: plan.definition,
    keys: plan.keys,
    configDir: plan.configDir,
    version: packageVersion(),
    createdAt,
    runs: plan.runs.map((r) => ({ id: r.id, group: r.group, settings: r.settings, seed: r.seed, config: r.config })),
  };
  writeJsonAtomic(file, manifest);
}

// ---------------------------------------------------------------------------------------------------------------
// Running

/** One run handed to the executor. */
export interface RunTask {
  readonly id: string;
  readonly config: RunConfig;
  readonly runDir: string;
  readonly configDir: string;
}

/** Runs one training run in this process (tests, library use); must write the run folder like `train()`. */
export type RunOne = (task: RunTask, signal: AbortSignal) => Promise<RunOutcome>;

export interface RunRecord {
  readonly id: string;
  readonly status: RunStatus | 'skipped';
  readonly error?: string;
  readonly wallS: number;
}

export interface SweepOptions {
  readonly out: string;
  /** Parallel runs (default os.availableParallelism()). */
  readonly workers?: number;
  /** Run in this process with this function instead of worker processes. */
  readonly runOne?: RunOne;
  /** Worker module to fork (default src/sweep-worker.ts); it must call `serveRuns`. */
  readonly workerScript?: string;
  /** Progress display on stderr (default quiet). */
  readonly progress?: ProgressMode;
  readonly stream?: NodeJS.WritableStream;
  /** Abort: stop dispatching, stop the running runs (they end `interrupted`), write the aggregate, return. */
  readonly signal?: AbortSignal;
  /** Abort: kill worker processes at once (a second Ctrl-C). */
  readonly killSignal?: AbortSignal;
  /** Called after every finished run. */
  readonly onRunDone?: (record: RunRecord) => void;
  /**
   * Called once at the end, after the aggregate files are written, with the sweep folder (also after an interrupt).
   * The hook for report generation.
   */
  readonly onDone?: (dir: string) => unknown;
}

export interface SweepResult {
  readonly dir: string;
  readonly total: number;
  readonly skipped: number;
  readonly completed: number;
  /** Runs that ended failed or diverged in this invocation. */
  readonly failed: number;
  readonly interrupted: boolean;
  readonly records: readonly RunRecord[];
}

/**
 * Run a validated plan into `options.out`: skip completed runs, clear and rerun the others, several at a time, and keep
 * the aggregate files current after every run. Call `checkOutDir` (and `validatePlan`) first.
 */
export async function runSweep(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const out = options.out;
  const holder = lockHolder(out);
  if (holder !== null) throw new InvalidValueError('--out', out, `another gradnoise process (pid ${holder}) is running a sweep in this folder`);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  fs.mkdirSync(path.join(out, 'logs'), { recursive: true });
  // Two sweeps in one folder would clear each other's runs: hold a lock while running (a stale one is ignored).
  const lockFile = path.join(out, LOCK_FILE);
  writeJsonAtomic(lockFile, { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() });
  try {
    return await runLocked(plan, options);
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

async function runLocked(plan: SweepPlan, options: SweepOptions): Promise<SweepResult> {
  const out = options.out;
  writeManifest(plan, out);

  const records: RunRecord[] = [];
  const pending: PlannedRun[] = [];
  for (const run of plan.runs) {
    const dir = runDirOf(out, run.id);
    if (readRunSummary(dir)?.status === 'completed') {
      records.push({ id: run.id, status: 'skipped', wallS: 0 });
      continue;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(path.join(out, 'logs', `${run.id}.log`), { force: true });
    pending.push(run);
  }

  const aggregator = new SweepAggregator(plan, out);
  aggregator.write({ runsOnly: true });

  const workers = Math.max(1, Math.min(options.workers ?? os.availableParallelism(), pending.length));
  const display = new SweepProgress(options.progress ?? 'quiet', plan.name, plan.runs.length, records.length, workers, options.stream ?? process.stderr);
  display.start();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onAbort);

  const slots: Slot[] = Array.from({ length: pending.length > 0 ? workers : 0 }, () =>
    options.runOne ? new InProcessSlot(options.runOne) : new WorkerSlot(options.workerScript ?? defaultWorkerScript(), path.join(out, 'logs')),
  );
  const onKill = () => slots.forEach((s) => s.kill());
  options.killSignal?.addEventListener('abort', onKill);

  let next = 0;
  let completed = 0;
  let failed = 0;
  try {
    await Promise.all(
      slots.map(async (slot) => {
        while (!stop.signal.aborted && next < pending.length) {
          const run = pending[next++]!;
          const task: RunTask = { id: run.id, config: run.config, runDir: runDirOf(out, run.id), configDir: plan.configDir };
          display.started(run.id);
          const t0 = performance.now();
          let outcome: RunOutcome;
          try {
            outcome = await slot.run(task, stop.signal);
          } catch (error) {
            outcome = { status: 'failed', error: (error as Error).stack ?? String(error) };
          }
          const summary = ensureSummary(task, outcome);
          const record: RunRecord = {
            id: run.id,
            status: summary.status,
            ...(summary.error !== undefined ? { error: summary.error } : {}),
            wallS: (performance.now() - t0) / 1000,
          };
          records.push(record);
          if (record.status === 'completed') completed++;
          else if (record.status === 'failed' || record.status === 'diverged') failed++;
          aggregator.invalidate(run.id);
          aggregator.write({ runsOnly: true });
          display.finished(record);
          options.onRunDone?.(record);
        }
      }),
    );
  } finally {
    await Promise.all(slots.map((s) => s.close()));
    options.signal?.removeEventListener('abort', onAbort);
    options.killSignal?.removeEventListener('abort', onKill);
    display.stop();
  }
  aggregator.write();
  const interrupted = stop.signal.aborted;
  display.final(completed, failed, interrupted, out);
  await options.onDone?.(out);
  const order = new Map(plan.runs.map((r, i) => [r.id, i]));
  records.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { dir: out, total: plan.runs.length, skipped: records.filter((r) => r.status === 'skipped').length, completed, failed, interrupted, records };
}

/**
 * Every run folder ends with a summary.json: when the run could not write one (its worker crashed, or it failed
 * before its folder existed) the sweep writes a minimal one with the outcome.
 */
function ensureSummary(task: RunTask, outcome: RunOutcome): RunSummary {
  const existing = readRunSummary(task.runDir);
  if (existing) return existing;
  fs.mkdirSync(task.runDir, { recursive: true });
  const status: RunStatus = outcome.status === 'completed' ? 'failed' : outcome.status;
  const error = outcome.status === 'completed' ? 'the run reported completion but wrote no summary.json' : (outcome.error ?? `run ${outcome.status}`);
  const summary: RunSummary = {
    status,
    error,
    envId: task.config.env.id,
    algo: task.config.agent.algo,
    seed: task.config.run.seed,
    backend: 'unknown',
    gpu: false,
    updates: 0,
    envSteps: 0,
    episodes: 0,
    wallS: 0,
    returnMean: null,
    returnBest: null,
  };
  writeJsonAtomic(path.join(task.runDir, 'summary.json'), summary);
  return summary;
}

/** The worker module next to this file (`.ts` under tsx, `.js` when compiled). */
export function defaultWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `sweep-worker${path.extname(here)}`);
}

interface Slot {
  run(task: RunTask, signal: AbortSignal): Promise<RunOutcome>;
  close(): Promise<void>;
  kill(): void;
}

class InProcessSlot implements Slot {
  constructor(private readonly runOne: RunOne) {}
  run(task: RunTask, signal: AbortSignal): Promise<RunOutcome> {
    return this.runOne(task, signal);
  }
  async close(): Promise<void> {}
  kill(): void {}
}

/** Where tsx's loader is, as an absolute URL, so workers find it whatever the working folder. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Keeps the last `limit` characters of a stream, for error messages. */
class Tail {
  private text = '';
  constructor(private readonly limit = 2000) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }
  take(): string {
    const text = this.text.trim();
    this.text = '';
    return text;
  }
}

/** One worker process, started on first use and restarted after a crash; its output goes to logs/<run id>.log. */
class WorkerSlot implements Slot {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private log: number | null = null;
  private readonly tail = new Tail();

  constructor(
    private readonly script: string,
    private readonly logDir: string,
  ) {}

  private spawn(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, GRADNOISE_WORKER: '1' };
    env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true'; // several workers share one GPU
    delete env.NODE_TEST_CONTEXT;
    const execArgv = path.extname(this.script) === '.ts' ? ['--import', tsxLoader()] : [];
    const child = fork(this.script, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    this.child = child;
    const write = (chunk: Buffer) => {
      this.tail.push(chunk.toString('utf8'));
      if (this.log !== null) fs.writeSync(this.log, chunk);
    };
    child.stdout!.on('data', write);
    child.stderr!.on('data', write);
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerReply) => {
        if (message.type !== 'ready') return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        child.off('message', onMessage);
        reject(new Error(`worker process exited while starting (${signal ?? `exit code ${code}`})`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    child.once('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.ready = null;
      }
    });
  }

  async run(task: RunTask, signal: AbortSignal): Promise<RunOutcome> {
    this.log = fs.openSync(path.join(this.logDir, `${task.id}.log`), 'a');
    this.tail.take();
    try {
      if (!this.child) this.spawn();
      const child = this.child!;
      try {
        await this.ready;
      } catch (error) {
        const output = this.tail.take();
        return { status: signal.aborted ? 'interrupted' : 'failed', error: `${(error as Error).message}${output ? `\n${output}` : ''}` };
      }
      return await new Promise<RunOutcome>((resolve) => {
        const finish = (outcome: RunOutcome) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        };
        const onMessage = (message: WorkerReply) => {
          if (message.type === 'done' && message.id === task.id) finish(message.outcome);
        };
        const onExit = (code: number | null, exitSignal: NodeJS.Signals | null) => {
          const output = this.tail.take();
          finish({
            status: signal.aborted ? 'interrupted' : 'failed',
            error: `worker process died during the run (${exitSignal ?? `exit code ${code}`})${output ? `; its last output:\n${output}` : ''}`,
          });
        };
        const onAbort = () => this.send({ type: 'stop' });
        child.on('message', onMessage);
        child.once('exit', onExit);
        signal.addEventListener('abort', onAbort);
        const workerTask: WorkerTask = { id: task.id, config: task.config, runDir: task.runDir, configDir: task.configDir };
        this.send({ type: 'run', task: workerTask });
        if (signal.aborted) onAbort();
      });
    } finally {
      fs.closeSync(this.log);
      this.log = null;
    }
  }

  private send(message: WorkerRequest): void {
    if (this.child?.connected) this.child.send(message);
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Progress

/** done/running/failed/total with an ETA: a live line on a terminal, one line per finished run otherwise. */
class SweepProgress {
  private readonly running = new Set<string>();
  private done = 0;
  private failed = 0;
  private finishedHere = 0;
  private runTimeHere = 0;
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly mode: ProgressMode,
    private readonly name: string,
    private readonly total: number,
    private readonly skipped: number,
    private readonly workers: number,
    private readonly out: NodeJS.WritableStream,
  ) {
    this.done = skipped;
  }

  start(): void {
    if (this.mode === 'quiet') return;
    const skipped = this.skipped > 0 ? `, ${this.skipped} already completed` : '';
    this.print(`sweep ${this.name}: ${this.total} runs${skipped}, ${this.workers} worker${this.workers === 1 ? '' : 's'}`);
    if (this.mode === 'tty') {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
      this.draw();
    }
  }

  started(id: string): void {
    this.running.add(id);
    if (this.mode === 'tty') this.draw();
  }

  finished(record: RunRecord): void {
    this.running.delete(record.id);
    if (record.status === 'interrupted') {
      if (this.mode !== 'quiet') this.print(`  ${record.id}: interrupted`);
      return;
    }
    this.done++;
    this.finishedHere++;
    this.runTimeHere += record.wallS;
    if (record.status !== 'completed') this.failed++;
    if (this.mode === 'quiet') return;
    const error = record.status !== 'completed' && record.error ? ` — ${record.error.split('\n')[0]}` : '';
    this.print(`  [${this.done}/${this.total}] ${record.id}: ${record.status} in ${formatDuration(record.wallS)}${error}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'tty') this.out.write('\r\x1b[2K');
  }

  final(completed: number, failed: number, interrupted: boolean, dir: string): void {
    if (this.mode === 'quiet') return;
    const parts = [`${completed} completed`];
    if (this.skipped > 0) parts.push(`${this.skipped} skipped (already completed)`);
    if (failed > 0) parts.push(`${failed} failed`);
    const left = this.total - this.done;
    if (left > 0) parts.push(`${left} not finished`);
    this.out.write(`sweep ${this.name}${interrupted ? ' interrupted' : ''}: ${parts.join(', ')} in ${formatDuration(this.elapsed())}; results in ${dir}\n`);
  }

  private elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private eta(): number {
    const left = this.total - this.done;
    if (this.finishedHere === 0 || left === 0) return left === 0 ? 0 : NaN;
    return (left * (this.runTimeHere / this.finishedHere)) / this.workers;
  }

  private line(): string {
    const eta = this.eta();
    return [
      `sweep ${this.name}`,
      `${this.done}/${this.total} done`,
      `${this.running.size} running`,
      `${this.failed} failed`,
      `elapsed ${formatDuration(this.elapsed())}`,
      `eta ${Number.isFinite(eta) ? formatDuration(eta) : '-'}`,
    ].join(' | ');
  }

  private draw(): void {
    this.out.write(`\r\x1b[2K${this.line()}`);
  }

  private print(text: string): void {
    this.out.write(this.mode === 'tty' ? `\r\x1b[2K${text}\n` : `${text}\n`);
    if (this.mode === 'tty' && this.timer) this.draw();
  }
}
