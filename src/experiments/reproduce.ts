/**
 * `gradnoise reproduce`: the paper's headline findings (docs/science.md, "The findings to reproduce") from ready-made
 * experiments, a preset's parts (reproduce-preset.ts) run one after another.
 *
 * The output folder DIR holds one normal sweep / critical-batch folder per part, `DIR/<part name>/` (each resumable:
 * rerunning the preset into DIR skips completed runs), and `DIR/reproduce.json`: the preset, every part with its run
 * counts, status and wall time, the machine, and the main figures of every part (see `ReproduceManifest`). The report
 * (`gradnoise report DIR`) draws every part and, across critical-batch parts, B_crit vs B_simple.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { analyzeCriticalBatch, type CriticalBatchResult } from './critical-batch.js';
import { runCriticalBatch } from './critical-batch-run.js';
import { InvalidValueError } from '../core/errors.js';
import type { NoiseComponent } from '../core/components.js';
import { formatDuration, type ProgressMode } from '../run/progress.js';
import { packageVersion } from '../core/package-root.js';
import { machineInfo, type MachineInfo } from '../run/machine.js';
import { readJson, writeJsonAtomic } from '../run/run-folder.js';
import type { PresetFile, ReproducePart, ReproducePlan } from './reproduce-preset.js';
import { submitFinishJob } from './slurm/executor.js';
import type { ExecutorChoice } from './slurm/options.js';
import { MATCHED_FRACTION, SweepAggregator } from './sweep/results.js';
import { checkOutDir, readManifest, readRunSummary, runDirOf, SWEEP_MANIFEST } from './sweep/folder.js';
import type { SweepPlan } from './sweep/plan.js';
import type { RunOne } from './sweep/pool.js';
import { runSweep, type SweepResult } from './sweep/run.js';
import { figureJson, toJsonNumber, type FigureJson } from '../analysis/findings.js';
import { formatCriticalPartFindings, formatSweepPartFindings } from '../analysis/findings-format.js';
import type { CriticalPartFindings, SweepPartFindings } from '../analysis/findings-parts.js';

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
  /** Where runs execute (default local workers). With Slurm every part is submitted at once. */
  readonly executor?: ExecutorChoice;
  /** Called with DIR at the end (also after an interrupt; not when detached): the report. */
  readonly onDone?: (dir: string) => unknown;
}

/** `submitted`: detached on Slurm; the finish job fills in the rest. */
export type PartStatus = 'pending' | 'running' | 'submitted' | 'completed' | 'interrupted' | 'failed' | 'not_started';

export interface PartRecord {
  readonly name: string;
  readonly kind: ReproducePart['kind'];
  readonly source: string;
  /** Folder relative to DIR. */
  readonly dir: string;
  /** Runs of the part: the planned ones, plus those a critical-batch part's lr-grid extensions added. */
  runs: number;
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
  /** Slurm: the part's array jobs. */
  jobs?: readonly string[];
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
  status: 'running' | 'submitted' | 'completed' | 'interrupted' | 'failed';
  readonly workers: number;
  /** Where the runs of this invocation executed. */
  readonly executor?: ExecutorChoice['executor'];
  /** Slurm, detached: the job that writes the findings and the report once every part's jobs have ended. */
  finishJob?: string;
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
  /** Slurm: the client returned after submitting. */
  readonly detached: boolean;
  /** Runs that ended failed (any part) or diverged (sweep parts; in critical-batch parts divergence is data). */
  readonly failedRuns: number;
}

/** Exit code: 130 after Ctrl-C, 1 when a run or a part failed, else 0. */
export function reproduceExitCode(result: ReproduceResult): number {
  if (result.interrupted) return 130;
  return result.failedRuns > 0 || result.manifest.parts.some((p) => p.status === 'failed') ? 1 : 0;
}

const PLAN_STEPS = (plan: SweepPlan) => plan.runs.reduce((sum, r) => sum + r.config.run.totalSteps, 0);

/** reproduce.json for a new invocation into `out` (an earlier one's figures kept in its history), and its saver. */
function openManifest(plan: ReproducePlan, out: string, workers: number, executor: ExecutorChoice['executor']) {
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
    executor,
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
  return { manifest, save, t0 };
}


/** A finished part's findings: its critical-batch analysis, or its sweep's groups. */
function partFindings(part: ReproducePart, dir: string): unknown {
  if (part.kind === 'sweep') return sweepFindings(dir);
  return criticalFindings(analyzeCriticalBatch(dir, { ...(part.targets ? { targets: part.targets } : {}), ...(part.component ? { component: part.component } : {}) }));
}

/** Runs of a part that count as failed: failed ones, and in sweeps diverged ones (in critical-batch parts divergence is data). */
function countsAsFailed(part: ReproducePart, status: string): boolean {
  return status === 'failed' || (part.kind === 'sweep' && status === 'diverged');
}

/**
 * Run every part of a validated plan into `options.out` (call loadPreset, validateReproducePlan, checkReproduceDir
 * first): one after another locally, all at once on Slurm (or, detached, submitted with a finish job).
 */
export async function runReproduce(plan: ReproducePlan, options: ReproduceOptions): Promise<ReproduceResult> {
  const out = options.out;
  const stream = options.stream ?? process.stderr;
  const executor = options.executor ?? { executor: 'local' };
  const slurm = executor.executor === 'slurm';
  const detach = executor.executor === 'slurm' && executor.detach;
  // Parts running side by side print their lines in turn; a live terminal line would garble.
  const mode = slurm && options.progress === 'tty' ? 'plain' : (options.progress ?? 'quiet');
  const say = (text: string) => {
    if (mode !== 'quiet') stream.write(mode === 'tty' ? `\r\x1b[2K${text}\n` : `${text}\n`);
  };
  const workers = options.workers ?? os.availableParallelism();
  const { manifest, save, t0 } = openManifest(plan, out, workers, executor.executor);

  const totalRuns = plan.parts.reduce((n, p) => n + p.plan.runs.length, 0);
  const totalSteps = plan.parts.reduce((n, p) => n + PLAN_STEPS(p.plan), 0);
  const where = slurm ? 'on Slurm' : `${workers} worker${workers === 1 ? '' : 's'}`;
  say(`reproduce ${plan.preset.name}: ${plan.parts.length} parts, ${totalRuns} runs, ${formatSteps(totalSteps)} env steps, ${where}; results in ${out}`);

  let interrupted = false;
  let failedRuns = 0;
  let doneParts = 0;
  let doneRuns = 0;
  let doneSteps = 0;
  let stepsRunHere = 0;
  // Runs the parts' lr-grid extensions added to the plan (this invocation), so that the count stays a count of runs.
  let addedRuns = 0;
  const runPart = async (index: number) => {
    const part = plan.parts[index]!;
    const record = manifest.parts[index]!;
    if (options.signal?.aborted) {
      interrupted = true;
      record.status = 'not_started';
      return;
    }
    const dir = path.join(out, part.name);
    say(`reproduce ${plan.preset.name}: part ${index + 1}/${plan.parts.length}, ${part.kind} ${part.name} (${part.plan.runs.length} runs)`);
    record.status = 'running';
    record.startedAt = new Date().toISOString();
    save();
    const tPart = performance.now();
    let result: SweepResult | null = null;
    try {
      const sweepOptions = {
        out: dir,
        workers,
        executor,
        // Detached, one finish job for the whole reproduction (below) does every part's aggregates.
        finishJob: false as const,
        progress: mode,
        stream,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.killSignal ? { killSignal: options.killSignal } : {}),
        ...(options.runOne ? { runOne: options.runOne } : {}),
        ...(options.workerScript ? { workerScript: options.workerScript } : {}),
      };
      // Critical-batch parts extend their lr grids where the best lr sits at an edge, as the command does.
      if (part.request) {
        const critical = await runCriticalBatch({
          request: part.request,
          sweep: sweepOptions,
          analysis: { ...(part.targets ? { targets: part.targets } : {}), ...(part.component ? { component: part.component } : {}) },
          ...(part.scoreRef !== undefined ? { scoreRef: part.scoreRef } : {}),
          say,
        });
        result = critical.sweep;
        addedRuns += Math.max(0, critical.runs - part.plan.runs.length);
        record.runs = Math.max(record.runs, critical.runs);
      } else result = await runSweep(part.plan, sweepOptions);
      if (!result.detached) record.findings = partFindings(part, dir);
    } catch (error) {
      record.error = (error as Error).message;
    }
    record.wallS = round(record.wallS + (performance.now() - tPart) / 1000);
    record.finishedAt = new Date().toISOString();
    record.backends = backendsOf(part.plan, dir);
    if (result) {
      if (result.jobs.length > 0) record.jobs = result.jobs;
      const ids = new Set([...part.plan.runs.map((r) => r.id), ...result.records.map((r) => r.id)]);
      record.completed = [...ids].filter((id) => readRunSummary(runDirOf(dir, id))?.status === 'completed').length;
      record.skipped = result.skipped;
      const failed = result.records.filter((r) => countsAsFailed(part, r.status)).length;
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
    record.status = record.error !== undefined ? 'failed' : result?.detached ? 'submitted' : result?.interrupted ? 'interrupted' : 'completed';
    manifest.timings.runsS = round((performance.now() - t0) / 1000);
    save();
    doneParts += 1;
    if (record.error !== undefined) say(`reproduce ${plan.preset.name}: part ${part.name} failed: ${record.error}`);
    if (result?.detached) return;
    const elapsed = (performance.now() - t0) / 1000;
    const eta = stepsRunHere > 0 && doneSteps < totalSteps ? ((totalSteps - doneSteps) / stepsRunHere) * elapsed : 0;
    say(
      `reproduce ${plan.preset.name}: ${doneParts}/${plan.parts.length} parts done, ${doneRuns}/${totalRuns + addedRuns} runs` +
        (addedRuns > 0 ? ` (${addedRuns} added by lr-grid extensions)` : '') +
        ', ' +
        `${Math.round((100 * doneSteps) / Math.max(1, totalSteps))}% of env steps, elapsed ${formatDuration(elapsed)}` +
        (doneSteps < totalSteps && !interrupted ? `, eta ~${formatDuration(eta)}` : ''),
    );
    if (mode !== 'quiet' && record.findings) stream.write(formatPartFindings(part, record.findings));
  };
  if (slurm) await Promise.all(plan.parts.map((_, index) => runPart(index)));
  else for (let index = 0; index < plan.parts.length; index++) await runPart(index);

  const jobs = manifest.parts.flatMap((p) => (p.status === 'submitted' ? (p.jobs ?? []) : []));
  if (detach && jobs.length > 0) {
    manifest.status = manifest.parts.some((p) => p.status === 'failed') ? 'failed' : 'submitted';
    manifest.finishJob = await submitFinishJob({ name: `reproduce-${plan.preset.name}`, out, after: jobs, slurm: executor.slurm, args: [], say });
    save();
    say(`reproduce ${plan.preset.name}: detached; ${jobs.length} Slurm array job(s) run the parts${manifest.finishJob ? `, job ${manifest.finishJob} writes the findings and the report at the end` : ''}. Follow with: gradnoise sweep status ${out}`);
    return { dir: out, manifest, interrupted: false, detached: true, failedRuns };
  }
  return closeReproduce(plan, out, manifest, save, interrupted, failedRuns, { ...options, progress: mode });
}

/** Status of the whole reproduction, then the report (timed), then the closing line. */
async function closeReproduce(
  plan: ReproducePlan,
  out: string,
  manifest: ReproduceManifest,
  save: () => void,
  interrupted: boolean,
  failedRuns: number,
  options: Pick<ReproduceOptions, 'onDone' | 'progress' | 'stream'>,
): Promise<ReproduceResult> {
  manifest.status = interrupted ? 'interrupted' : failedRuns > 0 || manifest.parts.some((p) => p.status === 'failed') ? 'failed' : 'completed';
  save();
  if (options.onDone) {
    const tReport = performance.now();
    await options.onDone(out);
    manifest.timings.reportS = round((performance.now() - tReport) / 1000);
    save();
  }
  if ((options.progress ?? 'quiet') !== 'quiet') {
    (options.stream ?? process.stderr).write(
      `reproduce ${plan.preset.name}: ${manifest.status} in ${formatDuration(manifest.timings.totalS)} (runs ${formatDuration(manifest.timings.runsS)}${manifest.timings.reportS !== null ? `, report ${formatDuration(manifest.timings.reportS)}` : ''}); results in ${out}\n`,
    );
  }
  return { dir: out, manifest, interrupted, detached: false, failedRuns };
}

/**
 * The end of a detached reproduction, run by its finish job once every part's jobs have ended: each part's
 * aggregates and findings from its folder, reproduce.json's statuses and counts, and the report.
 */
export async function finishReproduce(plan: ReproducePlan, out: string, options: Pick<ReproduceOptions, 'onDone' | 'progress' | 'stream'> = {}): Promise<ReproduceResult> {
  const manifestFile = path.join(out, REPRODUCE_MANIFEST);
  const manifest = readJson<ReproduceManifest>(manifestFile);
  const t0 = performance.now();
  const totalBefore = manifest.timings.totalS;
  const save = () => {
    manifest.updatedAt = new Date().toISOString();
    manifest.timings.totalS = round(totalBefore + (performance.now() - t0) / 1000);
    writeJsonAtomic(manifestFile, manifest);
  };
  // The runs ran out of this process's sight: from submission to now.
  manifest.timings.runsS = round((Date.now() - Date.parse(manifest.startedAt)) / 1000);
  let failedRuns = 0;
  let interrupted = false;
  for (const [index, part] of plan.parts.entries()) {
    const record = manifest.parts[index]!;
    const dir = path.join(out, part.name);
    if (!fs.existsSync(path.join(dir, SWEEP_MANIFEST))) {
      record.status = 'not_started';
      interrupted = true;
      continue;
    }
    const statuses = part.plan.runs.map((r) => readRunSummary(runDirOf(dir, r.id))?.status ?? 'pending');
    try {
      new SweepAggregator(readManifest(dir), dir).write();
      record.findings = partFindings(part, dir);
    } catch (error) {
      record.error = (error as Error).message;
    }
    record.completed = statuses.filter((st) => st === 'completed').length;
    record.failed = statuses.filter((st) => countsAsFailed(part, st)).length;
    record.backends = backendsOf(part.plan, dir);
    record.finishedAt = new Date().toISOString();
    failedRuns += record.failed;
    const unfinished = statuses.some((st) => st === 'pending' || st === 'interrupted');
    if (unfinished) interrupted = true;
    record.status = record.error !== undefined ? 'failed' : unfinished ? 'interrupted' : 'completed';
    save();
  }
  return closeReproduce(plan, out, manifest, save, interrupted, failedRuns, options);
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
      score: toJsonNumber(t.score),
      sMin: figureJson(t.sMin),
      eMin: figureJson(t.eMin),
      bSimpleW: figureJson(t.bSimpleW),
      bNoise: figureJson(t.bNoise),
      bNoiseW: figureJson(t.bNoiseW),
      lrEdges: t.edges.map((e) => `${e.batchSize}:${e.edge}`),
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

