/**
 * From a loss to new parameters: `lossAndGrads` (the loss and its gradients in one backward pass) and `gradientStep`,
 * the one whole-batch step REINFORCE and A2C take per update. PPO builds its minibatch step from the same parts.
 */
import * as tf from '@tensorflow/tfjs';
import type { ActorCritic } from './networks.js';
import type { LossParts } from './noise-probe.js';
import { assertFinite, type FlatOptimizer } from './optimizers.js';
import { disposeTensors, toTensors, type SampleArrays, type SampleTensors } from './samples.js';

/**
 * Loss and gradients of `lossFn` w.r.t. `variables` in one backward pass; gradients of variables the loss does not
 * reach are null.
 */
export function lossAndGrads(lossFn: () => tf.Scalar, variables: readonly tf.Variable[]): { loss: tf.Scalar; grads: (tf.Tensor | null)[] } {
  const { value, grads } = tf.variableGrads(lossFn, variables as tf.Variable[]);
  return { loss: value, grads: variables.map((v) => grads[v.name] ?? null) };
}

/**
 * One gradient step on a whole batch (A2C, REINFORCE): build the loss on the batch's tensors, check it is finite,
 * differentiate, and let the optimizer step (with global-norm clipping). `lossOf` gives the total with every part
 * (as a2cLoss and reinforceLoss do). Returns the parts' values and the gradient norm.
 */
export function gradientStep(
  net: ActorCritic,
  optimizer: FlatOptimizer,
  samples: SampleArrays,
  lossOf: (data: SampleTensors) => Required<LossParts> & { total: tf.Scalar },
  step: { lr: number; maxGradNorm: number; update: number },
): { policyLoss: number; valueLoss: number; entropy: number; gradNorm: number } {
  const data = toTensors(net, samples);
  let parts: Float32Array = new Float32Array(4);
  let gradNorm = 0;
  try {
    gradNorm = tf.tidy(() => {
      const { grads } = lossAndGrads(() => {
        const loss = lossOf(data);
        parts = tf.stack([loss.policy, loss.value, loss.entropy, loss.total]).dataSync() as Float32Array;
        return loss.total;
      }, net.variables);
      assertFinite(parts[3]!, step.update, 'loss');
      return optimizer.step(grads, step.lr, step.maxGradNorm, step.update);
    });
  } finally {
    disposeTensors(data);
  }
  return { policyLoss: parts[0]!, valueLoss: parts[1]!, entropy: parts[2]!, gradNorm };
}
