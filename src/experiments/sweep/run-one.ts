/**
 * One run of a sweep folder, in this process: what a Slurm array task does (`gradnoise sweep run-one DIR --id ID`).
 * The run's config comes from the folder's sweep.json, so the task needs nothing but the folder. A run already
 * completed is left alone (a resubmitted job script skips it); one with a checkpoint continues from it; anything else
 * in its folder is cleared and the run starts from the beginning. Every outcome ends in a summary.json, as with local workers.
 */
import fs from 'node:fs';
import { parseConfig } from '../../config/load.js';
import { GradnoiseError, InvalidValueError } from '../../core/errors.js';
import type { ProgressMode } from '../../run/progress.js';
import { hasUsableCheckpoint } from '../../run/checkpoint.js';
import { train } from '../../run/trainer.js';
import { ensureSummary, readManifest, readRunSummary, runDirOf } from './folder.js';
import type { RunOutcome } from './worker.js';

export interface RunOneRequest {
  readonly dir: string;
  /** The run's id, or its position in sweep.json's run list. */
  readonly id?: string;
  readonly index?: number;
  readonly progress?: ProgressMode;
  readonly signal?: AbortSignal;
}

export interface RunOneResult extends RunOutcome {
  readonly id: string;
  /** It was completed already; nothing ran. */
  readonly skipped: boolean;
}

/** Which run a request names; InvalidValueError (exit 2) for an unknown id or index. */
function pick(request: RunOneRequest) {
  const manifest = readManifest(request.dir);
  if (request.index !== undefined) {
    const run = manifest.runs[request.index];
    if (!run) throw new InvalidValueError('--index', request.index, `expected 0..${manifest.runs.length - 1} (sweep.json lists ${manifest.runs.length} runs)`);
    return { manifest, run };
  }
  const run = manifest.runs.find((r) => r.id === request.id);
  if (!run) {
    const known = manifest.runs.slice(0, 5).map((r) => r.id).join(', ');
    throw new InvalidValueError('--id', request.id, `no such run in ${request.dir}/sweep.json (its runs: ${known}${manifest.runs.length > 5 ? ', ...' : ''})`);
  }
  return { manifest, run };
}

export async function runOneInFolder(request: RunOneRequest): Promise<RunOneResult> {
  const { manifest, run } = pick(request);
  const runDir = runDirOf(request.dir, run.id);
  if (readRunSummary(runDir)?.status === 'completed') return { id: run.id, status: 'completed', skipped: true };
  // A run killed by a time limit with a checkpoint in its folder continues from it (as `gradnoise train --resume`
  // does); anything else in the folder is cleared and the run starts from the beginning.
  const config = parseConfig(run.config);
  if (!hasUsableCheckpoint(runDir, config)) fs.rmSync(runDir, { recursive: true, force: true });
  let outcome: RunOutcome;
  try {
    const summary = await train(config, {
      runDir,
      configDir: manifest.configDir,
      progress: request.progress ?? 'plain',
      resume: true,
      ...(request.signal ? { signal: request.signal } : { handleSignals: true }),
    });
    outcome = { status: summary.status, ...(summary.error !== undefined ? { error: summary.error } : {}) };
  } catch (error) {
    // Problems found before the run folder exists (a backend that does not load, an env module gone missing).
    outcome = { status: 'failed', error: error instanceof GradnoiseError ? error.message : ((error as Error).stack ?? String(error)) };
  }
  const summary = ensureSummary(runDir, config, outcome);
  return { id: run.id, status: summary.status, ...(summary.error !== undefined ? { error: summary.error } : {}), skipped: false };
}
