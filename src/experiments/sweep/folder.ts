/**
 * A sweep's output folder: `sweep.json` (definition and expanded run list), `runs/<id>/` (one run folder each),
 * `logs/<id>.log` (the worker's output during that run), the aggregate files (results.ts) and, while a sweep runs,
 * `sweep.lock` (lock.ts). Re-running the same sweep into the same folder skips runs whose summary.json says
 * `completed`, continues runs that have a checkpoint.json (train --resume) and reruns the rest from scratch; a folder
 * holding a different sweep is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../config/schema.js';
import { InvalidValueError } from '../../core/errors.js';
import { packageVersion } from '../../core/package-root.js';
import { readJson, writeJsonAtomic, type RunStatus, type RunSummary } from '../../run/run-folder.js';
import { canonicalJson } from './ids.js';
import { checkUnlocked } from './lock.js';
import type { SweepPlan } from './plan.js';
import type { RunOutcome } from './worker.js';

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
  checkUnlocked(out, argPath);
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

/** A sweep folder's sweep.json; InvalidValueError (exit 2) when `dir` holds none. */
export function readManifest(dir: string, argPath = 'DIR'): SweepManifest {
  const file = path.join(dir, SWEEP_MANIFEST);
  if (!fs.existsSync(file)) throw new InvalidValueError(argPath, dir, `no ${SWEEP_MANIFEST} here; not a sweep or critical-batch folder`);
  try {
    return readJson<SweepManifest>(file);
  } catch {
    throw new InvalidValueError(argPath, dir, `holds an unreadable ${SWEEP_MANIFEST}`);
  }
}

export function runDirOf(out: string, id: string): string {
  return path.join(out, 'runs', id);
}

export function logFileOf(out: string, id: string): string {
  return path.join(out, 'logs', `${id}.log`);
}

/** The summary.json of a run folder, or null when missing or unreadable. */
export function readRunSummary(runDir: string): RunSummary | null {
  try {
    return readJson<RunSummary>(path.join(runDir, 'summary.json'));
  } catch {
    return null;
  }
}

/** Make `runs/` and `logs/` and (re)write sweep.json, keeping the first invocation's createdAt. */
export function writeManifest(plan: SweepPlan, out: string): void {
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  fs.mkdirSync(path.join(out, 'logs'), { recursive: true });
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

/** Clear a run's folder and log so it starts from scratch. */
export function clearRun(out: string, id: string): void {
  fs.rmSync(runDirOf(out, id), { recursive: true, force: true });
  fs.rmSync(logFileOf(out, id), { force: true });
}

/**
 * Every run folder ends with a summary.json: when the run could not write one (its worker crashed, or it failed
 * before its folder existed) the sweep writes a minimal one with the outcome.
 */
export function ensureSummary(runDir: string, config: RunConfig, outcome: RunOutcome): RunSummary {
  const existing = readRunSummary(runDir);
  if (existing) return existing;
  fs.mkdirSync(runDir, { recursive: true });
  const status: RunStatus = outcome.status === 'completed' ? 'failed' : outcome.status;
  const error = outcome.status === 'completed' ? 'the run reported completion but wrote no summary.json' : (outcome.error ?? `run ${outcome.status}`);
  const summary: RunSummary = {
    status,
    error,
    envId: config.env.id,
    algo: config.agent.algo,
    seed: config.run.seed,
    backend: 'unknown',
    gpu: false,
    updates: 0,
    envSteps: 0,
    episodes: 0,
    wallS: 0,
    returnMean: null,
    returnBest: null,
  };
  writeJsonAtomic(path.join(runDir, 'summary.json'), summary);
  return summary;
}
