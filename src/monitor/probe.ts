/**
 * The contract between agents and the gradient noise monitor.
 *
 * Before each update an agent hands the monitor a `NoiseProbe`: the loss it is about to optimise, evaluated on the
 * whole rollout at the current parameters θ (before the update, before gradient clipping). The loss is a MEAN over the
 * `n` samples of per-sample losses ℓ_i, so the monitor can recover per-sample gradients:
 * - fast path: `tapped(taps)` adds a zero tensor to every dense layer's pre-activation; with δ = ∂loss/∂tap (shape
 *   [n, out]) and the layer input x (shape [n, in]), sample i's gradient of ℓ_i is n·x_iᵀδ_i for W and n·δ_i for b;
 * - fallback: `subset(indices)` gives the mean loss over any subset, differentiated with ordinary autodiff.
 */
import type * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../core/components.js';

export interface NoiseProbeComponent {
  /** One [n, outSize] shape per dense layer, in the order `tapped` returns their inputs. */
  readonly tapShapes: readonly (readonly [number, number])[];
  /** Mean loss over all n samples with `taps[l]` added to dense layer l's pre-activation; returns each layer's input. */
  tapped(taps: readonly tf.Tensor2D[]): { loss: tf.Scalar; inputs: tf.Tensor2D[] };
  /** Mean loss over the listed samples (micro-batch fallback, differentiated w.r.t. `variables`). */
  subset(indices: Int32Array): tf.Scalar;
  /** The trainable variables this component's loss depends on. */
  readonly variables: readonly tf.Variable[];
}

export interface NoiseProbe {
  /** Samples in the rollout (numEnvs × numSteps, or fewer for REINFORCE's complete episodes). */
  readonly n: number;
  /** Group id per sample: the env whose rollout segment it belongs to. */
  readonly segments: Int32Array;
  /** Group id per sample: the episode it belongs to (unique within the rollout). */
  readonly episodes: Int32Array;
  /** `policy` excludes the entropy term; `total` is the full loss the agent optimises (policy + vf·value − ent·entropy). */
  readonly components: Partial<Record<NoiseComponent, NoiseProbeComponent>>;
  /**
   * Optional diagonal preconditioner per variable (e.g. Adam's 1/(sqrt(v̂)+ε)), same order as a component's
   * `variables`, for the preconditioned noise scale tr(PΣP)/|PG|². Read-only; the monitor must not dispose it.
   */
  preconditioner?(variable: tf.Variable): tf.Tensor | null;
}
