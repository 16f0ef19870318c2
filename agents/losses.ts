/**
 * The losses several algorithms share, in tfjs: the policy-gradient loss −mean(A·log π) with the mean entropy (what
 * REINFORCE and A2C optimise, and the gradient of PPO's first step at θ_old) and the value loss 0.5·mean((V − R)²),
 * with PPO's optional clipping. PPO's own clipped surrogate lives in ppo.ts. Losses are MEANS over samples of
 * per-sample terms, which is what the noise monitor's per-sample algebra assumes.
 */
import * as tf from '@tensorflow/tfjs';
import { policyTerms } from './distributions.js';
import type { ActorCritic, ForwardResult } from './networks.js';
import type { LossParts } from './noise-probe.js';
import type { SampleTensors } from './samples.js';

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
