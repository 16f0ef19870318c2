/**
 * The policy distributions in tfjs, as per-sample terms for the losses: categorical (over logits) and diagonal
 * Gaussian (mean and log-std), each giving log π(a|s) and the entropy of π(·|s). Their plain-TS twin, which samples
 * the actions during rollouts, is `ActionSampler` (rollout.ts); tests hold the two equal.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActorCritic } from './networks.js';

/** log √(2π): the Gaussian's normalising constant, per action dimension. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface PolicyTerms {
  /** log π(a_i|s_i), [n]. */
  logProb: tf.Tensor1D;
  /** Entropy of π(·|s_i), [n]. */
  entropy: tf.Tensor1D;
}

/** Categorical: `actionsOneHot` is [n, A]. */
export function categoricalTerms(logits: tf.Tensor2D, actionsOneHot: tf.Tensor2D): PolicyTerms {
  const logp = tf.logSoftmax(logits);
  return {
    logProb: tf.sum(tf.mul(logp, actionsOneHot), 1) as tf.Tensor1D,
    entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D,
  };
}

/** Diagonal Gaussian with log-std `logStd` ([A] or [n, A]); `actions` is [n, A]. Log-prob and entropy sum over dims. */
export function gaussianTerms(mean: tf.Tensor2D, logStd: tf.Tensor, actions: tf.Tensor2D): PolicyTerms {
  const logStdFull = tf.add(tf.zerosLike(mean), logStd) as tf.Tensor2D;
  const z = tf.mul(tf.sub(actions, mean), tf.exp(tf.neg(logStdFull)));
  const logProb = tf.neg(tf.sum(tf.add(tf.mul(tf.square(z), 0.5), tf.add(logStdFull, HALF_LOG_2PI)), 1));
  const entropy = tf.sum(tf.add(logStdFull, 0.5 + HALF_LOG_2PI), 1);
  return { logProb: logProb as tf.Tensor1D, entropy: entropy as tf.Tensor1D };
}

/** The policy's terms for a forward result (`actions`: one-hot for categorical, raw actions for Gaussian). */
export function policyTerms(net: ActorCritic, policyOut: tf.Tensor2D, logStd: tf.Tensor | undefined, actions: tf.Tensor2D): PolicyTerms {
  return net.kind === 'categorical' ? categoricalTerms(policyOut, actions) : gaussianTerms(policyOut, logStd!, actions);
}
