/**
 * gradnoise: policy-gradient agents on TensorFlow.js with a gradient noise scale monitor (McCandlish et al. 2018).
 * The public API, named explicitly.
 */
export { Rng } from './core/rng.js';
export { Box, Discrete, type Space, type SpaceDescription } from './core/spaces.js';
export {
  ConfigError,
  DivergedError,
  GradnoiseError,
  InputError,
  InvalidActionError,
  InvalidValueError,
  UnknownIdError,
  exitCodeFor,
  type ErrorCode,
} from './core/errors.js';
export {
  ArrayEnv,
  hasPhysicalState,
  type EnvParams,
  type EpisodeRecord,
  type ParamValue,
  type PhysicalStateEnv,
  type StepResult,
  type VectorEnv,
  type ArrayEnvOptions,
  /** @deprecated renamed `VectorEnv` (the class that held that name is now `ArrayEnv`). */
  type VectorEnv as VecEnv,
} from './core/vector-env.js';
export { NUM_LEVELS, defineEnv, type EnvSpec, type ParamSpec } from './core/env-spec.js';
export { defineSimpleEnv, type SimpleEnv, type SimpleEnvDefinition, type SimpleStep } from './core/simple-env.js';
export { describeLevels, envIds, getEnvSpec, loadEnvModule, makeEnv, registerEnv, resolveEnvParams, type MakeEnvOptions } from './run/registry.js';
export { applyWrappers, wrapperSchema, type WrapperConfig } from './core/wrappers.js';
export { configSchema, type AgentConfig, type EnvConfig, type MonitorConfig, type RunConfig } from './config/schema.js';
export { applyOverrides, loadConfig, parseConfig, type ConfigOverrides } from './config/load.js';
export { selectBackend, type BackendInfo, type BackendName } from './run/backend.js';
export { prepareRun, train, metricsColumns, type TrainOptions } from './run/trainer.js';
export { type RunStatus, type RunSummary } from './run/run-folder.js';
export { createAgent, type Agent, type UpdateStats } from '../agents/index.js';
export { NOISE_COMPONENTS, type NoiseComponent } from './core/components.js';
export type { NoiseProbe, NoiseProbeComponent } from './monitor/probe.js';
export { NOISE_COLUMNS, NoiseMonitor, type NoiseRow, type NoiseSummary } from './monitor/monitor.js';
export { estimateNoise, noiseScale, twoBatchEstimate, NoiseSmoother, NoiseWindow } from './monitor/estimator.js';
export { fallbackGradStats, fastGradStats } from './monitor/per-sample.js';
export { expandSweep, loadSweepFile, type SweepPlan } from './experiments/sweep/plan.js';
export { runSweep, type SweepResult } from './experiments/sweep/run.js';
export { analyzeCriticalBatch, planCriticalBatch, type CriticalBatchResult } from './experiments/critical-batch.js';
export { runCriticalBatch, type CriticalBatchRunOptions, type CriticalBatchRunResult } from './experiments/critical-batch-run.js';
export { fitProfile, type ProfileFit } from './analysis/critical-batch-profile.js';
export { normalisedScore, postUpdateReturns, referenceReturn } from './analysis/score.js';
export { detectFolder, writeReport, type FolderKind, type ReportResult } from './report/report.js';
export { noiseOverTraining, returnCurvesPerLevel } from './report/plots/training.js';
export { noiseVsDifficulty } from './report/plots/difficulty.js';
export { bCritVsBSimple, paretoFronts } from './report/plots/critical.js';
