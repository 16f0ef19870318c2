/**
 * A2C (Mnih et al. 2016, synchronous): rollouts of `numSteps` (default 5) from `numEnvs` envs, n-step returns
 * bootstrapped from V at the rollout's end (GAE(λ) with the default λ = 1 is exactly that), and ONE gradient step per
 * rollout on −mean(A·log π) + vfCoef·0.5·mean((V − R)²) − entCoef·mean(entropy), with a global grad-norm clip and, by
 * default, RMSProp (as Stable-Baselines3). Truncated episodes bootstrap from V(final observation).
 * Unlike SB3 the value loss carries CleanRL's factor 0.5, the same value loss as the other agents use.
 */
import type { A2cConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { computeGae, explainedVariance, normalizeAdvantages } from './advantages.js';
import type { Agent, UpdateStats } from './agent.js';
import { gradientStep } from './gradient-step.js';
import { policyGradientParts, policyGradientProbe, totalLoss } from './losses.js';
import { ActorCritic, PlainForward } from './networks.js';
import type { AgentNoiseProbe } from './noise-probe.js';
import { annealedLr, FlatOptimizer } from './optimizers.js';
import { RolloutCollector, type Rollout } from './rollout.js';
import { rolloutSamples, type SampleArrays, type SampleTensors } from './samples.js';

export interface A2cBatch {
  readonly rollout: Rollout;
  /** The rollout as loss inputs, advantages already normalised when `normAdv`. */
  readonly samples: SampleArrays;
}

/** The agent, with its network and optimizer exposed read-only (for tests and inspection). */
export interface A2cAgent extends Agent<A2cBatch> {
  readonly net: ActorCritic;
  readonly optimizer: FlatOptimizer;
}

export function createA2cAgent(config: A2cConfig, env: VectorEnv, rng: Rng): A2cAgent {
  return new A2cAgentImpl(config, env, rng);
}

/** A2C's loss on a batch, with its parts (also what the noise probe measures). */
export function a2cLoss(net: ActorCritic, data: SampleTensors, config: A2cConfig) {
  const parts = policyGradientParts(net, net.forward(data.obs), data);
  return { total: totalLoss(parts, config), policy: parts.policy!, value: parts.value!, entropy: parts.entropy! };
}

class A2cAgentImpl implements A2cAgent {
  readonly algo = 'a2c' as const;
  readonly stepsPerUpdate: number;
  private readonly config: A2cConfig;
  readonly net: ActorCritic;
  private readonly forward: PlainForward;
  readonly optimizer: FlatOptimizer;
  private readonly collector: RolloutCollector;
  private probe: AgentNoiseProbe | null = null;
  private updates = 0;

  constructor(config: A2cConfig, env: VectorEnv, rng: Rng) {
    this.config = config;
    this.stepsPerUpdate = env.numEnvs * config.numSteps;
    // Seeding, in one place: each consumer gets its own named stream.
    this.net = new ActorCritic(env.obsSize, env.actionSpace, config.network, rng.split('init'), { value: true, obsShape: env.observationSpace.shape, envId: env.id });
    this.forward = new PlainForward(this.net);
    this.optimizer = new FlatOptimizer(this.net.variables, config.optimizer);
    this.collector = new RolloutCollector(env, this.forward, rng.split('action'), config.numSteps);
  }

  // Rollout and n-step advantages.
  collect(): A2cBatch {
    const rollout = this.collector.collect();
    computeGae({ ...rollout, gamma: this.config.gamma, lambda: this.config.gaeLambda }, rollout.advantages, rollout.returns);
    const advantages = this.config.normAdv ? normalizeAdvantages(rollout.advantages, new Float32Array(rollout.advantages.length)) : rollout.advantages;
    const samples = rolloutSamples(rollout, advantages);
    return { rollout, samples };
  }

  batchSize(batch: A2cBatch): number {
    return batch.rollout.numEnvs * batch.rollout.numSteps;
  }

  /** Exactly the loss `learn` takes its one gradient step on. */
  noiseProbe(batch: A2cBatch): AgentNoiseProbe {
    this.releaseProbe();
    this.probe = policyGradientProbe(this.net, this.optimizer, batch.samples, batch.rollout, this.config);
    return this.probe;
  }

  // Update: one gradient step on the whole rollout.
  learn(batch: A2cBatch, progress: number): UpdateStats {
    this.releaseProbe();
    const { config } = this;
    const update = ++this.updates; // 1-based, as the trainer counts
    const lr = annealedLr(config.lr, config.annealLr, progress);
    const result = gradientStep(this.net, this.optimizer, batch.samples, (data) => a2cLoss(this.net, data, config), {
      lr,
      maxGradNorm: config.maxGradNorm,
      update,
    });
    this.forward.refresh();
    return { ...result, approxKl: 0, clipFrac: 0, lr, explainedVariance: explainedVariance(batch.rollout.values, batch.rollout.returns) };
  }

  dispose(): void {
    this.releaseProbe();
    this.optimizer.dispose();
    this.net.dispose();
  }

  private releaseProbe(): void {
    this.probe?.dispose();
    this.probe = null;
  }
}
