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
 * flat-vector optimizer step. On a dense net the backward pass is written out (dense-backward.ts); on wasm and cpu
 * the loss head and the optimizer step also run in plain TS on one read of the outputs and one of the gradients
 * (ppo-plain-head.ts, optimizers.ts' host placement), which halves the kernels of a cartpole-ppo update.
 */
import * as tf from '@tensorflow/tfjs';
import type { PpoConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { computeGae, explainedVariance, normalizeAdvantages } from './advantages.js';
import type { Agent, UpdateStats } from './agent.js';
import { HALF_LOG_2PI, policyTerms } from './distributions.js';
import { denseBackward, denseForward, writtenOut } from './dense-backward.js';
import { lossAndGrads } from './gradient-step.js';
import { policyGradientProbe, totalLoss, valueLoss } from './losses.js';
import { ActorCritic, PlainForward, type ForwardResult } from './networks.js';
import type { AgentNoiseProbe } from './noise-probe.js';
import { annealedLr, assertFinite, FlatOptimizer } from './optimizers.js';
import { ppoPlainHeadGrads, type PpoLossCoefs, type PpoLossReadout } from './ppo-plain-head.js';
import { RolloutCollector, type Rollout } from './rollout.js';
import { disposeTensors, gatherSamples, rolloutSamples, toTensors, type SampleArrays, type SampleTensors } from './samples.js';

export type { PpoLossCoefs, PpoLossReadout } from './ppo-plain-head.js';

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
/** What one PPO minibatch step reports. */
export type MinibatchStats = Pick<UpdateStats, 'policyLoss' | 'valueLoss' | 'entropy' | 'approxKl' | 'gradNorm' | 'clipFrac'>;

/** A minibatch step's figures from the fused loss's readout: approximate KL (the k3 estimator) and the clipped fraction. */
export function minibatchStats(readout: PpoLossReadout, clipCoef: number, gradNorm: number): MinibatchStats {
  const { logRatio, policyLoss, valueLoss, entropy } = readout;
  let approxKl = 0;
  let clipped = 0;
  for (let i = 0; i < logRatio.length; i++) {
    const ratio = Math.exp(logRatio[i]!);
    approxKl += ratio - 1 - logRatio[i]!;
    if (Math.abs(ratio - 1) > clipCoef) clipped++;
  }
  return { policyLoss, valueLoss, entropy, approxKl: approxKl / logRatio.length, clipFrac: clipped / logRatio.length, gradNorm };
}

/**
 * PPO's epochs × shuffled minibatches over `units` (samples, or whole env segments for the recurrent agent): each epoch
 * a fresh permutation from `rng`, cut into numMinibatches pieces; stops early when the last step's approximate KL
 * exceeds targetKl. Returns the last step's figures with the clip fraction averaged over all steps.
 */
export function ppoEpochs(config: PpoConfig, units: number, rng: Rng, step: (indices: Int32Array) => MinibatchStats): MinibatchStats {
  const size = Math.max(1, Math.floor(units / config.numMinibatches));
  let last: MinibatchStats = { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, gradNorm: 0, clipFrac: 0 };
  let clipFracSum = 0;
  let minibatches = 0;
  for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
    const order = rng.permutation(units);
    for (let start = 0; start < units; start += size) {
      last = step(order.subarray(start, Math.min(start + size, units)));
      clipFracSum += last.clipFrac;
      minibatches++;
    }
    if (config.targetKl !== undefined && last.approxKl > config.targetKl) break;
  }
  return { ...last, clipFrac: clipFracSum / minibatches };
}

export function ppoLoss(net: ActorCritic, data: SampleTensors, config: PpoConfig) {
  const out = net.forward(data.obs);
  const terms = policyTerms(net, out.policy!, out.logStd, data.actions);
  const { loss: policy, logRatio } = clippedSurrogateLoss(terms.logProb, data.oldLogProbs, data.advantages, config.clipCoef);
  const value = valueLoss(out.value!, data.returns, config.clipVloss ? { oldValues: data.oldValues, coef: config.clipCoef } : undefined);
  const entropy = tf.mean(terms.entropy) as tf.Scalar;
  return { total: totalLoss({ policy, value, entropy }, config), policy, value, entropy, logRatio };
}

/** PPO's clipped surrogate mean(max(−A·r, −A·clip(r, 1±c))) with r = exp(log π − log π_old); also log r. */
export function clippedSurrogateLoss(
  logProb: tf.Tensor1D,
  oldLogProb: tf.Tensor1D,
  advantages: tf.Tensor1D,
  clipCoef: number,
): { loss: tf.Scalar; logRatio: tf.Tensor1D } {
  const logRatio = tf.sub(logProb, oldLogProb) as tf.Tensor1D;
  const ratio = tf.exp(logRatio);
  const negAdv = tf.neg(advantages);
  const unclipped = tf.mul(negAdv, ratio);
  const clipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
  return { loss: tf.mean(tf.maximum(unclipped, clipped)) as tf.Scalar, logRatio };
}

/**
 * PPO's minibatch loss — exactly `clippedSurrogateLoss − entCoef·mean(entropy) + vfCoef·valueLoss` — as ONE op with
 * a hand-derived gradient w.r.t. the network outputs (logits or means, the log-std, the values). Autodiff of the
 * composite loss records ~150 small kernels per minibatch; this is ~40, and the forward part is not taped. Tested
 * against autodiff of the composite loss (test/agents/ppo.test.ts). The gradient, with g_i = −A_i·r_i where the
 * unclipped surrogate term is the active one (else 0) and k_i = 1 where the unclipped value term is (else 0):
 *   ∂L/∂logits_ij = (g_i(onehot_ij − p_ij) + entCoef·p_ij(log p_ij + H_i)) / n
 *   ∂L/∂mean_ij   = g_i z_ij / (σ_j n),   ∂L/∂logσ_j = Σ_i g_i(z_ij² − 1) / n − entCoef   (z = (a − mean)/σ)
 *   ∂L/∂V_i       = vfCoef·k_i(V_i − R_i) / n
 * `readout` receives the loss parts and log-ratios (one readback, inside the forward).
 */
export function ppoFusedLoss(
  net: Pick<ActorCritic, 'kind' | 'actionDim'>,
  out: Pick<ForwardResult, 'policy' | 'value' | 'logStd'>,
  data: SampleTensors,
  coefs: PpoLossCoefs,
  readout: (values: PpoLossReadout) => void,
): tf.Scalar {
  const inputs = net.kind === 'categorical' ? [out.policy!, out.value!] : [out.policy!, out.logStd!, out.value!];
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[inputs.length] as tf.GradSaveFunc;
    const [policy, second, third] = args as tf.Tensor[];
    const head = ppoLossHead(net, net.kind === 'categorical' ? { policy: policy as tf.Tensor2D, value: second as tf.Tensor1D } : { policy: policy as tf.Tensor2D, logStd: second, value: third as tf.Tensor1D }, data, coefs, readout);
    save(head.saved);
    return { value: head.total, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => head.gradient(dy, saved) };
  });
  return fused(...inputs) as tf.Scalar;
}

/**
 * `ppoFusedLoss` without the op around it: the loss, the tensors its gradient needs, and that gradient w.r.t. the
 * outputs ([d logits, d value] or [d mean, d log-std, d value]) for an upstream `dy`, from the saved tensors. The
 * written-out update (dense-backward.ts) calls `gradient` itself with dy = 1.
 */
export function ppoLossHead(
  net: Pick<ActorCritic, 'kind' | 'actionDim'>,
  out: Pick<ForwardResult, 'policy' | 'value' | 'logStd'>,
  data: SampleTensors,
  coefs: PpoLossCoefs,
  readout: (values: PpoLossReadout) => void,
): { total: tf.Scalar; saved: tf.Tensor[]; gradient: (dy: tf.Tensor, saved: readonly tf.Tensor[]) => tf.Tensor[] } {
  const n = data.n;
  const { clipCoef, clipVloss, entCoef, vfCoef } = coefs;
  // Value part, shared by both heads: per-sample squared error, its active branch, the mean.
  const valueTerms = (value: tf.Tensor1D) => {
    const err = tf.sub(value, data.returns);
    const unclipped = tf.square(err);
    if (!clipVloss) return { perSample: unclipped, coef: err };
    const clippedErr = tf.sub(tf.add(data.oldValues, tf.clipByValue(tf.sub(value, data.oldValues), -clipCoef, clipCoef)), data.returns);
    const clipped = tf.square(clippedErr);
    return { perSample: tf.maximum(unclipped, clipped), coef: tf.mul(err, tf.cast(tf.greaterEqual(unclipped, clipped), 'float32')) };
  };
  // Surrogate part: per-sample loss and g_i.
  const surrogateTerms = (logProb: tf.Tensor) => {
    const logRatio = tf.sub(logProb, data.oldLogProbs);
    const ratio = tf.exp(logRatio);
    const negAdv = tf.neg(data.advantages);
    const unclipped = tf.mul(negAdv, ratio);
    const clipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
    const g = tf.mul(unclipped, tf.cast(tf.greaterEqual(unclipped, clipped), 'float32'));
    return { logRatio, perSample: tf.maximum(unclipped, clipped), g };
  };
  const report = (pg: tf.Tensor, vl: tf.Tensor, ent: tf.Tensor, logRatio: tf.Tensor) => {
    const policyLoss = tf.mean(pg) as tf.Scalar;
    const valueLoss = tf.mul(tf.mean(vl), 0.5) as tf.Scalar;
    const entropy = tf.mean(ent) as tf.Scalar;
    const total = totalLoss({ policy: policyLoss, value: valueLoss, entropy }, coefs);
    const values = tf.concat([tf.stack([policyLoss, valueLoss, entropy, total]), logRatio]).dataSync() as Float32Array;
    readout({ policyLoss: values[0]!, valueLoss: values[1]!, entropy: values[2]!, total: values[3]!, logRatio: values.subarray(4) });
    return total;
  };

  if (net.kind === 'categorical') {
    const logits = out.policy!;
    const logp = tf.logSoftmax(logits);
    const p = tf.exp(logp);
    const entropy = tf.neg(tf.sum(tf.mul(p, logp), 1));
    const s = surrogateTerms(tf.sum(tf.mul(logp, data.actions), 1));
    const v = valueTerms(out.value!);
    return {
      total: report(s.perSample, v.perSample, entropy, s.logRatio),
      saved: [p, logp, tf.reshape(entropy, [n, 1]), tf.reshape(s.g, [n, 1]), v.coef],
      gradient: (dy, saved) => {
        const [sp, slogp, sh, sg, sv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const policyPart = tf.mul(tf.sub(data.actions, sp), sg);
        const entropyPart = tf.mul(tf.mul(sp, tf.add(slogp, sh)), entCoef);
        const scale = tf.div(dy, n);
        return [tf.mul(tf.add(policyPart, entropyPart), scale), tf.mul(sv, tf.mul(scale, vfCoef))];
      },
    };
  }

  const mean = out.policy!;
  const logStd = out.logStd!;
  const dims = net.actionDim;
  const invStd = tf.exp(tf.neg(logStd));
  const z = tf.mul(tf.sub(data.actions, mean), invStd);
  const logStdSum = tf.sum(tf.add(tf.zerosLike(mean), logStd), 1);
  const logProb = tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), tf.add(logStdSum, dims * HALF_LOG_2PI));
  const entropy = tf.add(logStdSum, dims * (0.5 + HALF_LOG_2PI));
  const s = surrogateTerms(logProb);
  const v = valueTerms(out.value!);
  return {
    total: report(s.perSample, v.perSample, entropy, s.logRatio),
    saved: [z, tf.add(tf.zerosLike(mean), invStd), tf.reshape(s.g, [n, 1]), v.coef],
    gradient: (dy, saved) => {
      const [sz, sInvStd, sg, sv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const scale = tf.div(dy, n);
      const dMean = tf.mul(tf.mul(tf.mul(sg, sz), sInvStd), scale);
      // Per-sample log-std gradient, then reduced to the log-std's own shape ([A], or [n, A] when tapped).
      let dLogStd: tf.Tensor = tf.mul(tf.sub(tf.mul(sg, tf.sub(tf.square(sz), 1)), entCoef), scale);
      if (logStd.rank === 1) dLogStd = tf.sum(dLogStd, 0);
      return [dMean, dLogStd, tf.mul(sv, tf.mul(scale, vfCoef))];
    },
  };
}

/**
 * The gradients `lossAndGrads` of `ppoFusedLoss` gives, to the bit, with the backward pass written out (dense nets
 * only: `writtenOut`): the loss head's gradient at dy = 1 (the tape's seed), then down the layers.
 */
export function ppoWrittenOutGrads(net: ActorCritic, data: SampleTensors, coefs: PpoLossCoefs, readout: (values: PpoLossReadout) => void): tf.Tensor[] {
  const trace = denseForward(net, data.obs);
  const head = ppoLossHead(net, trace.out, data, coefs, readout);
  const d = head.gradient(tf.onesLike(head.total), head.saved);
  const gaussian = net.kind === 'gaussian';
  return denseBackward(net, trace, { policy: d[0] as tf.Tensor2D, ...(gaussian ? { logStd: d[1]! } : {}), value: d[gaussian ? 2 : 1] as tf.Tensor1D });
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
    this.net = new ActorCritic(env.obsSize, env.actionSpace, config.network, rng.split('init'), { value: true, obsShape: env.observationSpace.shape, envId: env.id });
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
    this.probe = policyGradientProbe(this.net, this.optimizer, { ...samples, advantages }, batch.rollout, config);
    return this.probe;
  }

  // Update: epochs × shuffled minibatches.
  learn(batch: PpoBatch, progress: number): UpdateStats {
    this.releaseProbe();
    const { config } = this;
    const update = ++this.updates; // 1-based, as the trainer counts
    const lr = annealedLr(config.lr, config.annealLr, progress);
    const steps = ppoEpochs(config, this.batchSize(batch), this.minibatchRng, (indices) => {
      const samples = gatherSamples(batch.samples, indices, this.env.obsSize, this.env.actionSize);
      if (config.normAdv) normalizeAdvantages(samples.advantages);
      return this.minibatchStep(samples, lr, update);
    });
    this.forward.refresh();
    return {
      ...steps,
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
    // On host-memory backends a dense net's loss head runs in plain TS (only the observations go to tfjs).
    const plainHead = writtenOut(this.net) && this.optimizer.placement === 'host';
    const data = plainHead ? null : toTensors(this.net, samples);
    let readout: PpoLossReadout | null = null;
    try {
      const gradNorm = tf.tidy(() => {
        const keep = (values: PpoLossReadout) => (readout = values);
        const grads = data === null
          ? ppoPlainHeadGrads(this.net, samples, this.config, keep)
          : writtenOut(this.net)
            ? ppoWrittenOutGrads(this.net, data, this.config, keep)
            : lossAndGrads(() => ppoFusedLoss(this.net, this.net.forward(data.obs), data, this.config, keep), this.net.variables).grads;
        assertFinite(readout!.total, update, 'loss');
        return this.optimizer.step(grads, lr, this.config.maxGradNorm, update);
      });
      return minibatchStats(readout!, this.config.clipCoef, gradNorm);
    } finally {
      if (data) disposeTensors(data);
    }
  }

  private releaseProbe(): void {
    this.probe?.dispose();
    this.probe = null;
  }
}
