/**
 * PPO's minibatch loss head in plain TypeScript: from the network outputs (read back once) and the minibatch's sample
 * arrays to the loss parts, the log-ratios and the gradient w.r.t. the outputs, in one loop over the rows. It is
 * `ppoLossHead` (ppo.ts) with its gradient at dy = 1, term for term, for backends whose tensors live in host memory:
 * there the tfjs head is ~35 small kernels per minibatch, each costing more to launch than the arithmetic it does.
 * The sums run in float64 and the gradients are rounded to float32 once, so the figures equal the tfjs head's to
 * float32 rounding (test/agents/ppo-plain-head.test.ts), not to the bit.
 */
import * as tf from '@tensorflow/tfjs';
import { denseBackward, denseForward } from './dense-backward.js';
import { HALF_LOG_2PI } from './distributions.js';
import type { ActorCritic } from './networks.js';
import type { SampleArrays } from './samples.js';

/**
 * The gradients of PPO's minibatch loss w.r.t. `net.variables` (a dense net: `writtenOut`) with the head in plain TS:
 * the forward pass in tfjs, one read of its outputs, `plainPpoLossHead`, and the written-out backward pass from the
 * uploaded output gradients. Call inside tf.tidy.
 */
export function ppoPlainHeadGrads(net: ActorCritic, samples: SampleArrays, coefs: PpoLossCoefs, readout: (values: PpoLossReadout) => void): tf.Tensor[] {
  const n = samples.advantages.length;
  const trace = denseForward(net, tf.tensor2d(samples.obs, [n, net.obsSize]));
  const { policy, value, logStd } = trace.out;
  const head = plainPpoLossHead(
    { kind: net.kind, actionDim: net.actionDim, policy: policy.dataSync() as Float32Array, value: value.dataSync() as Float32Array, ...(logStd ? { logStd: logStd.dataSync() as Float32Array } : {}) },
    samples,
    coefs,
  );
  readout(head.readout);
  return denseBackward(net, trace, {
    policy: tf.tensor2d(head.dPolicy, [n, net.actionDim]),
    ...(head.dLogStd ? { logStd: tf.tensor1d(head.dLogStd) } : {}),
    value: tf.tensor1d(head.dValue),
  });
}

/** What PPO's loss needs besides the network outputs (constants for the gradient). */
export interface PpoLossCoefs {
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
}

export interface PpoLossReadout {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  total: number;
  /** log r per sample. */
  logRatio: Float32Array;
}

/** The network outputs of a minibatch of `n` rows, as read back. */
export interface PlainHeadOutputs {
  kind: 'categorical' | 'gaussian';
  actionDim: number;
  /** Logits or means, [n, A] row-major. */
  policy: Float32Array;
  /** The Gaussian's log-std, [A]. */
  logStd?: Float32Array;
  /** Values, [n]. */
  value: Float32Array;
}

export interface PlainHeadResult {
  readout: PpoLossReadout;
  /** ∂L/∂logits or ∂L/∂means, [n, A]. */
  dPolicy: Float32Array;
  /** ∂L/∂log-std, [A] (Gaussian). */
  dLogStd?: Float32Array;
  /** ∂L/∂V, [n]. */
  dValue: Float32Array;
}

/**
 * Loss, readout and output gradients of PPO's clipped surrogate + vfCoef·value loss − entCoef·entropy on `samples`
 * (actions as indices for categorical, raw for Gaussian; advantages as the update uses them).
 */
export function plainPpoLossHead(out: PlainHeadOutputs, samples: SampleArrays, coefs: PpoLossCoefs): PlainHeadResult {
  const { clipCoef, clipVloss, entCoef, vfCoef } = coefs;
  const A = out.actionDim;
  const n = out.value.length;
  const dPolicy = new Float32Array(n * A);
  const dValue = new Float32Array(n);
  const logRatio = new Float32Array(n);
  const dLogStd = out.kind === 'gaussian' ? new Float64Array(A) : null;
  let logStdSum = 0;
  if (out.logStd) for (let j = 0; j < A; j++) logStdSum += out.logStd[j]!;
  let policySum = 0;
  let valueSum = 0;
  let entropySum = 0;
  const logp = new Float64Array(A);

  for (let i = 0; i < n; i++) {
    const row = i * A;
    // Log π(a_i|s_i) and the entropy of π(·|s_i).
    let logProb: number;
    let entropy: number;
    if (out.kind === 'categorical') {
      let max = -Infinity;
      for (let j = 0; j < A; j++) max = Math.max(max, out.policy[row + j]!);
      let sumExp = 0;
      for (let j = 0; j < A; j++) sumExp += Math.exp(out.policy[row + j]! - max);
      const logZ = max + Math.log(sumExp);
      entropy = 0;
      for (let j = 0; j < A; j++) {
        logp[j] = out.policy[row + j]! - logZ;
        entropy -= Math.exp(logp[j]!) * logp[j]!;
      }
      logProb = logp[samples.actions[i]!]!;
    } else {
      let sq = 0;
      for (let j = 0; j < A; j++) {
        const z = (samples.actions[row + j]! - out.policy[row + j]!) * Math.exp(-out.logStd![j]!);
        sq += z * z;
      }
      logProb = -0.5 * sq - (logStdSum + A * HALF_LOG_2PI);
      entropy = logStdSum + A * (0.5 + HALF_LOG_2PI);
    }

    // The clipped surrogate and g_i = −A_i·r_i where its unclipped term is the active one.
    const lr = logProb - samples.oldLogProbs[i]!;
    const ratio = Math.exp(lr);
    const negAdv = -samples.advantages[i]!;
    const unclipped = negAdv * ratio;
    const clipped = negAdv * Math.min(Math.max(ratio, 1 - clipCoef), 1 + clipCoef);
    const g = unclipped >= clipped ? unclipped : 0;
    policySum += Math.max(unclipped, clipped);
    entropySum += entropy;
    logRatio[i] = lr;

    // The value term and its active branch.
    const err = out.value[i]! - samples.returns[i]!;
    let valueTerm = err * err;
    let valueCoef = err;
    if (clipVloss) {
      const oldValue = samples.oldValues[i]!;
      const clippedErr = oldValue + Math.min(Math.max(out.value[i]! - oldValue, -clipCoef), clipCoef) - samples.returns[i]!;
      const clippedTerm = clippedErr * clippedErr;
      if (clippedTerm > valueTerm) {
        valueTerm = clippedTerm;
        valueCoef = 0;
      }
    }
    valueSum += valueTerm;
    dValue[i] = (valueCoef * vfCoef) / n;

    // ∂L/∂outputs (see ppoFusedLoss's comment for the formulas).
    if (out.kind === 'categorical') {
      const action = samples.actions[i]!;
      for (let j = 0; j < A; j++) {
        const p = Math.exp(logp[j]!);
        dPolicy[row + j] = (g * ((j === action ? 1 : 0) - p) + entCoef * p * (logp[j]! + entropy)) / n;
      }
    } else {
      for (let j = 0; j < A; j++) {
        const invStd = Math.exp(-out.logStd![j]!);
        const z = (samples.actions[row + j]! - out.policy[row + j]!) * invStd;
        dPolicy[row + j] = (g * z * invStd) / n;
        dLogStd![j] = dLogStd![j]! + (g * (z * z - 1) - entCoef) / n;
      }
    }
  }

  const policyLoss = policySum / n;
  const valueLoss = (0.5 * valueSum) / n;
  const entropy = entropySum / n;
  const total = policyLoss - entCoef * entropy + vfCoef * valueLoss;
  return {
    readout: { policyLoss, valueLoss, entropy, total, logRatio },
    dPolicy,
    ...(dLogStd ? { dLogStd: Float32Array.from(dLogStd) } : {}),
    dValue,
  };
}
