/**
 * A run's checkpoint, `checkpoint.json` in its folder: everything `gradnoise train --resume` needs to continue a
 * killed or interrupted run exactly (state-codec.ts holds how the live objects are stored). Written every
 * `run.checkpointEvery` updates and when a run is interrupted, atomically: temp file, fsync, rename, fsync of the
 * folder, so a `kill -9` at any moment, mid-checkpoint included, leaves the previous checkpoint intact. Removed when
 * the run completes.
 *
 * The file records the gradnoise version and the resolved config it belongs to, the backend, the loop's counters,
 * how many bytes and rows each CSV log held (resuming cuts them back to that, dropping rows written after the
 * checkpoint and any torn last line) and the snapshot of env, agent and monitor.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../config/schema.js';
import { InvalidValueError, onFile } from '../core/errors.js';
import { packageVersion } from '../core/package-root.js';
import { attempt } from './csv.js';
import { RUN_FILES, type RunFolderConfig, type RunSummary } from './run-folder.js';
import type { Encoded } from './state-codec.js';

export const CHECKPOINT_FILE = 'checkpoint.json';
// 2: on wasm and cpu the optimizer's state is typed arrays (FlatOptimizer's host placement), not tensors.
const FORMAT = 'gradnoise-checkpoint/2';

/** The size of one CSV log at the checkpoint. */
export interface LogMark {
  readonly bytes: number;
  readonly rows: number;
}

export interface Checkpoint {
  readonly format: typeof FORMAT;
  readonly version: string;
  readonly writtenAt: string;
  /** The resolved config (config.json without `meta`). */
  readonly config: RunConfig;
  readonly backend: string;
  readonly update: number;
  readonly envSteps: number;
  /** Wall-clock seconds of training so far (wall_s continues from it). */
  readonly wallS: number;
  /** metrics.csv, noise.csv, ... by file name. */
  readonly logs: Record<string, LogMark>;
  /** The training loop's own state (episode window, counters). */
  readonly loop: Encoded;
  /** env, agent and monitor. */
  readonly state: Encoded;
}

export type CheckpointBody = Omit<Checkpoint, 'format' | 'version' | 'writtenAt'>;

/** Write `body` as the run's checkpoint, atomically and durably; returns the file's size in bytes. */
export function writeCheckpoint(dir: string, body: CheckpointBody): number {
  const file = path.join(dir, CHECKPOINT_FILE);
  const checkpoint: Checkpoint = { format: FORMAT, version: packageVersion(), writtenAt: new Date().toISOString(), ...body };
  const text = JSON.stringify(checkpoint);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    onFile(file, () => {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, file);
      syncFolder(dir);
    });
  } catch (error) {
    attempt(() => fs.rmSync(tmp, { force: true }));
    throw error;
  }
  return Buffer.byteLength(text);
}

/** fsync a folder so a rename in it survives a crash (not every platform can open folders: then skip). */
function syncFolder(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort (Windows cannot fsync a folder)
  } finally {
    if (fd !== null) attempt(() => fs.closeSync(fd!));
  }
}

export function removeCheckpoint(dir: string): void {
  onFile(path.join(dir, CHECKPOINT_FILE), () => fs.rmSync(path.join(dir, CHECKPOINT_FILE), { force: true }));
}

/** Temp files of a killed process (`NAME.tmp-PID`): a checkpoint or summary it was writing. */
export function removeStaleTempFiles(dir: string): void {
  for (const name of fs.readdirSync(dir)) if (/\.tmp-\d+$/.test(name)) attempt(() => fs.rmSync(path.join(dir, name), { force: true }));
}

/** JSON with sorted keys, for comparing configs. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function sameConfig(a: RunConfig, b: RunConfig): boolean {
  return canonical(a) === canonical(b);
}

/** The resolved config without config.json's `meta`. */
export function withoutMeta(config: RunFolderConfig): RunConfig {
  const { meta: _meta, ...rest } = config;
  return rest as RunConfig;
}

/**
 * The checkpoint in `dir`, checked against the config it must belong to; null when there is none. A checkpoint from
 * another gradnoise version or for another config is refused (InvalidValueError, exit 2); so is an unreadable one.
 */
export function readCheckpoint(dir: string, config: RunConfig, argPath = '--resume'): Checkpoint | null {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) return null;
  let checkpoint: Checkpoint;
  try {
    checkpoint = JSON.parse(fs.readFileSync(file, 'utf8')) as Checkpoint;
  } catch (error) {
    throw new InvalidValueError(argPath, dir, `${CHECKPOINT_FILE} is unreadable (${(error as Error).message.slice(0, 120)})`);
  }
  if (checkpoint?.format !== FORMAT) throw new InvalidValueError(argPath, dir, `${CHECKPOINT_FILE} is not a checkpoint this gradnoise can resume (format ${String(checkpoint?.format).slice(0, 40)}; it reads ${FORMAT}); rerun`);
  if (checkpoint.version !== packageVersion()) {
    throw new InvalidValueError(argPath, dir, `${CHECKPOINT_FILE} was written by gradnoise ${checkpoint.version}, this is ${packageVersion()}; resume it with that version or rerun`);
  }
  if (!sameConfig(checkpoint.config, config)) throw new InvalidValueError(argPath, dir, `${CHECKPOINT_FILE} belongs to another config than ${RUN_FILES.config}`);
  return checkpoint;
}

/**
 * Cut each CSV log back to its size at the checkpoint (rows written after it, and a torn last line, go). A log
 * shorter than the checkpoint says, or missing though rows were written, means the folder was changed: refused.
 */
export function truncateLogs(dir: string, logs: Record<string, LogMark>, argPath = '--resume'): void {
  for (const [name, mark] of Object.entries(logs)) {
    const file = path.join(dir, name);
    const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
    if (size < mark.bytes) throw new InvalidValueError(argPath, dir, `${name} holds ${size} bytes, fewer than the ${mark.bytes} of the checkpoint; the folder was changed`);
    if (size > mark.bytes) onFile(file, () => (mark.bytes === 0 ? fs.rmSync(file) : fs.truncateSync(file, mark.bytes)));
  }
}

/** What a folder to resume holds, checked: the resolved config and how it ran, and its summary if any. */
export interface ResumableFolder {
  readonly config: RunConfig;
  readonly folderConfig: RunFolderConfig;
  readonly summary: RunSummary | null;
}

/**
 * Refuse (InvalidValueError, exit 2) what `--resume DIR` cannot continue, writing nothing: no such folder, not a
 * run folder (no readable config.json), a run already complete.
 */
export function checkResumable(dir: string, argPath = '--resume'): ResumableFolder {
  if (!fs.existsSync(dir)) throw new InvalidValueError(argPath, dir, 'no such folder');
  if (!fs.statSync(dir).isDirectory()) throw new InvalidValueError(argPath, dir, 'is not a folder');
  const configFile = path.join(dir, RUN_FILES.config);
  let folderConfig: RunFolderConfig;
  try {
    folderConfig = JSON.parse(fs.readFileSync(configFile, 'utf8')) as RunFolderConfig;
  } catch {
    throw new InvalidValueError(argPath, dir, `is not a run folder (no readable ${RUN_FILES.config})`);
  }
  if (folderConfig === null || typeof folderConfig !== 'object' || !folderConfig.meta || folderConfig.meta.package !== 'gradnoise') {
    throw new InvalidValueError(argPath, dir, `is not a run folder (${RUN_FILES.config} has no gradnoise meta block)`);
  }
  let summary: RunSummary | null = null;
  try {
    summary = JSON.parse(fs.readFileSync(path.join(dir, RUN_FILES.summary), 'utf8')) as RunSummary;
  } catch {
    summary = null;
  }
  if (summary?.status === 'completed') throw new InvalidValueError(argPath, dir, 'the run is already complete (summary.json says completed); nothing to resume');
  return { config: withoutMeta(folderConfig), folderConfig, summary };
}

/**
 * Whether `dir` holds a checkpoint that `train(config, {resume: true})` continues: what a sweep rerun into its folder
 * asks before it clears an unfinished run (one from another version or config starts over instead).
 */
export function hasUsableCheckpoint(dir: string, config: RunConfig): boolean {
  try {
    return readCheckpoint(dir, config) !== null;
  } catch {
    return false;
  }
}
