/**
 * The contract between agents and the gradient noise monitor.
 *
 * Before each update an agent hands the monitor a `NoiseProbe`: the loss it is about to optimise, evaluated on the
 * whole rollout at the current parameters θ (before the update, before gradient clipping). The loss is a MEAN over the
 * `n` samples of per-sample losses ℓ_i, so the monitor can recover per-sample gradients:
 * - `factors()` (optional, fastest): every component's per-sample gradients in factored form from one pass (see
 *   `GradientFactors`), e.g. with a hand-derived backward pass;
 * - `tapped(taps)` per component: adds a zero tensor to every dense layer's pre-activation; with δ = ∂loss/∂tap (shape
 *   [n, out]) and the layer input x (shape [n, in]), sample i's gradient of ℓ_i is n·x_iᵀδ_i for W and n·δ_i for b;
 *   the monitor differentiates it (one backward pass per component);
 * - fallback: `subset(indices)` gives the mean loss over any subset, differentiated with ordinary autodiff.
 * The monitor checks the first two against ordinary autodiff of `tapped`'s loss once per component.
 *
 * For B_noise (`monitor.bNoise`) a probe also offers `curvature()`: curvature losses whose Hessian at θ is the local
 * model of the objective (see `CurvatureProbe`), evaluated at perturbed parameters θ ± εv that the monitor sets on the
 * variables itself.
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

/** One dense layer z = x·W + b of the network, as the factored gradients see it. */
export interface FactorLayer {
  /** [in, out] weight, or null for a bias-only layer (a state-independent parameter such as a log-std; in = 0). */
  readonly kernel: tf.Variable | null;
  /** [out] bias. */
  readonly bias: tf.Variable;
  /** The layer's input x on the probe's samples, [rows, in] ([rows, 0] for a bias-only layer). */
  readonly input: tf.Tensor2D;
  /**
   * An explicit layer (e.g. a conv layer, whose per-sample gradient Σ_p patch_p ⊗ δ_p is not rank one): the probe
   * has formed each sample's gradient w.r.t. these variables itself. Then `kernel` is null, `bias` is the last of
   * them (it names the layer), `input` is [rows, 0], and the layer's δ is that gradient, [rows, Σ sizes], the
   * variables flattened (row-major) and concatenated in this order. Everything the monitor computes from x̃ᵀδ holds
   * with x̃ = [1].
   */
  readonly flat?: readonly tf.Variable[];
}

/** δ of one component at one layer: a tensor, or another component's δ there times a constant (no second copy). */
export type FactorDelta = tf.Tensor2D | { readonly sameAs: NoiseComponent; readonly scale: number };

/**
 * Per-sample gradients in factored form. For dense layer l, sample i's gradient of component c's per-sample loss ℓ_i
 * w.r.t. [W; b] is x̃_iᵀ δ_{c,l,i} with x̃_i = [x_i, 1] and δ_{c,l} = ∂(Σ_j ℓ_j)/∂z_l ([rows, out]: the SUM's δ, i.e.
 * `rows` × the δ of the mean loss). `deltas[c][l]` is undefined where component c does not depend on layer l; a
 * component's variables are exactly the kernels and biases of the layers where it has a δ. Layers may be shared by
 * several components (one input tensor, one δ per component). The tensors belong to the caller's tf.tidy scope.
 */
export interface GradientFactors {
  readonly layers: readonly FactorLayer[];
  readonly deltas: Partial<Record<NoiseComponent, readonly (FactorDelta | undefined)[]>>;
}

/**
 * Curvature for B_noise, frozen at the probe's parameters θ₀ when `curvature()` is called. Per component a per-sample
 * curvature loss c_i(θ) whose gradient at θ₀ is the component's per-sample gradient and whose expected Hessian there is
 * the Hessian of the objective's local model:
 * - `policy`: the importance-weighted surrogate c_i(θ) = −Â_i·π_θ(a_i|s_i)/π_θ₀(a_i|s_i) (ratio 1 at θ₀). For fixed
 *   advantages its expectation over the behaviour policy θ₀ is −E_{π_θ}[Â], the objective's first-order model around
 *   θ₀; its Hessian contains the score-function term ∇log π ∇log πᵀ that the Hessian of −Â·log π lacks;
 * - `value`: the value loss itself, ½(V(s_i) − R_i)²;
 * - `total` (when offered): the full loss with the surrogate in place of the policy term.
 * The monitor perturbs the variables, asks for factors at the perturbed point and restores the variables.
 */
export interface CurvatureProbe {
  /** Components whose curvature loss is available. */
  readonly components: readonly NoiseComponent[];
  /** Factors of the curvature losses on `rows` (row r of the result is sample rows[r]) at the variables' CURRENT values. */
  factors(rows: Int32Array): GradientFactors;
  /** One component's curvature loss, the mean over `rows`, at the variables' current values (for checks). */
  loss(component: NoiseComponent, rows: Int32Array): tf.Scalar;
}

export interface NoiseProbe {
  /** Samples in the rollout (numEnvs × numSteps, or fewer for REINFORCE's complete episodes). */
  readonly n: number;
  /** Group id per sample: the env whose rollout segment it belongs to; each segment's samples are contiguous, in time order. */
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
  /** Optional fast path: every component's factored per-sample gradients at θ, in one pass (call inside a tf.tidy). */
  factors?(): GradientFactors;
  /** Optional, for B_noise: curvature losses frozen at the current parameters (call before any perturbation). */
  curvature?(): CurvatureProbe;
}
