/**
 * The losses several algorithms share, in tfjs: the policy-gradient loss −mean(A·log π) with the mean entropy (what
 * REINFORCE and A2C optimise, and the gradient of PPO's first step at θ_old) and the value loss 0.5·mean((V − R)²),
 * with PPO's optional clipping; the total the agents minimise from those parts; and the noise probe of the
 * policy-gradient loss that all three agents hand the monitor. PPO's own clipped surrogate lives in ppo.ts. Losses
 * are MEANS over samples of per-sample terms, which is what the noise monitor's per-sample algebra assumes.
 */
import * as tf from '@tensorflow/tfjs';
import { policyTerms } from './distributions.js';
import type { ActorCritic, ForwardResult } from './networks.js';
import { buildNoiseProbe, type AgentNoiseProbe, type LossParts } from './noise-probe.js';
import type { FlatOptimizer } from './optimizers.js';
import { toTensors, type SampleArrays, type SampleTensors } from './samples.js';

/**
 * The loss parts of an actor-critic policy-gradient loss, from whichever paths `out` ran: −mean(A·log π), the mean
 * entropy and 0.5·mean((V − R)²). REINFORCE and A2C optimise exactly these; PPO's first step at θ_old has their gradient.
 */
export function policyGradientParts(net: ActorCritic, out: ForwardResult, data: SampleTensors): LossParts {
  const parts: LossParts = {};
  if (out.policy) {
    const terms = policyTerms(net, out.policy, out.logStd, data.actions);
    parts.policy = policyGradientLoss(terms.logProb, data.advantages);
    parts.entropy = tf.mean(terms.entropy) as tf.Scalar;
  }
  if (out.value) parts.value = valueLoss(out.value, data.returns);
  return parts;
}

/** −mean(A_i · log π(a_i|s_i)): the plain policy-gradient loss (REINFORCE, A2C). */
export function policyGradientLoss(logProb: tf.Tensor1D, advantages: tf.Tensor1D): tf.Scalar {
  return tf.neg(tf.mean(tf.mul(advantages, logProb))) as tf.Scalar;
}

/**
 * 0.5·mean((V − R)²); with `clip`, PPO's 0.5·mean(max((V − R)², (V_old + clip(V − V_old, ±c) − R)²)).
 */
export function valueLoss(values: tf.Tensor1D, returns: tf.Tensor1D, clip?: { oldValues: tf.Tensor1D; coef: number }): tf.Scalar {
  const unclipped = tf.square(tf.sub(values, returns));
  if (!clip) return tf.mul(tf.mean(unclipped), 0.5) as tf.Scalar;
  const valueClipped = tf.add(clip.oldValues, tf.clipByValue(tf.sub(values, clip.oldValues), -clip.coef, clip.coef));
  const clippedLoss = tf.square(tf.sub(valueClipped, returns));
  return tf.mul(tf.mean(tf.maximum(unclipped, clippedLoss)), 0.5) as tf.Scalar;
}

/** The total every agent minimises: policy − entCoef·entropy, plus vfCoef·value when there is a value part. */
export function totalLoss(parts: LossParts, coefs: { entCoef: number; vfCoef: number }): tf.Scalar {
  const total = tf.sub(parts.policy!, tf.mul(parts.entropy!, coefs.entCoef));
  return (parts.value ? tf.add(total, tf.mul(parts.value, coefs.vfCoef)) : total) as tf.Scalar;
}

/**
 * The noise probe of the policy-gradient loss (`policyGradientParts`) on `samples`, whose advantages must be what the
 * update uses: the policy component, the value component when the net has a critic, their total, and the
 * optimizer's preconditioner. REINFORCE and A2C optimise exactly this loss; PPO's first step at θ_old has its gradient.
 */
export function policyGradientProbe(
  net: ActorCritic,
  optimizer: FlatOptimizer,
  samples: SampleArrays,
  groups: { segments: Int32Array; episodes: Int32Array },
  coefs: { entCoef: number; vfCoef: number },
): AgentNoiseProbe {
  return buildNoiseProbe({
    net,
    data: toTensors(net, samples),
    segments: groups.segments,
    episodes: groups.episodes,
    vfCoef: coefs.vfCoef,
    entCoef: coefs.entCoef,
    withValue: net.hasValue,
    lossParts: (out, data) => policyGradientParts(net, out, data),
    preconditioner: (variable) => optimizer.preconditioner(variable),
  });
}
