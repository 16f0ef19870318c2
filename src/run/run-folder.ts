/**
 * A run's folder, written and read in one place: `config.json` (the resolved config plus `meta`), `metrics.csv` and
 * `noise.csv` (appended row by row, so a killed run keeps everything up to its last update) and `summary.json`. JSON
 * files are written atomically (temp file + rename), so no reader ever sees half a file. Readers use the writers'
 * types. OS errors (full disk, `--out` under a file, a read-only folder) become one-line `FileSystemError`s.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../config/schema.js';
import { InvalidValueError, onFile } from '../core/errors.js';
import type { NoiseSummary } from '../monitor/monitor.js';
import { attempt, readCsvIfExists, writeFileAtomic, type CsvReadOptions, type CsvTable } from './csv.js';
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
  /** With `run.stopAtReturn`: the target, and where the post-update return first reached it (the run stopped there). */
  target?: { return: number; episodes: number; reached: { update: number; envSteps: number; returnMean: number } | null };
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
  /** Where relative paths in the config (env.module) were resolved; a resumed run resolves them there again. */
  configDir?: string;
}

/** `config.json`: the resolved config the run used, and how it ran. */
export type RunFolderConfig = RunConfig & { meta?: RunMeta };

export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.csv',
  noise: 'noise.csv',
  summary: 'summary.json',
} as const;

function jsonText(value: unknown, indent = 2): string {
  return `${JSON.stringify(value, jsonReplacer, indent)}\n`;
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, jsonText(value));
}

/** Space set aside for summary.json: a summary takes 5–15 KB (noise figures per component and window). */
const SUMMARY_RESERVE_BYTES = 32 * 1024;

/**
 * A JSON file whose disk space is taken when the run starts, so that a run that fills the disk can still write how
 * it ended. The space is the temp file of an atomic write: `write` fills it in place (no new blocks on a full disk),
 * cuts it to length and renames it over `file`. A process killed before `write` leaves the temp file behind.
 */
export class ReservedJsonFile {
  private readonly tmp: string;
  constructor(
    readonly file: string,
    private readonly bytes = SUMMARY_RESERVE_BYTES,
  ) {
    this.tmp = `${file}.tmp-${process.pid}`;
    onFile(this.tmp, () => fs.writeFileSync(this.tmp, Buffer.alloc(bytes, 0x20)));
  }

  write(value: unknown): void {
    let text = jsonText(value);
    // Indentation is a luxury: drop it rather than need space beyond the reserve.
    if (Buffer.byteLength(text) > this.bytes) text = jsonText(value, 0);
    try {
      onFile(this.file, () => {
        const fd = fs.openSync(this.tmp, 'r+');
        try {
          fs.writeSync(fd, text, 0);
          fs.ftruncateSync(fd, Buffer.byteLength(text));
        } finally {
          fs.closeSync(fd);
        }
        fs.renameSync(this.tmp, this.file);
      });
    } catch (error) {
      attempt(() => fs.rmSync(this.tmp, { force: true }));
      throw error;
    }
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Create an empty run folder; refuse one that already holds files (never overwrite results). */
export function createRunFolder(dir: string, argPath = '--out'): void {
  onFile(dir, () => {
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) throw new InvalidValueError(argPath, dir, 'exists and is not a folder');
      if (fs.readdirSync(dir).length > 0) throw new InvalidValueError(argPath, dir, 'folder already holds files; choose a new one');
    }
    makeFolders(dir);
  });
}

/** `mkdir -p` one level at a time: Node's recursive mkdir says ENOENT where the OS said EROFS or EACCES. */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !fs.existsSync(at) && at !== path.dirname(at); at = path.dirname(at)) missing.push(at);
  for (const folder of missing.reverse()) fs.mkdirSync(folder);
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

/** What `readRunFolder` keeps of the logs: a reader that needs a few of their columns says which. */
export interface RunFolderReadOptions {
  readonly metrics?: CsvReadOptions;
  readonly noise?: CsvReadOptions;
}

export function readRunFolder(dir: string, options: RunFolderReadOptions = {}): RunFolder {
  return {
    dir,
    config: readJsonIfExists<RunFolderConfig>(path.join(dir, RUN_FILES.config)),
    summary: readJsonIfExists<RunSummary>(path.join(dir, RUN_FILES.summary)),
    metrics: readCsvIfExists(path.join(dir, RUN_FILES.metrics), options.metrics),
    noise: readCsvIfExists(path.join(dir, RUN_FILES.noise), options.noise),
  };
}
