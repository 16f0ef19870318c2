/**
 * Optimizers over one flat parameter vector (`FlatOptimizer`: sgd, momentum, adam, rmsprop, with global grad-norm
 * clipping), the learning-rate schedule (`annealedLr`) and the divergence check each step makes (`assertFinite`).
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../src/config/schema.js';
import { DivergedError } from '../src/core/errors.js';

/**
 * Where the optimizer keeps its state and does its arithmetic: `host` in plain typed arrays (the backends whose tensors
 * live in host memory, where a step written as tfjs ops costs a kernel launch per op for a few thousand numbers), or
 * `device` as tfjs tensors (GPU backends, where reading the gradient back would cost more than the ops).
 */
export type OptimizerPlacement = 'host' | 'device';

const HOST_BACKENDS = new Set(['wasm', 'cpu']);

/** The placement `FlatOptimizer` takes on the active backend. */
export function defaultPlacement(): OptimizerPlacement {
  return HOST_BACKENDS.has(tf.getBackend()) ? 'host' : 'device';
}

/**
 * sgd | momentum | adam | rmsprop with PyTorch's update rules (Adam with bias correction and ε outside the square
 * root; RMSProp uncentred, ε outside the root; momentum as torch.optim.SGD with dampening 0), plus global grad-norm
 * clipping as torch.nn.utils.clip_grad_norm_. The state and a mirror of the parameters live in flat vectors, so one
 * step is a dozen tfjs ops whatever the number of layers; the variables are rewritten from the flat mirror after
 * each step. Change the variables only through `step` (or call `resync()` after writing them yourself).
 *
 * On `host` placement the same rules run in a loop over float32 arrays (the arithmetic in float64, each stored value
 * rounded once): one kernel gathers the gradients, one read brings them over, and each variable is written back from
 * the mirror, instead of about twenty kernels and a read per step.
 */
export class FlatOptimizer {
  readonly config: OptimizerConfig;
  readonly variables: readonly tf.Variable[];
  readonly placement: OptimizerPlacement;
  private readonly sizes: number[];
  private readonly offsets: number[];
  private readonly total: number;
  private params: tf.Tensor | null = null;
  private m: tf.Tensor | null = null;
  private v: tf.Tensor | null = null;
  private t = 0;
  // Host placement: the parameter mirror and the moments (zero until the first step).
  private readonly hostParams: Float32Array | null = null;
  private readonly hostM: Float32Array | null = null;
  private readonly hostV: Float32Array | null = null;

  constructor(variables: readonly tf.Variable[], config: OptimizerConfig, placement: OptimizerPlacement = defaultPlacement()) {
    this.config = config;
    this.variables = variables;
    this.placement = placement;
    this.sizes = variables.map((v) => v.size);
    this.offsets = [];
    let offset = 0;
    for (const size of this.sizes) {
      this.offsets.push(offset);
      offset += size;
    }
    this.total = offset;
    if (placement === 'host') {
      this.hostParams = new Float32Array(offset);
      this.readParams();
      if (config.type !== 'sgd') this.hostM = new Float32Array(offset);
      if (config.type === 'adam' || config.type === 'rmsprop') this.hostV = new Float32Array(offset);
    } else {
      this.params = this.flatten(variables);
    }
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** Re-read the parameters from the variables. */
  resync(): void {
    if (this.hostParams) return this.readParams();
    this.params?.dispose();
    this.params = this.flatten(this.variables);
  }

  /**
   * One step with the gradients of the loss (same order as `variables`; `null` = zero). Returns the global gradient
   * norm before clipping; throws DivergedError (tagged with `update`) when it is not finite.
   */
  step(grads: readonly (tf.Tensor | null)[], lr: number, maxGradNorm: number, update: number): number {
    if (this.hostParams) return this.hostStep(grads, lr, maxGradNorm, update);
    let gradNorm = 0;
    let params: tf.Tensor | null = null;
    let m: tf.Tensor | null = null;
    let v: tf.Tensor | null = null;
    tf.tidy(() => {
      const g = tf.concat(grads.map((grad, i) => (grad ? flat(grad) : tf.zeros([this.sizes[i]!]))));
      const gSq = tf.square(g);
      gradNorm = Math.sqrt(tf.sum(gSq).dataSync()[0]!);
      assertFinite(gradNorm, update, 'gradient norm');
      const scale = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (gradNorm + 1e-6)) : 1;
      const { type, momentum, beta1, beta2, decay, eps } = this.config;
      const t = this.t + 1;
      let delta: tf.Tensor;
      switch (type) {
        case 'sgd':
          delta = tf.mul(g, lr * scale);
          break;
        case 'momentum':
          m = this.m ? tf.add(tf.mul(this.m, momentum), tf.mul(g, scale)) : tf.mul(g, scale);
          delta = tf.mul(m, lr);
          break;
        case 'adam': {
          m = tf.add(tf.mul(this.m ?? tf.zeros([this.total]), beta1), tf.mul(g, (1 - beta1) * scale));
          v = tf.add(tf.mul(this.v ?? tf.zeros([this.total]), beta2), tf.mul(gSq, (1 - beta2) * scale * scale));
          const bc1 = 1 - beta1 ** t;
          const bc2 = 1 - beta2 ** t;
          const denom = tf.add(tf.mul(tf.sqrt(v), 1 / Math.sqrt(bc2)), eps);
          delta = tf.mul(tf.div(m, denom), lr / bc1);
          break;
        }
        case 'rmsprop': {
          v = tf.add(tf.mul(this.v ?? tf.zeros([this.total]), decay), tf.mul(gSq, (1 - decay) * scale * scale));
          delta = tf.mul(tf.div(g, tf.add(tf.sqrt(v), eps)), lr * scale);
          break;
        }
      }
      params = tf.keep(tf.sub(this.params!, delta));
      if (m) tf.keep(m);
      if (v) tf.keep(v);
      const pieces = tf.split(params, this.sizes);
      this.variables.forEach((variable, i) => variable.assign(variable.rank === 1 ? pieces[i]! : tf.reshape(pieces[i]!, variable.shape)));
    });
    this.t += 1;
    this.params?.dispose();
    this.params = params!;
    if (m) {
      this.m?.dispose();
      this.m = m;
    }
    if (v) {
      this.v?.dispose();
      this.v = v;
    }
    return gradNorm;
  }

  /**
   * The diagonal preconditioner of `variable` (shaped like it): Adam's 1/(sqrt(v̂)+ε), RMSProp's 1/(sqrt(v)+ε);
   * null for sgd and momentum, for unknown variables, and before the first step. The caller owns the tensor.
   */
  preconditioner(variable: tf.Variable): tf.Tensor | null {
    const index = this.variables.indexOf(variable);
    const { type, beta2, eps } = this.config;
    if (index < 0 || this.t === 0 || (type !== 'adam' && type !== 'rmsprop')) return null;
    if (this.hostV) {
      const offset = this.offsets[index]!;
      const bc2 = type === 'adam' ? Math.sqrt(1 - beta2 ** this.t) : 1;
      const out = new Float32Array(this.sizes[index]!);
      for (let i = 0; i < out.length; i++) out[i] = 1 / (Math.sqrt(this.hostV[offset + i]!) / bc2 + eps);
      return tf.tensor(out, variable.shape);
    }
    if (!this.v) return null;
    const v = this.v;
    return tf.tidy(() => {
      const slice = tf.slice(v, [this.offsets[index]!], [this.sizes[index]!]);
      const root = type === 'adam' ? tf.mul(tf.sqrt(slice), 1 / Math.sqrt(1 - beta2 ** this.t)) : tf.sqrt(slice);
      return tf.reshape(tf.reciprocal(tf.add(root, eps)), variable.shape);
    });
  }

  dispose(): void {
    tf.dispose([...(this.params ? [this.params] : []), ...(this.m ? [this.m] : []), ...(this.v ? [this.v] : [])]);
    this.params = null;
    this.m = null;
    this.v = null;
  }

  /** `step` on host placement: the same rules over the typed arrays. */
  private hostStep(grads: readonly (tf.Tensor | null)[], lr: number, maxGradNorm: number, update: number): number {
    // Not returned through tf.tidy, which would walk the array's elements looking for tensors.
    let g: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const parts = grads.map((grad, i) => (grad ? flat(grad) : tf.zeros([this.sizes[i]!])));
      g = (parts.length === 1 ? parts[0]! : tf.concat(parts)).dataSync() as Float32Array;
    });
    let sumSq = 0;
    for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
    const gradNorm = Math.sqrt(sumSq);
    assertFinite(gradNorm, update, 'gradient norm');
    const scale = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (gradNorm + 1e-6)) : 1;
    const { type, momentum, beta1, beta2, decay, eps } = this.config;
    const theta = this.hostParams!;
    const m = this.hostM!;
    const v = this.hostV!;
    const t = this.t + 1;
    const n = this.total;
    switch (type) {
      case 'sgd':
        for (let i = 0; i < n; i++) theta[i] = theta[i]! - lr * scale * g[i]!;
        break;
      case 'momentum':
        for (let i = 0; i < n; i++) {
          m[i] = momentum * m[i]! + scale * g[i]!;
          theta[i] = theta[i]! - lr * m[i]!;
        }
        break;
      case 'adam': {
        const stepSize = lr / (1 - beta1 ** t);
        const rootBc2 = Math.sqrt(1 - beta2 ** t);
        for (let i = 0; i < n; i++) {
          const gi = scale * g[i]!;
          m[i] = beta1 * m[i]! + (1 - beta1) * gi;
          v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
          theta[i] = theta[i]! - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / rootBc2 + eps);
        }
        break;
      }
      case 'rmsprop':
        for (let i = 0; i < n; i++) {
          const gi = scale * g[i]!;
          v[i] = decay * v[i]! + (1 - decay) * gi * gi;
          theta[i] = theta[i]! - (lr * gi) / (Math.sqrt(v[i]!) + eps);
        }
        break;
    }
    this.t = t;
    this.variables.forEach((variable, i) => {
      // A copy: the cpu backend keeps the array it is given, and the mirror changes at the next step.
      const values = theta.slice(this.offsets[i]!, this.offsets[i]! + this.sizes[i]!);
      tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
    });
    return gradNorm;
  }

  /** Host placement: the mirror from the variables. */
  private readParams(): void {
    this.variables.forEach((variable, i) => this.hostParams!.set(variable.dataSync() as Float32Array, this.offsets[i]!));
  }

  private flatten(variables: readonly tf.Variable[]): tf.Tensor {
    return tf.tidy(() => tf.concat(variables.map(flat)));
  }
}

/** A 1-D view of `t` (no kernel call when it already is one). */
function flat(t: tf.Tensor): tf.Tensor {
  return t.rank === 1 ? t : tf.reshape(t, [-1]);
}

/** Throws DivergedError (tagged with the 1-based `update`) when `value` is NaN or ±Inf. */
export function assertFinite(value: number, update: number, what: string): void {
  if (!Number.isFinite(value)) throw new DivergedError(update, `${what} (${value})`);
}

/** Linear annealing to 0 over training (CleanRL: lr·(1 − progress) at the start of each update). */
export function annealedLr(lr: number, anneal: boolean, progress: number): number {
  if (!anneal) return lr;
  return lr * (1 - Math.min(1, Math.max(0, progress)));
}
