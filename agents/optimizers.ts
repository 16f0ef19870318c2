/**
 * Optimizers over one flat parameter vector (`FlatOptimizer`: sgd, momentum, adam, rmsprop, with global grad-norm
 * clipping), the learning-rate schedule (`annealedLr`) and the divergence check each step makes (`assertFinite`).
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../src/config/schema.js';
import { DivergedError } from '../src/core/errors.js';

/**
 * sgd | momentum | adam | rmsprop with PyTorch's update rules (Adam with bias correction and ε outside the square
 * root; RMSProp uncentred, ε outside the root; momentum as torch.optim.SGD with dampening 0), plus global grad-norm
 * clipping as torch.nn.utils.clip_grad_norm_. The state and a mirror of the parameters live in flat vectors, so one
 * step is a dozen tfjs ops whatever the number of layers; the variables are rewritten from the flat mirror after
 * each step. Change the variables only through `step` (or call `resync()` after writing them yourself).
 */
export class FlatOptimizer {
  readonly config: OptimizerConfig;
  readonly variables: readonly tf.Variable[];
  private readonly sizes: number[];
  private readonly offsets: number[];
  private readonly total: number;
  private params: tf.Tensor;
  private m: tf.Tensor | null = null;
  private v: tf.Tensor | null = null;
  private t = 0;

  constructor(variables: readonly tf.Variable[], config: OptimizerConfig) {
    this.config = config;
    this.variables = variables;
    this.sizes = variables.map((v) => v.size);
    this.offsets = [];
    let offset = 0;
    for (const size of this.sizes) {
      this.offsets.push(offset);
      offset += size;
    }
    this.total = offset;
    this.params = this.flatten(variables);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** Re-read the parameters from the variables. */
  resync(): void {
    this.params.dispose();
    this.params = this.flatten(this.variables);
  }

  /**
   * One step with the gradients of the loss (same order as `variables`; `null` = zero). Returns the global gradient
   * norm before clipping; throws DivergedError (tagged with `update`) when it is not finite.
   */
  step(grads: readonly (tf.Tensor | null)[], lr: number, maxGradNorm: number, update: number): number {
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
      params = tf.keep(tf.sub(this.params, delta));
      if (m) tf.keep(m);
      if (v) tf.keep(v);
      const pieces = tf.split(params, this.sizes);
      this.variables.forEach((variable, i) => variable.assign(variable.rank === 1 ? pieces[i]! : tf.reshape(pieces[i]!, variable.shape)));
    });
    this.t += 1;
    this.params.dispose();
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
    if (index < 0 || !this.v || this.t === 0) return null;
    const { type, beta2, eps } = this.config;
    if (type !== 'adam' && type !== 'rmsprop') return null;
    const v = this.v;
    return tf.tidy(() => {
      const slice = tf.slice(v, [this.offsets[index]!], [this.sizes[index]!]);
      const root = type === 'adam' ? tf.mul(tf.sqrt(slice), 1 / Math.sqrt(1 - beta2 ** this.t)) : tf.sqrt(slice);
      return tf.reshape(tf.reciprocal(tf.add(root, eps)), variable.shape);
    });
  }

  dispose(): void {
    tf.dispose([this.params, ...(this.m ? [this.m] : []), ...(this.v ? [this.v] : [])]);
    this.m = null;
    this.v = null;
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
