/**
 * A run's folder, written and read in one place: `config.json` (the resolved config plus `meta`), `metrics.csv` and
 * `noise.csv` (appended row by row, so a killed run keeps everything up to its last update) and `summary.json`. JSON
 * files are written atomically (temp file + rename), so no reader ever sees half a file. Readers use the writers'
 * types.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../config/schema.js';
import { InvalidValueError } from '../core/errors.js';
import type { NoiseSummary } from '../monitor/monitor.js';
import { readCsvIfExists, type CsvTable } from './csv.js';
import type { WebGpuAdapter } from './webgpu.js';

export type RunStatus = 'completed' | 'interrupted' | 'diverged' | 'failed';

/** `summary.json`. */
export interface RunSummary {
  status: RunStatus;
  error?: string;
  envId: string;
  algo: string;
  seed: number;
  backend: string;
  gpu: boolean;
  updates: number;
  envSteps: number;
  episodes: number;
  wallS: number;
  returnMean: number | null;
  returnBest: number | null;
  noise?: NoiseSummary;
}

/** The `meta` block the trainer adds to `config.json`. */
export interface RunMeta {
  package: string;
  version: string;
  backend: string;
  backendRequested: string;
  gpu: boolean;
  tfjs: string;
  /** The WebGPU adapter, on the webgpu backend. */
  adapter?: WebGpuAdapter;
  node: string;
  startedAt: string;
}

/** `config.json`: the resolved config the run used, and how it ran. */
export type RunFolderConfig = RunConfig & { meta?: RunMeta };

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.csv',
  noise: 'noise.csv',
  summary: 'summary.json',
} as const;

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, jsonReplacer, 2)}\n`);
  fs.renameSync(tmp, file);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Create an empty run folder; refuse one that already holds files (never overwrite results). */
export function createRunFolder(dir: string, argPath = '--out'): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new InvalidValueError(argPath, dir, 'exists and is not a folder');
    if (fs.readdirSync(dir).length > 0) throw new InvalidValueError(argPath, dir, 'folder already holds files; choose a new one');
  }
  fs.mkdirSync(dir, { recursive: true });
}

/** `env__algo__seed__time`, CleanRL-style, with a filesystem-safe timestamp. */
export function defaultRunName(envId: string, algo: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${envId}__${algo}__${seed}__${stamp}`;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}


function readJsonIfExists<T>(file: string): T | null {
  try {
    return readJson<T>(file);
  } catch {
    return null;
  }
}

/** What a run folder holds; each part is null while the file is missing (a run not started, or killed early). */
export interface RunFolder {
  dir: string;
  config: RunFolderConfig | null;
  summary: RunSummary | null;
  metrics: CsvTable | null;
  /** noise.csv as written: component rows and, with `monitor.perLayer`, per-layer rows. */
  noise: CsvTable | null;
}

export function readRunFolder(dir: string): RunFolder {
  return {
    dir,
    config: readJsonIfExists<RunFolderConfig>(path.join(dir, RUN_FILES.config)),
    summary: readJsonIfExists<RunSummary>(path.join(dir, RUN_FILES.summary)),
    metrics: readCsvIfExists(path.join(dir, RUN_FILES.metrics)),
    noise: readCsvIfExists(path.join(dir, RUN_FILES.noise)),
  };
}
