/**
 * What every algorithm exposes to the training loop. Each algorithm file (reinforce.ts, a2c.ts, ppo.ts) reads top to
 * bottom: config, networks, rollout, advantages, update.
 */
import type { NoiseProbe } from '../src/monitor/probe.js';

export interface UpdateStats {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  /** Approximate KL between the old and new policy (PPO), else 0. */
  approxKl: number;
  /** Fraction of samples whose ratio was clipped (PPO), else 0. */
  clipFrac: number;
  /** Global gradient norm before clipping, of the last gradient step. */
  gradNorm: number;
  /** Learning rate used for this update. */
  lr: number;
  explainedVariance: number;
}

export interface Agent<Batch = unknown> {
  readonly algo: 'reinforce' | 'a2c' | 'ppo';
  /** Env steps consumed by one `collect` (numEnvs × numSteps). */
  readonly stepsPerUpdate: number;
  /** Run the current policy in the env; finished episodes are left in `env.drainEpisodes()` for the trainer. */
  collect(): Batch;
  /** Samples in the batch the update will use (the monitor's B_big). */
  batchSize(batch: Batch): number;
  /** The loss about to be optimised, at the current parameters, for the noise monitor. Valid until `learn`. */
  noiseProbe(batch: Batch): NoiseProbe;
  /** One update on the batch. `progress` ∈ [0, 1] is the fraction of training done (for lr annealing). */
  learn(batch: Batch, progress: number): UpdateStats;
  dispose(): void;
}
