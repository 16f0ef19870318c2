/**
 * One training run: env + agent + noise monitor, writing the run folder as it goes.
 *
 * Order of work per update: collect a rollout → measure gradient noise on it at the current parameters (before the
 * update, before clipping) → update → append metrics. Input problems surface in `prepareRun`, before anything is
 * written; once the folder exists every outcome (completed, interrupted, diverged, failed) ends in a `summary.json`.
 */
import path from 'node:path';
import { checkTorso, createAgent } from '../../agents/index.js';
import type { UpdateStats } from '../../agents/agent.js';
import { describeBackend, selectBackend, type BackendInfo } from './backend.js';
import type { RunConfig } from '../config/schema.js';
import { DivergedError, errorLine, GradnoiseError } from '../core/errors.js';
import { checkMonitorConfig, NOISE_COLUMNS, NoiseMonitor, type NoiseRow, type ProgressPoint } from '../monitor/monitor.js';
import { NOISE_COMPONENTS, type NoiseComponent } from '../core/components.js';
import { Progress, type ProgressMode } from './progress.js';
import { envOptionsOf, loadEnvModule, makeEnv } from './registry.js';
import { Rng } from '../core/rng.js';
import { mean, std } from '../core/stats.js';
import { packageVersion } from '../core/package-root.js';
import { CsvLog } from './csv.js';
import { checkRunFits, envDims } from './memory.js';
import { createRunFolder, ReservedJsonFile, writeJsonAtomic, RUN_FILES, type RunMeta, type RunStatus, type RunSummary } from './run-folder.js';
import type { VectorEnv } from '../core/vector-env.js';
import { InvalidValueError } from '../core/errors.js';
import { CHECKPOINT_FILE, readCheckpoint, removeCheckpoint, removeStaleTempFiles, truncateLogs, writeCheckpoint, type Checkpoint, type LogMark } from './checkpoint.js';
import { encodeState, PrototypeIndex, restoreState } from './state-codec.js';
import { NoiseTracker } from '../monitor/tracker.js';
import { AutocorrelationTracker } from '../monitor/grouping.js';
import fs from 'node:fs';
import { observeTarget, POST_UPDATE_EPISODES, type LoggedCount, type TargetReached } from './target-stop.js';

/** Episodes in the rolling window behind `return_mean` / `length_mean`. */
export const RETURN_WINDOW = 20;

const STATS_COLUMNS: Record<keyof UpdateStats, string> = {
  policyLoss: 'policy_loss',
  valueLoss: 'value_loss',
  entropy: 'entropy',
  approxKl: 'approx_kl',
  clipFrac: 'clip_frac',
  gradNorm: 'grad_norm',
  lr: 'lr',
  explainedVariance: 'explained_variance',
};

/** Columns whose values depend on wall-clock time; everything else is fixed by config, seed and backend. */
export const WALL_CLOCK_COLUMNS = ['wall_s', 'sps'] as const;
/** noise.csv's clock columns: how long a measurement (and its B_noise part) took. */
export const NOISE_WALL_CLOCK_COLUMNS = ['measure_ms', 'b_noise_ms'] as const;

export function metricsColumns(monitorEnabled: boolean): string[] {
  const columns = ['update', 'env_steps', 'wall_s', 'sps', 'episodes', 'episodes_update', 'return_mean', 'return_std', 'length_mean', 'return_sum'];
  columns.push(...Object.values(STATS_COLUMNS), 'batch_size');
  if (monitorEnabled) columns.push(...NOISE_COMPONENTS.map((c) => `b_simple_${c}`));
  return columns;
}

export interface PreparedRun {
  config: RunConfig;
  env: VectorEnv;
}

/**
 * Resolve and check everything that can be wrong with the input, writing nothing: the env (through a one-copy
 * instance, whose sizes also feed the memory estimate) and whether the run fits in memory.
 */
export async function prepareRun(config: RunConfig, configDir = process.cwd()): Promise<PreparedRun> {
  checkMonitorConfig(config);
  if (config.env.module) await loadEnvModule(config.env.module, configDir);
  const envOptions = envOptionsOf(config.env);
  const probe = makeEnv(config.env.id, { ...envOptions, numEnvs: 1 });
  checkTorso(config.agent, probe);
  checkRunFits(config, envDims(probe));
  const env = config.env.numEnvs === 1 ? probe : makeEnv(config.env.id, envOptions);
  return { config, env };
}

export interface TrainOptions {
  /** The run folder; must be new or empty. */
  runDir: string;
  /** Folder that relative paths in the config (env.module) are resolved against. */
  configDir?: string;
  progress?: ProgressMode;
  /** Aborting stops the run after the current update with status `interrupted`. */
  signal?: AbortSignal;
  /** Listen for SIGINT/SIGTERM (the CLI does; library callers may prefer `signal`). */
  handleSignals?: boolean;
  /**
   * Training progress as a normalised score (e.g. (return − random)/(target − random)), called after every update;
   * with it the noise summary also reports the figures and their growth by progress, not only by env steps.
   * Return null while there is no score yet.
   */
  noiseProgress?: (point: { update: number; envSteps: number; returnMean: number | null }) => number | null;
  /**
   * Continue the run in `runDir` from its checkpoint (`gradnoise train --resume`, sweeps rerun into their folder); the
   * checkpoint must belong to this config. Without a checkpoint the folder is cleared and the run starts over in it.
   */
  resume?: boolean;
  /** The backend to request instead of `config.run.backend` (a resumed run asks for the one it ran on). */
  backend?: string;
  /** Called after each checkpoint with its size and how long it took (benchmarks). */
  onCheckpoint?: (info: { update: number; bytes: number; ms: number }) => void;
}

export async function train(config: RunConfig, options: TrainOptions): Promise<RunSummary> {
  const { env } = await prepareRun(config, options.configDir);
  const checkpoint = options.resume ? readCheckpoint(options.runDir, config) : null;
  const backend = await selectBackend((options.backend ?? checkpoint?.backend ?? config.run.backend) as RunConfig['run']['backend'], { webgpuSoftware: config.run.webgpuSoftware });
  if (checkpoint && backend.name !== checkpoint.backend) {
    throw new InvalidValueError('--backend', backend.name, `the checkpoint in ${options.runDir} was made on the ${checkpoint.backend} backend; resume it there (results differ between backends)`);
  }
  if (checkpoint) {
    removeStaleTempFiles(options.runDir);
    truncateLogs(options.runDir, checkpoint.logs);
    fs.rmSync(path.join(options.runDir, RUN_FILES.summary), { force: true });
  } else {
    if (options.resume) fs.rmSync(options.runDir, { recursive: true, force: true });
    createRunFolder(options.runDir);
  }
  return runTraining(config, env, backend, options, checkpoint);
}

async function runTraining(config: RunConfig, env: VectorEnv, backend: BackendInfo, options: TrainOptions, checkpoint: Checkpoint | null = null): Promise<RunSummary> {
  const startedAt = new Date();
  const dir = options.runDir;
  const meta: RunMeta = {
    package: 'gradnoise',
    version: packageVersion(),
    backend: backend.name,
    backendRequested: backend.requested,
    gpu: backend.gpu,
    tfjs: backend.tfjsVersion,
    ...(backend.adapter ? { adapter: backend.adapter } : {}),
    node: process.version,
    startedAt: startedAt.toISOString(),
    ...(options.configDir !== undefined ? { configDir: path.resolve(options.configDir) } : {}),
  };
  // A resumed run keeps the config.json it started with.
  if (!checkpoint) writeJsonAtomic(path.join(dir, RUN_FILES.config), { ...config, meta });
  // Taken now, so that a run that fills the disk can still write its summary.
  const summaryFile = new ReservedJsonFile(path.join(dir, RUN_FILES.summary));
  const progress = new Progress(options.progress ?? 'quiet', `${config.env.id} ${config.agent.algo}`);
  progress.message(`gradnoise: backend ${describeBackend(backend)}, run folder ${dir}`);
  if (checkpoint) progress.message(`gradnoise: resuming from the checkpoint at update ${checkpoint.update} (${checkpoint.envSteps} env steps)`);
  else if (options.resume) progress.message(`gradnoise: no ${CHECKPOINT_FILE} in ${dir}; the run starts over from scratch`);

  let stop: RunStatus | null = null;
  const requestStop = () => {
    stop ??= 'interrupted';
  };
  options.signal?.addEventListener('abort', requestStop);
  if (options.handleSignals) {
    process.on('SIGINT', requestStop);
    process.on('SIGTERM', requestStop);
  }

  const recent: number[] = [];
  const recentLengths: number[] = [];
  let episodes = 0;
  // Sum of the returns of every episode completed so far: with `episodes`, the mean over the episodes completed between
  // any two logged rows (the non-lagging return estimate of critical-batch targets) is exact whatever logEvery is.
  let returnSum = 0;
  // run.stopAtReturn: logged rows still waiting for enough later episodes, and where the target was reached.
  const stopAt = config.run.stopAtReturn;
  const stopEpisodes = config.run.stopEpisodes ?? POST_UPDATE_EPISODES;
  const targetPending: LoggedCount[] = [];
  let targetReached: TargetReached | null = null;
  let bestReturnMean = -Infinity;
  let update = 0;
  let envSteps = 0;
  let status: RunStatus = 'completed';
  let errorMessage: string | undefined;
  const latestB: Partial<Record<NoiseComponent, number>> = {};
  let progressSeries: ProgressPoint[] = [];
  // Every CSV log the run writes, from 0 rows: a resume cuts off what was written after the checkpoint, also in a log
  // that had no rows yet at the checkpoint.
  const logs: Record<string, LogMark> = Object.fromEntries([RUN_FILES.metrics, ...(config.monitor.enabled ? [RUN_FILES.noise] : [])].map((file) => [file, { bytes: 0, rows: 0 }]));
  let t0 = performance.now();
  let agent: ReturnType<typeof createAgent> | null = null;
  let monitor: NoiseMonitor | null = null;

  // From here on every outcome, a fault in a user env included, ends in summary.json.
  try {
    // Seeding happens here and only here: one root seed, split by component.
    const root = new Rng(config.run.seed);
    env.reset(root.split('env').uint32());
    agent = createAgent(config.agent, env, root.split('agent'));
    monitor = config.monitor.enabled ? new NoiseMonitor(config.monitor, { rng: root.split('monitor'), onWarning: (message) => progress.message(`gradnoise: monitor: ${message}`) }) : null;
    // What a checkpoint holds beyond env, agent and monitor: the loop's own state, restored into these locals.
    const loopState = () => ({ recent, recentLengths, episodes, returnSum, bestReturnMean, update, envSteps, latestB, progressSeries, logs, targetPending });
    if (checkpoint) {
      const index = new PrototypeIndex().add(env, agent, monitor, new NoiseTracker(1, 1, 0.5), new AutocorrelationTracker(1, 1));
      restoreState({ env, agent, monitor }, checkpoint.state, index);
      const loop = restoreState(loopState(), checkpoint.loop, index) as ReturnType<typeof loopState>;
      ({ episodes, returnSum, bestReturnMean, update, envSteps, progressSeries } = loop);
      t0 -= checkpoint.wallS * 1000;
    }

    const metrics = new CsvLog(path.join(dir, RUN_FILES.metrics), metricsColumns(monitor !== null));
    const noiseLog = monitor ? new CsvLog(path.join(dir, RUN_FILES.noise), NOISE_COLUMNS) : null;
    const mark = (log: CsvLog, file: string, rows: number) => {
      logs[file] = { bytes: log.bytes, rows: (logs[file]?.rows ?? 0) + rows };
    };
    const saveCheckpoint = () => {
      const start = performance.now();
      const bytes = writeCheckpoint(dir, {
        config,
        backend: backend.name,
        update,
        envSteps,
        wallS: (performance.now() - t0) / 1000,
        logs,
        loop: encodeState(loopState()),
        state: encodeState({ env, agent, monitor }),
      });
      options.onCheckpoint?.({ update, bytes, ms: performance.now() - start });
    };

    while (envSteps < config.run.totalSteps && stop === null && targetReached === null) {
      const batch = agent.collect();
      envSteps += agent.stepsPerUpdate;
      update += 1;
      const finished = env.drainEpisodes();
      for (const episode of finished) {
        recent.push(episode.return);
        recentLengths.push(episode.length);
        returnSum += episode.return;
      }
      episodes += finished.length;
      if (recent.length > RETURN_WINDOW) recent.splice(0, recent.length - RETURN_WINDOW);
      if (recentLengths.length > RETURN_WINDOW) recentLengths.splice(0, recentLengths.length - RETURN_WINDOW);

      let noiseRows: NoiseRow[] = [];
      if (monitor?.shouldMeasure(update)) {
        // The monitor throws DivergedError itself on a non-finite gradient; a NaN estimate (fewer than two groups) is not one.
        noiseRows = monitor.measure(agent.noiseProbe(batch), { update, envSteps });
        for (const row of noiseRows) latestB[row.component] = row.b_simple;
        if (noiseRows.length > 0) noiseRows = [...noiseRows, ...monitor.layerRows];
      }

      const stats = agent.learn(batch, Math.min(1, (envSteps - agent.stepsPerUpdate) / config.run.totalSteps));
      for (const [key, value] of Object.entries(stats)) {
        if (!Number.isFinite(value)) throw new DivergedError(update, key);
      }

      const wallS = (performance.now() - t0) / 1000;
      const returnMean = mean(recent);
      const score = options.noiseProgress?.({ update, envSteps, returnMean: recent.length > 0 ? returnMean : null });
      if (score !== undefined && score !== null && Number.isFinite(score)) progressSeries.push({ envSteps, progress: score });
      if (recent.length > 0) bestReturnMean = Math.max(bestReturnMean, returnMean);
      noiseLog?.append(noiseRows);
      if (noiseLog && noiseRows.length > 0) mark(noiseLog, RUN_FILES.noise, noiseRows.length);
      if ((update - 1) % config.run.logEvery === 0) {
        const row: Record<string, number | string | null> = {
          update,
          env_steps: envSteps,
          wall_s: wallS,
          sps: envSteps / wallS,
          episodes,
          episodes_update: finished.length,
          return_mean: recent.length > 0 ? returnMean : null,
          return_std: recent.length > 0 ? std(recent) : null,
          length_mean: recentLengths.length > 0 ? mean(recentLengths) : null,
          return_sum: returnSum,
          batch_size: agent.batchSize(batch),
        };
        for (const [key, column] of Object.entries(STATS_COLUMNS)) row[column] = stats[key as keyof UpdateStats];
        if (monitor) for (const c of NOISE_COMPONENTS) row[`b_simple_${c}`] = latestB[c] ?? null;
        metrics.append([row]);
        mark(metrics, RUN_FILES.metrics, 1);
        if (stopAt !== undefined) targetReached = observeTarget(targetPending, { update, envSteps, episodes, returnSum }, stopAt, stopEpisodes);
      }
      progress.update({
        envSteps,
        totalSteps: config.run.totalSteps,
        update,
        sps: envSteps / wallS,
        returnMean,
        elapsedS: wallS,
        ...(monitor ? { bSimple: latestB.policy ?? NaN } : {}),
      });
      const every = config.run.checkpointEvery;
      if (every > 0 && update % every === 0 && envSteps < config.run.totalSteps && targetReached === null) saveCheckpoint();
      // Yield to the event loop so SIGINT/SIGTERM handlers and abort signals can run between updates.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // A stop that came during the last update is too late to interrupt anything.
    if (stop !== null && envSteps < config.run.totalSteps && targetReached === null) {
      status = stop;
      // Cheap next to a run's time, and `--resume` then loses nothing.
      if (config.run.checkpointEvery > 0) saveCheckpoint();
    }
  } catch (error) {
    if (error instanceof DivergedError) status = 'diverged';
    else status = 'failed';
    // One line, no stack (GRADNOISE_DEBUG=1 prints it, for bugs in gradnoise itself).
    errorMessage = errorLine(error);
    if (process.env.GRADNOISE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  } finally {
    options.signal?.removeEventListener('abort', requestStop);
    if (options.handleSignals) {
      process.off('SIGINT', requestStop);
      process.off('SIGTERM', requestStop);
    }
    agent?.dispose();
  }

  const summary: RunSummary = {
    status,
    ...(errorMessage !== undefined ? { error: errorMessage } : {}),
    envId: config.env.id,
    algo: config.agent.algo,
    seed: config.run.seed,
    backend: backend.name,
    gpu: backend.gpu,
    updates: update,
    envSteps,
    episodes,
    wallS: (performance.now() - t0) / 1000,
    returnMean: recent.length > 0 ? mean(recent) : null,
    returnBest: Number.isFinite(bestReturnMean) ? bestReturnMean : null,
    ...(monitor ? { noise: monitor.summary(options.noiseProgress ? { progress: progressSeries } : {}) } : {}),
    ...(stopAt !== undefined ? { target: { return: stopAt, episodes: stopEpisodes, reached: targetReached } } : {}),
  };
  try {
    if (status === 'completed') removeCheckpoint(dir);
    summaryFile.write(summary);
  } catch (error) {
    throw new GradnoiseError('filesystem', `${errorLine(error)}; the run ended ${status}${errorMessage ? `: ${errorMessage}` : ''}`);
  }
  progress.done();
  const why = targetReached ? ` (target ${stopAt} reached at update ${targetReached.update})` : '';
  progress.message(`gradnoise: ${status} after ${envSteps} env steps${why}; mean return ${summary.returnMean?.toFixed(1) ?? '-'}`);
  return summary;
}
