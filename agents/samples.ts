/**
 * The per-sample inputs of a loss: as typed arrays (`SampleArrays`: the rows of a rollout or of complete episodes,
 * gathered into minibatches) and as tfjs tensors (`SampleTensors`, with categorical actions one-hot).
 */
import * as tf from '@tensorflow/tfjs';
import type { ActorCritic } from './networks.js';
import type { Rollout } from './rollout.js';

/** The per-sample arrays a loss needs, as typed arrays (gathered rows of a rollout or of complete episodes). */
export interface SampleArrays {
  obs: Float32Array;
  /** Action indices (categorical) or raw actions (Gaussian), `actionSize` per sample. */
  actions: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  oldLogProbs: Float32Array;
  oldValues: Float32Array;
}

/** Zeroed sample arrays for `n` samples. */
export function emptySamples(n: number, obsSize: number, actionSize: number): SampleArrays {
  return {
    obs: new Float32Array(n * obsSize),
    actions: new Float32Array(n * actionSize),
    advantages: new Float32Array(n),
    returns: new Float32Array(n),
    oldLogProbs: new Float32Array(n),
    oldValues: new Float32Array(n),
  };
}

/** A fixed-length rollout as loss inputs (views, no copies), with the given advantages. */
export function rolloutSamples(rollout: Rollout, advantages: Float32Array = rollout.advantages): SampleArrays {
  return {
    obs: rollout.obs,
    actions: rollout.actions,
    advantages,
    returns: rollout.returns,
    oldLogProbs: rollout.logProbs,
    oldValues: rollout.values,
  };
}

export interface SampleTensors {
  n: number;
  obs: tf.Tensor2D;
  /** One-hot [n, A] for categorical, raw [n, A] for Gaussian. */
  actions: tf.Tensor2D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
  oldLogProbs: tf.Tensor1D;
  oldValues: tf.Tensor1D;
}

export function toTensors(net: ActorCritic, arrays: SampleArrays): SampleTensors {
  const n = arrays.advantages.length;
  let actions: tf.Tensor2D;
  if (net.kind === 'categorical') {
    const oneHot = new Float32Array(n * net.actionDim);
    for (let i = 0; i < n; i++) oneHot[i * net.actionDim + arrays.actions[i]!] = 1;
    actions = tf.tensor2d(oneHot, [n, net.actionDim]);
  } else {
    actions = tf.tensor2d(arrays.actions, [n, net.actionDim]);
  }
  return {
    n,
    obs: tf.tensor2d(arrays.obs, [n, net.obsSize]),
    actions,
    advantages: tf.tensor1d(arrays.advantages),
    returns: tf.tensor1d(arrays.returns),
    oldLogProbs: tf.tensor1d(arrays.oldLogProbs),
    oldValues: tf.tensor1d(arrays.oldValues),
  };
}

export function disposeTensors(t: SampleTensors): void {
  tf.dispose([t.obs, t.actions, t.advantages, t.returns, t.oldLogProbs, t.oldValues]);
}

/** Rows `indices` of a rollout-shaped set of arrays (obs rows of `obsSize`, actions of `actionSize`). */
export function gatherSamples(source: SampleArrays, indices: ArrayLike<number>, obsSize: number, actionSize: number): SampleArrays {
  const n = indices.length;
  const out = emptySamples(n, obsSize, actionSize);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    out.obs.set(source.obs.subarray(i * obsSize, (i + 1) * obsSize), k * obsSize);
    for (let j = 0; j < actionSize; j++) out.actions[k * actionSize + j] = source.actions[i * actionSize + j]!;
    out.advantages[k] = source.advantages[i]!;
    out.returns[k] = source.returns[i]!;
    out.oldLogProbs[k] = source.oldLogProbs[i]!;
    out.oldValues[k] = source.oldValues[i]!;
  }
  return out;
}
