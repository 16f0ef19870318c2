/**
 * `gradnoise sweep finish DIR`: the end of a sweep, critical-batch experiment or reproduction whose runs ran
 * elsewhere (the dependent job of a detached Slurm submission runs it once every task has ended): the aggregate
 * files from the run folders, the critical-batch analysis, the reproduction's findings, then the report.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TargetSpec } from '../analysis/critical-batch-fit.js';
import type { NoiseComponent } from '../core/components.js';
import type { ProgressMode } from '../run/progress.js';
import { readJson } from '../run/run-folder.js';
import { analyzeCriticalBatch, type CriticalBatchResult } from './critical-batch.js';
import { finishReproduce, REPRODUCE_MANIFEST, type ReproduceManifest } from './reproduce.js';
import { loadPreset } from './reproduce-preset.js';
import { readManifest, readRunSummary, runDirOf } from './sweep/folder.js';
import { acquireLock } from './sweep/lock.js';
import { SweepAggregator } from './sweep/results.js';

export interface FinishOptions {
  /** Critical-batch folders: the analysis settings (defaults as in `critical-batch`). */
  readonly targets?: readonly TargetSpec[];
  readonly component?: NoiseComponent;
  readonly progress?: ProgressMode;
  readonly stream?: NodeJS.WritableStream;
  /** The report, drawn last. */
  readonly onDone?: (dir: string) => unknown;
}

export interface FinishResult {
  readonly kind: 'sweep' | 'critical-batch' | 'reproduce';
  /** Runs by status (`pending` for those without a summary.json), over every part of a reproduction. */
  readonly counts: Readonly<Record<string, number>>;
  readonly critical?: CriticalBatchResult;
}

function countStatuses(dir: string, runs: readonly { id: string }[], counts: Record<string, number>): void {
  for (const run of runs) {
    const status = readRunSummary(runDirOf(dir, run.id))?.status ?? 'pending';
    counts[status] = (counts[status] ?? 0) + 1;
  }
}

export async function finishFolder(dir: string, options: FinishOptions = {}): Promise<FinishResult> {
  if (fs.existsSync(path.join(dir, REPRODUCE_MANIFEST))) {
    const manifest = readJson<ReproduceManifest>(path.join(dir, REPRODUCE_MANIFEST));
    const plan = loadPreset(manifest.preset.file);
    await finishReproduce(plan, dir, options);
    const counts: Record<string, number> = {};
    for (const part of plan.parts) countStatuses(path.join(dir, part.name), part.plan.runs, counts);
    return { kind: 'reproduce', counts };
  }
  const manifest = readManifest(dir);
  const release = acquireLock(dir, 'DIR');
  let critical: CriticalBatchResult | undefined;
  try {
    new SweepAggregator(manifest, dir).write();
    if (manifest.kind === 'critical-batch') {
      critical = analyzeCriticalBatch(dir, { ...(options.targets ? { targets: options.targets } : {}), ...(options.component ? { component: options.component } : {}) });
    }
  } finally {
    release();
  }
  await options.onDone?.(dir);
  const counts: Record<string, number> = {};
  countStatuses(dir, manifest.runs, counts);
  return { kind: manifest.kind, counts, ...(critical ? { critical } : {}) };
}
