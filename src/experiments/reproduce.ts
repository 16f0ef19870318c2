/**
 * `gradnoise reproduce`: the paper's headline findings (docs/science.md, "The findings to reproduce") from ready-made experiments.
 *
 * A preset is plain data, `configs/reproduce/<name>.json`, listing the parts to run; paths are relative to the file:
 *
 *     {
 *       "name": "full",                                        // default output folder: results/reproduce-<name>
 *       "description": "...",
 *       "sweeps": ["../sweeps/cartpole-difficulty.json", ...], // sweep files (see sweep.ts)
 *       "criticalBatch": [                                     // critical-batch experiments (see critical-batch.ts)
 *         { "name": "critical-batch-cartpole-level0", "config": "../cartpole-ppo.json",
 *           "set": { "env.level": 0, "run.totalSteps": 100000 },
 *           "batchSizes": [128, 256, 512, 1024], "seeds": 2, "targets": ["50%"] }
 *       ]
 *     }
 *
 * Critical-batch entries take the `critical-batch` command's options as keys: `scale`, `lrRule`, `lrNoiseScale`,
 * `lrAlpha`, `lrMultipliers`, `component`, with the same defaults.
 *
 * Everything is read, expanded and validated (preset schema, every sweep file and config, env ids, params and
 * levels, the output folders) before anything is written, so bad input exits 2 and leaves nothing behind. A difficulty
 * sweep whose levels resolve to the same env params (a base config pinning the params the ladder sets) is refused too:
 * its noise-vs-difficulty figure would compare a task with itself.
 *
 * The output folder DIR holds one normal sweep / critical-batch folder per part, `DIR/<part name>/` (each resumable:
 * rerunning the preset into DIR skips completed runs), and `DIR/reproduce.json`: the preset, every part with its run
 * counts, status and wall time, the machine, and the main figures of every part (see `ReproduceManifest`). The report
 * (`gradnoise report DIR`) draws every part and, across critical-batch parts, B_crit vs B_simple.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { RunConfig } from '../config/schema.js';
import { analyzeCriticalBatch, parseTargets, planCriticalBatch, type CriticalBatchResult } from './critical-batch.js';
import type { TargetSpec } from '../analysis/critical-batch-fit.js';
import { ConfigError, InputError, InvalidValueError } from '../core/errors.js';
import { valueAt } from '../core/json-path.js';
import type { NoiseComponent } from '../core/components.js';
import { formatDuration, type ProgressMode } from '../run/progress.js';
import { getEnvSpec, resolveEnvParams } from '../run/registry.js';
import { packageRoot, packageVersion } from '../core/package-root.js';
import { machineInfo, type MachineInfo } from '../run/machine.js';
import { readJson, writeJsonAtomic } from '../run/run-folder.js';
import { MATCHED_FRACTION } from './sweep-results.js';
import { figureJson, toJsonNumber, type FigureJson } from '../analysis/findings.js';
import { formatCriticalPartFindings, formatSweepPartFindings } from '../analysis/findings-format.js';
import type { CriticalPartFindings, SweepPartFindings } from '../analysis/findings-parts.js';
import {
  canonicalJson,
  checkOutDir,
  loadSweepFile,
  readRunSummary,
  reasonOf,
  resolveRunConfig,
  runDirOf,
  runSweep,
  validatePlan,
  type RunOne,
  type SweepPlan,
  type SweepResult,
} from './sweep.js';

// ---------------------------------------------------------------------------------------------------------------
// The preset file

const partName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, . _ - (it names the output folder)');
const configPath = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/, 'expected a dot-separated config path such as env.level');

export const criticalBatchEntrySchema = z.strictObject({
  name: partName.describe('names the output folder DIR/<name>'),
  description: z.string().optional(),
  config: z.string().min(1).describe('config file, relative to the preset file'),
  set: z.record(configPath, z.unknown()).default({}).describe('config overrides (path → value), e.g. env.level, run.totalSteps'),
  batchSizes: z.array(z.number().int().positive()).min(2).describe('batch sizes B = numEnvs × numSteps'),
  seeds: z
    .union([z.number().int().positive(), z.array(z.number().int().min(0)).min(1)])
    .default(3)
    .describe('seed list, or a count N meaning seeds 1..N'),
  targets: z
    .array(z.union([z.number(), z.string().min(1)]))
    .min(1)
    .default(['25%', '50%', '75%'])
    .describe('returns to reach: absolute (200) or % of the reached return range ("50%")'),
  scale: z.enum(['envs', 'steps']).default('envs'),
  lrRule: z.enum(['paper', 'fixed']).default('paper'),
  lrNoiseScale: z.number().positive().optional(),
  lrAlpha: z.number().min(0).optional(),
  lrMultipliers: z.array(z.number().positive()).min(1).default([1]),
  component: z.enum(['policy', 'value', 'total']).default('policy'),
});

export const presetSchema = z.strictObject({
  name: partName.describe('preset name; the default output folder is results/reproduce-<name>'),
  description: z.string().optional(),
  sweeps: z.array(z.string().min(1)).default([]).describe('sweep files, relative to the preset file'),
  criticalBatch: z.array(criticalBatchEntrySchema).default([]).describe('critical-batch experiments'),
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

function readJsonFile(file: string, where: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(where, file, 'cannot read file');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(where, file, `not valid JSON: ${(error as Error).message}`);
  }
}

function parsePreset(raw: unknown, file: string): PresetFile {
  const result = presetSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let at = issue.path.map(String);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      at = [...at, issue.keys[0]!];
      message = `unknown key '${issue.keys[0]}'`;
    } else if (issue.code === 'invalid_key') {
      message = issue.issues[0]?.message ?? message;
    }
    throw new ConfigError(`${display(file)}: ${at.join('.') || '(preset)'}`, valueAt(raw, at), message);
  }
  const preset = result.data;
  if (preset.sweeps.length + preset.criticalBatch.length === 0) {
    throw new ConfigError(`${display(file)}: sweeps`, preset.sweeps, 'a preset lists at least one sweep or critical-batch experiment');
  }
  return preset;
}

/** Read a preset file and expand every part (sweep files, configs), validating everything that needs no registry. */
export function loadPreset(file: string): ReproducePlan {
  const raw = readJsonFile(file, '--preset');
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
    const base = readJsonFile(configFile, `${where}.config`);
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
    const seeds = typeof entry.seeds === 'number' ? Array.from({ length: entry.seeds }, (_, k) => k + 1) : entry.seeds;
    let plan: SweepPlan;
    let targets: TargetSpec[];
    try {
      plan = planCriticalBatch({
        config,
        configDir: path.dirname(configFile),
        batchSizes: entry.batchSizes,
        seeds,
        scale: entry.scale,
        lrRule: entry.lrRule,
        ...(entry.lrNoiseScale !== undefined ? { lrNoiseScale: entry.lrNoiseScale } : {}),
        ...(entry.lrAlpha !== undefined ? { lrAlpha: entry.lrAlpha } : {}),
        lrMultipliers: entry.lrMultipliers,
        name: entry.name,
      });
      targets = parseTargets(entry.targets.map(String).join(','), `${where}.targets`);
    } catch (error) {
      if (error instanceof InputError && error.path.startsWith('--')) {
        const key = { '--batch-sizes': 'batchSizes', '--seeds': 'seeds', '--lr-rule': 'lrRule', '--lr-noise-scale': 'lrNoiseScale', '--lr-alpha': 'lrAlpha', '--lr-multipliers': 'lrMultipliers' }[error.path];
        throw new ConfigError(`${where}.${key ?? error.path}`, error.value, reasonOf(error));
      }
      throw error;
    }
    const whereOf = (configPath: string) => {
      const key = Object.keys(entry.set).find((k) => configPath === k || configPath.startsWith(`${k}.`));
      return key !== undefined ? `${where}.set.${key}${configPath.slice(key.length)}` : `${display(configFile)}: ${configPath}`;
    };
    parts.push({ kind: 'critical-batch', name: entry.name, source: `${path.resolve(file)}#criticalBatch.${i}`, plan, targets, component: entry.component, where: whereOf });
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
    const params = canonicalJson(resolveEnvParams(spec, config.env.level, config.env.params));
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

export const REPRODUCE_MANIFEST = 'reproduce.json';

/**
 * Whether `out` can take this preset: new, empty, or a reproduce folder of the same preset (then every part folder
 * must be new or hold that same part: checkOutDir). Nothing is written.
 */
export function checkReproduceDir(plan: ReproducePlan, out: string): 'new' | 'resume' {
  let mode: 'new' | 'resume' = 'new';
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new InvalidValueError('--out', out, 'exists and is not a folder');
    const manifestFile = path.join(out, REPRODUCE_MANIFEST);
    if (fs.existsSync(manifestFile)) {
      let old: Partial<ReproduceManifest>;
      try {
        old = readJson<Partial<ReproduceManifest>>(manifestFile);
      } catch {
        throw new InvalidValueError('--out', out, `holds an unreadable ${REPRODUCE_MANIFEST}; choose another folder`);
      }
      if (old.preset?.name !== plan.preset.name) {
        throw new InvalidValueError('--out', out, `holds the results of preset '${String(old.preset?.name)}'; choose another --out, or delete the folder to start over`);
      }
      mode = 'resume';
    } else if (fs.readdirSync(out).length > 0) {
      throw new InvalidValueError('--out', out, `folder holds files but no ${REPRODUCE_MANIFEST}; choose a new one`);
    }
  }
  for (const part of plan.parts) checkOutDir(part.plan, path.join(out, part.name), `--out (part ${part.name})`);
  return mode;
}

// ---------------------------------------------------------------------------------------------------------------
// Running

export interface ReproduceOptions {
  readonly out: string;
  readonly workers?: number;
  readonly progress?: ProgressMode;
  readonly stream?: NodeJS.WritableStream;
  /** Abort: stop the running part gracefully (runs end `interrupted`), start no further part. */
  readonly signal?: AbortSignal;
  readonly killSignal?: AbortSignal;
  /** Run in this process with this function (tests). */
  readonly runOne?: RunOne;
  readonly workerScript?: string;
  /** Called with DIR at the end (also after an interrupt): the report. */
  readonly onDone?: (dir: string) => unknown;
}

export type PartStatus = 'pending' | 'running' | 'completed' | 'interrupted' | 'failed' | 'not_started';

export interface PartRecord {
  readonly name: string;
  readonly kind: ReproducePart['kind'];
  readonly source: string;
  /** Folder relative to DIR. */
  readonly dir: string;
  readonly runs: number;
  /** Planned env steps over all runs. */
  readonly envSteps: number;
  status: PartStatus;
  /** Runs of the part completed so far (this and earlier invocations). */
  completed: number;
  /** Runs this invocation skipped because an earlier one completed them. */
  skipped: number;
  /** Runs that failed (or, in sweeps, diverged) in this invocation. */
  failed: number;
  /** Wall time spent on the part, summed over invocations. */
  wallS: number;
  startedAt: string | null;
  finishedAt: string | null;
  backends: string[];
  error?: string;
  findings?: unknown;
}

export interface ReproduceManifest {
  readonly preset: { name: string; file: string; description?: string; definition: PresetFile };
  readonly version: string;
  readonly createdAt: string;
  /** When this invocation started (createdAt: the first one). */
  readonly startedAt: string;
  updatedAt: string;
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  readonly workers: number;
  readonly machine: MachineInfo;
  readonly rules: Record<string, string>;
  readonly parts: PartRecord[];
  /** This invocation: runs (all parts) and report, in seconds. */
  timings: { totalS: number; reportS: number | null; runsS: number };
  /** Earlier invocations into the same folder (a resumed reproduction), oldest first. */
  history: InvocationRecord[];
}

export interface InvocationRecord {
  readonly startedAt: string;
  readonly status: ReproduceManifest['status'];
  readonly workers: number;
  readonly loadAverageAtStart: number[] | null;
  readonly timings: ReproduceManifest['timings'];
}

export interface ReproduceResult {
  readonly dir: string;
  readonly manifest: ReproduceManifest;
  readonly interrupted: boolean;
  /** Runs that ended failed (any part) or diverged (sweep parts; in critical-batch parts divergence is data). */
  readonly failedRuns: number;
}

/** Exit code: 130 after Ctrl-C, 1 when a run or a part failed, else 0. */
export function reproduceExitCode(result: ReproduceResult): number {
  if (result.interrupted) return 130;
  return result.failedRuns > 0 || result.manifest.parts.some((p) => p.status === 'failed') ? 1 : 0;
}

const PLAN_STEPS = (plan: SweepPlan) => plan.runs.reduce((sum, r) => sum + r.config.run.totalSteps, 0);

/** Run every part of a validated plan into `options.out` (call loadPreset, validateReproducePlan, checkReproduceDir first). */
export async function runReproduce(plan: ReproducePlan, options: ReproduceOptions): Promise<ReproduceResult> {
  const out = options.out;
  const stream = options.stream ?? process.stderr;
  const mode = options.progress ?? 'quiet';
  const say = (text: string) => {
    if (mode !== 'quiet') stream.write(mode === 'tty' ? `\r\x1b[2K${text}\n` : `${text}\n`);
  };
  const workers = options.workers ?? os.availableParallelism();
  fs.mkdirSync(out, { recursive: true });
  const manifestFile = path.join(out, REPRODUCE_MANIFEST);
  const startedAt = new Date().toISOString();
  let previous: Partial<ReproduceManifest> | null = null;
  if (fs.existsSync(manifestFile)) {
    try {
      previous = readJson<Partial<ReproduceManifest>>(manifestFile);
      if (previous.preset?.name !== plan.preset.name) previous = null;
    } catch {
      // rewritten below
    }
  }
  const createdAt = previous?.createdAt ?? startedAt;
  const history: InvocationRecord[] = previous
    ? [
        ...(previous.history ?? []),
        {
          startedAt: previous.startedAt ?? createdAt,
          status: previous.status ?? 'running',
          workers: previous.workers ?? 0,
          loadAverageAtStart: previous.machine?.loadAverage ?? null,
          timings: previous.timings ?? { totalS: 0, reportS: null, runsS: 0 },
        },
      ]
    : [];
  const previousWall = new Map((previous?.parts ?? []).map((p) => [p.name, p.wallS ?? 0]));
  const manifest: ReproduceManifest = {
    preset: { name: plan.preset.name, file: plan.file, ...(plan.preset.description ? { description: plan.preset.description } : {}), definition: plan.preset },
    version: packageVersion(),
    createdAt,
    startedAt,
    updatedAt: startedAt,
    status: 'running',
    workers,
    machine: machineInfo(),
    rules: {
      growth: 'B_simple over the last quarter of a run (by env steps) / over the first quarter; ratio of means (mean tr(Σ) / mean |G|²) over the measurements in each quarter; pooled over seeds',
      difficulty: `B_simple per level at matched progress: within each level (its seeds), target = min + ${MATCHED_FRACTION}·(max − min) of the return_mean its completed runs logged; per run, the ratio of means over the monitor.window measurements centred on the first update reaching it; pooled over seeds. Also the whole-run average (b_simple_mean).`,
      criticalBatch: 'see each critical-batch folder’s critical-batch.json (rules)',
      component: 'findings here are for the policy gradient; the report and sweep-groups.csv give value and total too',
    },
    parts: plan.parts.map((part) => ({
      name: part.name,
      kind: part.kind,
      source: display(part.source),
      dir: part.name,
      runs: part.plan.runs.length,
      envSteps: PLAN_STEPS(part.plan),
      status: 'pending',
      completed: 0,
      skipped: 0,
      failed: 0,
      wallS: previousWall.get(part.name) ?? 0,
      startedAt: null,
      finishedAt: null,
      backends: [],
    })),
    timings: { totalS: 0, reportS: null, runsS: 0 },
    history,
  };
  const t0 = performance.now();
  const save = () => {
    manifest.updatedAt = new Date().toISOString();
    manifest.timings.totalS = round((performance.now() - t0) / 1000);
    writeJsonAtomic(manifestFile, manifest);
  };
  save();

  const totalRuns = plan.parts.reduce((n, p) => n + p.plan.runs.length, 0);
  const totalSteps = plan.parts.reduce((n, p) => n + PLAN_STEPS(p.plan), 0);
  say(`reproduce ${plan.preset.name}: ${plan.parts.length} parts, ${totalRuns} runs, ${formatSteps(totalSteps)} env steps, ${workers} worker${workers === 1 ? '' : 's'}; results in ${out}`);

  let interrupted = false;
  let failedRuns = 0;
  let doneRuns = 0;
  let doneSteps = 0;
  let stepsRunHere = 0;
  for (const [index, part] of plan.parts.entries()) {
    const record = manifest.parts[index]!;
    if (options.signal?.aborted) {
      interrupted = true;
      record.status = 'not_started';
      continue;
    }
    const dir = path.join(out, part.name);
    say(`reproduce ${plan.preset.name}: part ${index + 1}/${plan.parts.length}, ${part.kind} ${part.name} (${part.plan.runs.length} runs)`);
    record.status = 'running';
    record.startedAt = new Date().toISOString();
    save();
    const tPart = performance.now();
    let result: SweepResult | null = null;
    try {
      result = await runSweep(part.plan, {
        out: dir,
        workers,
        progress: mode,
        stream,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.killSignal ? { killSignal: options.killSignal } : {}),
        ...(options.runOne ? { runOne: options.runOne } : {}),
        ...(options.workerScript ? { workerScript: options.workerScript } : {}),
      });
      if (part.kind === 'critical-batch') {
        const analysis = analyzeCriticalBatch(dir, { ...(part.targets ? { targets: part.targets } : {}), ...(part.component ? { component: part.component } : {}) });
        record.findings = criticalFindings(analysis);
      } else {
        record.findings = sweepFindings(dir);
      }
    } catch (error) {
      record.error = (error as Error).message;
    }
    record.wallS = round(record.wallS + (performance.now() - tPart) / 1000);
    record.finishedAt = new Date().toISOString();
    record.backends = backendsOf(part.plan, dir);
    if (result) {
      record.completed = part.plan.runs.filter((r) => readRunSummary(runDirOf(dir, r.id))?.status === 'completed').length;
      record.skipped = result.skipped;
      // In a critical-batch experiment a diverged run is data (that lr does not suit that batch size).
      const failed = part.kind === 'critical-batch' ? result.records.filter((r) => r.status === 'failed').length : result.failed;
      record.failed = failed;
      failedRuns += failed;
      if (result.interrupted) interrupted = true;
      const finished = result.records.filter((r) => r.status !== 'interrupted');
      doneRuns += finished.length;
      for (const r of result.records) {
        if (r.status === 'interrupted') continue;
        const steps = part.plan.runs.find((p) => p.id === r.id)?.config.run.totalSteps ?? 0;
        doneSteps += steps;
        if (r.status !== 'skipped') stepsRunHere += steps;
      }
    }
    record.status = record.error !== undefined ? 'failed' : result?.interrupted ? 'interrupted' : 'completed';
    manifest.timings.runsS = round((performance.now() - t0) / 1000);
    save();
    if (record.error !== undefined) say(`reproduce ${plan.preset.name}: part ${part.name} failed: ${record.error}`);
    const elapsed = (performance.now() - t0) / 1000;
    const eta = stepsRunHere > 0 && doneSteps < totalSteps ? ((totalSteps - doneSteps) / stepsRunHere) * elapsed : 0;
    say(
      `reproduce ${plan.preset.name}: ${index + 1}/${plan.parts.length} parts done, ${doneRuns}/${totalRuns} runs, ` +
        `${Math.round((100 * doneSteps) / Math.max(1, totalSteps))}% of env steps, elapsed ${formatDuration(elapsed)}` +
        (doneSteps < totalSteps && !interrupted ? `, eta ~${formatDuration(eta)}` : ''),
    );
    if (mode !== 'quiet' && record.findings) stream.write(formatPartFindings(part, record.findings));
  }

  manifest.status = interrupted ? 'interrupted' : failedRuns > 0 || manifest.parts.some((p) => p.status === 'failed') ? 'failed' : 'completed';
  save();
  if (options.onDone) {
    const tReport = performance.now();
    await options.onDone(out);
    manifest.timings.reportS = round((performance.now() - tReport) / 1000);
    save();
  }
  say(`reproduce ${plan.preset.name}: ${manifest.status} in ${formatDuration(manifest.timings.totalS)} (runs ${formatDuration(manifest.timings.runsS)}${manifest.timings.reportS !== null ? `, report ${formatDuration(manifest.timings.reportS)}` : ''}); results in ${out}`);
  return { dir: out, manifest, interrupted, failedRuns };
}

function backendsOf(plan: SweepPlan, dir: string): string[] {
  const names = new Set<string>();
  for (const run of plan.runs) {
    const summary = readRunSummary(runDirOf(dir, run.id));
    if (summary && summary.backend !== 'unknown') names.add(`${summary.backend}${summary.gpu ? ' (GPU)' : ''}`);
  }
  return [...names];
}

// ---------------------------------------------------------------------------------------------------------------
// Findings (a compact copy of each part's own aggregate files; the records and their text live in
// analysis/findings-parts.ts and analysis/findings-format.ts, which the report uses too)

export type { LevelFinding } from '../analysis/findings-parts.js';

/** Per group (level) of a sweep, from its sweep-summary.json: policy-gradient B_simple figures and returns. */
export function sweepFindings(dir: string, component: NoiseComponent = 'policy'): SweepPartFindings {
  const file = path.join(dir, 'sweep-summary.json');
  // sweep-summary.json's groups are sweep-groups.csv's rows (sweep-results.ts groupCsvColumns), non-finite as null.
  const summary = fs.existsSync(file) ? readJson<{ groups?: Record<string, unknown>[] }>(file) : {};
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const figure = (g: Record<string, unknown>, name: string): FigureJson => ({
    value: num(g[`${name}_${component}`]),
    lo: num(g[`${name}_${component}_lo`]),
    hi: num(g[`${name}_${component}_hi`]),
  });
  const groups = (summary.groups ?? []).map((g) => ({
    group: String(g['group']),
    level: num(g['env.level']),
    runs: num(g['runs']) ?? 0,
    completed: num(g['completed']) ?? 0,
    returnFinal: num(g['return_mean_final']),
    returnBest: num(g['return_mean_best']),
    matchedTarget: num(g['matched_target']),
    matchedReached: num(g['matched_reached']),
    bSimpleMean: figure(g, 'b_simple_mean'),
    bSimpleMatched: figure(g, 'b_simple_matched'),
    growth: figure(g, 'growth'),
  }));
  return { component, groups };
}

export function criticalFindings(result: CriticalBatchResult): CriticalPartFindings {
  return {
    component: result.component,
    returnRange: result.returnRange,
    targets: result.targets.map((t) => ({
      target: t.spec.label,
      return: toJsonNumber(t.target),
      regime: t.regime,
      batchSizesReached: t.points.length,
      bCrit: figureJson(t.bCrit),
      bSimple: figureJson(t.bSimple),
    })),
    runsLeftOut: result.runsLeftOut.length,
  };
}

/** `findings` is what sweepFindings or criticalFindings gave for this part. */
function formatPartFindings(part: ReproducePart, findings: unknown): string {
  return part.kind === 'sweep' ? formatSweepPartFindings(part.name, findings as SweepPartFindings) : formatCriticalPartFindings(part.name, findings as CriticalPartFindings);
}

function formatSteps(steps: number): string {
  return steps >= 1e6 ? `${(steps / 1e6).toFixed(2)}M` : steps >= 1e3 ? `${(steps / 1e3).toFixed(0)}k` : String(steps);
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** A path as shown to the user: relative to the working folder when inside it. */
function display(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

