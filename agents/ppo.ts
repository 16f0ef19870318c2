/**
 * PPO (Schulman et al. 2017) with the semantics of CleanRL's ppo.py: fixed-length rollouts from `numEnvs` envs,
 * GAE(λ), `updateEpochs` passes over the batch in `numMinibatches` seeded-shuffled minibatches, the clipped surrogate,
 * optionally clipped value loss, an entropy bonus, advantages normalised per minibatch, a global grad-norm clip,
 * learning rate annealed linearly to 0, and an optional early stop of the epochs once the approximate KL
 * mean((r − 1) − log r) of the last minibatch passes `targetKl`. One difference: truncated episodes bootstrap from
 * V(final observation) (CleanRL treats them as terminated).
 *
 * Speed: the rollout acts with the plain-TS forward pass (no tfjs call per env step), returns and advantages are
 * plain TS, and each minibatch is ONE fused actor-critic loss and ONE backward pass over all variables, followed by a
 * flat-vector optimizer step.
 */
import * as tf from '@tensorflow/tfjs';
import type { PpoConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import type { Agent, UpdateStats } from './agent.js';
import { ActorCritic, PlainForward } from './networks.js';
import { buildNoiseProbe, type AgentNoiseProbe } from './noise-probe.js';
import {
  annealedLr,
  assertFinite,
  clippedSurrogateLoss,
  computeGae,
  disposeTensors,
  explainedVariance,
  FlatOptimizer,
  gatherSamples,
  lossAndGrads,
  normalizeAdvantages,
  policyGradientParts,
  ppoFusedLoss,
  type PpoLossReadout,
  policyTerms,
  RolloutCollector,
  rolloutSamples,
  toTensors,
  valueLoss,
  type Rollout,
  type SampleArrays,
  type SampleTensors,
} from './shared.js';

export interface PpoBatch {
  readonly rollout: Rollout;
  /** The rollout as loss inputs (raw advantages; normalisation happens per minibatch). */
  readonly samples: SampleArrays;
}

/** The agent, with its network and optimizer exposed read-only (for tests and inspection). */
export interface PpoAgent extends Agent<PpoBatch> {
  readonly net: ActorCritic;
  readonly optimizer: FlatOptimizer;
}

export function createPpoAgent(config: PpoConfig, env: VectorEnv, rng: Rng): PpoAgent {
  return new PpoAgentImpl(config, env, rng);
}

/**
 * The loss PPO minimises on one minibatch, with its parts, composed of the shared loss functions (autodiff). The
 * update uses `ppoFusedLoss`, the same loss with a hand-derived gradient; tests hold the two equal.
 */
export function ppoLoss(net: ActorCritic, data: SampleTensors, config: PpoConfig) {
  const out = net.forward(data.obs);
  const terms = policyTerms(net, out.policy!, out.logStd, data.actions);
  const { loss: policy, logRatio } = clippedSurrogateLoss(terms.logProb, data.oldLogProbs, data.advantages, config.clipCoef);
  const value = valueLoss(out.value!, data.returns, config.clipVloss ? { oldValues: data.oldValues, coef: config.clipCoef } : undefined);
  const entropy = tf.mean(terms.entropy) as tf.Scalar;
  const total = tf.add(tf.sub(policy, tf.mul(entropy, config.entCoef)), tf.mul(value, config.vfCoef)) as tf.Scalar;
  return { total, policy, value, entropy, logRatio };
}

class PpoAgentImpl implements PpoAgent {
  readonly algo = 'ppo' as const;
  readonly stepsPerUpdate: number;
  private readonly config: PpoConfig;
  private readonly env: VectorEnv;
  readonly net: ActorCritic;
  private readonly forward: PlainForward;
  readonly optimizer: FlatOptimizer;
  private readonly collector: RolloutCollector;
  private readonly minibatchRng: Rng;
  private probe: AgentNoiseProbe | null = null;
  private updates = 0;

  constructor(config: PpoConfig, env: VectorEnv, rng: Rng) {
    this.config = config;
    this.env = env;
    this.stepsPerUpdate = env.numEnvs * config.numSteps;
    // Seeding, in one place: each consumer gets its own named stream.
    this.net = new ActorCritic(env.obsSize, env.actionSpace, config.network, rng.split('init'), { value: true });
    this.minibatchRng = rng.split('minibatch');
    this.forward = new PlainForward(this.net);
    this.optimizer = new FlatOptimizer(this.net.variables, config.optimizer);
    this.collector = new RolloutCollector(env, this.forward, rng.split('action'), config.numSteps);
  }

  // Rollout and advantages.
  collect(): PpoBatch {
    const rollout = this.collector.collect();
    computeGae({ ...rollout, gamma: this.config.gamma, lambda: this.config.gaeLambda }, rollout.advantages, rollout.returns);
    const samples = rolloutSamples(rollout);
    return { rollout, samples };
  }

  batchSize(batch: PpoBatch): number {
    return batch.rollout.numEnvs * batch.rollout.numSteps;
  }

  /**
   * At θ_old the ratio is 1, so the first gradient PPO takes is that of the plain policy-gradient loss
   * −mean(A·log π) (advantages normalised over the whole batch), the unclipped value loss and the entropy bonus.
   */
  noiseProbe(batch: PpoBatch): AgentNoiseProbe {
    this.releaseProbe();
    const { config } = this;
    const samples = batch.samples;
    const advantages = config.normAdv ? normalizeAdvantages(samples.advantages, new Float32Array(samples.advantages.length)) : samples.advantages;
    this.probe = buildNoiseProbe({
      net: this.net,
      data: toTensors(this.net, { ...samples, advantages }),
      segments: batch.rollout.segments,
      episodes: batch.rollout.episodes,
      vfCoef: config.vfCoef,
      entCoef: config.entCoef,
      withValue: true,
      lossParts: (out, data) => policyGradientParts(this.net, out, data),
      preconditioner: (variable) => this.optimizer.preconditioner(variable),
    });
    return this.probe;
  }

  // Update: epochs × shuffled minibatches.
  learn(batch: PpoBatch, progress: number): UpdateStats {
    this.releaseProbe();
    const { config } = this;
    const update = ++this.updates; // 1-based, as the trainer counts
    const lr = annealedLr(config.lr, config.annealLr, progress);
    const n = this.batchSize(batch);
    const minibatchSize = Math.max(1, Math.floor(n / config.numMinibatches));
    let last = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, gradNorm: 0 };
    let clipFracSum = 0;
    let minibatches = 0;
    for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
      const order = this.minibatchRng.permutation(n);
      for (let start = 0; start < n; start += minibatchSize) {
        const samples = gatherSamples(batch.samples, order.subarray(start, Math.min(start + minibatchSize, n)), this.env.obsSize, this.env.actionSize);
        if (config.normAdv) normalizeAdvantages(samples.advantages);
        const step = this.minibatchStep(samples, lr, update);
        last = step;
        clipFracSum += step.clipFrac;
        minibatches++;
      }
      if (config.targetKl !== undefined && last.approxKl > config.targetKl) break;
    }
    this.forward.refresh();
    return {
      ...last,
      clipFrac: clipFracSum / minibatches,
      lr,
      explainedVariance: explainedVariance(batch.rollout.values, batch.rollout.returns),
    };
  }

  dispose(): void {
    this.releaseProbe();
    this.optimizer.dispose();
    this.net.dispose();
  }

  /** One gradient step on one minibatch: the fused actor-critic loss, one backward pass, one optimizer step. */
  private minibatchStep(samples: SampleArrays, lr: number, update: number) {
    const data = toTensors(this.net, samples);
    let readout: PpoLossReadout | null = null;
    try {
      const gradNorm = tf.tidy(() => {
        const { grads } = lossAndGrads(
          () => ppoFusedLoss(this.net, this.net.forward(data.obs), data, this.config, (values) => (readout = values)),
          this.net.variables,
        );
        assertFinite(readout!.total, update, 'loss');
        return this.optimizer.step(grads, lr, this.config.maxGradNorm, update);
      });
      const { logRatio, policyLoss, valueLoss, entropy } = readout!;
      let approxKl = 0;
      let clipped = 0;
      for (let i = 0; i < logRatio.length; i++) {
        const ratio = Math.exp(logRatio[i]!);
        approxKl += ratio - 1 - logRatio[i]!;
        if (Math.abs(ratio - 1) > this.config.clipCoef) clipped++;
      }
      return { policyLoss, valueLoss, entropy, approxKl: approxKl / logRatio.length, clipFrac: clipped / logRatio.length, gradNorm };
    } finally {
      disposeTensors(data);
    }
  }

  private releaseProbe(): void {
    this.probe?.dispose();
    this.probe = null;
  }
}
