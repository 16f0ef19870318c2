/**
 * The recurrent actor-critic (`agent.network.torso: "gru"`): one GRU layer of `recurrentHidden` units over the
 * observations, whose state feeds a linear policy head (categorical logits) and a linear value head.
 *
 * GRU (torch's convention): with g = x·Wx + bx and u = h·Wh + bh, each split into [r | z | n] blocks of H columns,
 *   r = σ(g_r + u_r),  z = σ(g_z + u_z),  ñ = tanh(g_n + r ∘ u_n),  h' = (1 − z) ∘ ñ + z ∘ h.
 * Episode ends reset the state: a step whose observation starts a new episode (`starts` = 1) begins from h = 0, the
 * same in acting (`step`) and in training (`sequence`, backpropagation through the whole segment from its stored
 * initial state), so that the log-probabilities and values recomputed in training equal those seen while acting.
 *
 * Initialisation: orthogonal Wx, Wh (gain 1), zero biases; heads orthogonal with `policyGain` / `valueGain`, all
 * drawn from the `init` stream.
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import { orthogonal } from './networks.js';

export interface RecurrentOutput {
  /** [rows, A] logits, rows in the order of the observations given. */
  policy: tf.Tensor2D;
  /** [rows]. */
  value: tf.Tensor1D;
}

let recurrentCounter = 0;

export class RecurrentActorCritic {
  readonly kind = 'categorical' as const;
  readonly obsSize: number;
  readonly actionDim: number;
  readonly hiddenSize: number;
  /** [obs, 3H], [H, 3H], [3H], [3H]. */
  readonly wx: tf.Variable<tf.Rank.R2>;
  readonly wh: tf.Variable<tf.Rank.R2>;
  readonly bx: tf.Variable<tf.Rank.R1>;
  readonly bh: tf.Variable<tf.Rank.R1>;
  readonly policyW: tf.Variable<tf.Rank.R2>;
  readonly policyB: tf.Variable<tf.Rank.R1>;
  readonly valueW: tf.Variable<tf.Rank.R2>;
  readonly valueB: tf.Variable<tf.Rank.R1>;
  readonly variables: readonly tf.Variable[];

  constructor(obsSize: number, actions: number, config: NetworkConfig, initRng: Rng) {
    this.obsSize = obsSize;
    this.actionDim = actions;
    const h = config.recurrentHidden;
    this.hiddenSize = h;
    const id = recurrentCounter++;
    const variable = (name: string, values: Float32Array, shape: number[]) => {
      const initial = tf.tensor(values, shape);
      const v = tf.variable(initial, true, `gru${id}/${name}`);
      initial.dispose();
      return v;
    };
    this.wx = variable('Wx', orthogonal(obsSize, 3 * h, 1, initRng), [obsSize, 3 * h]) as tf.Variable<tf.Rank.R2>;
    this.wh = variable('Wh', orthogonal(h, 3 * h, 1, initRng), [h, 3 * h]) as tf.Variable<tf.Rank.R2>;
    this.bx = variable('bx', new Float32Array(3 * h), [3 * h]) as tf.Variable<tf.Rank.R1>;
    this.bh = variable('bh', new Float32Array(3 * h), [3 * h]) as tf.Variable<tf.Rank.R1>;
    this.policyW = variable('policyW', orthogonal(h, actions, config.policyGain, initRng), [h, actions]) as tf.Variable<tf.Rank.R2>;
    this.policyB = variable('policyB', new Float32Array(actions), [actions]) as tf.Variable<tf.Rank.R1>;
    this.valueW = variable('valueW', orthogonal(h, 1, config.valueGain, initRng), [h, 1]) as tf.Variable<tf.Rank.R2>;
    this.valueB = variable('valueB', new Float32Array(1), [1]) as tf.Variable<tf.Rank.R1>;
    this.variables = [this.wx, this.wh, this.bx, this.bh, this.policyW, this.policyB, this.valueW, this.valueB];
  }

  /** One GRU step from g = x·Wx + bx ([m, 3H]) and the previous state h ([m, H], already reset where needed). */
  private cell(g: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
    const H = this.hiddenSize;
    const u = tf.add(tf.matMul(h, this.wh), this.bh) as tf.Tensor2D;
    const [gr, gz, gn] = tf.split(g, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const [ur, uz, un] = tf.split(u, [H, H, H], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const r = tf.sigmoid(tf.add(gr, ur));
    const z = tf.sigmoid(tf.add(gz, uz));
    const n = tf.tanh(tf.add(gn, tf.mul(r, un)));
    return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
  }

  /** The state after one step on x [m, obs] from h [m, H]; `starts[e]` = 1 resets e's state to 0 first. */
  step(x: tf.Tensor2D, h: tf.Tensor2D, starts: Float32Array): tf.Tensor2D {
    const m = x.shape[0];
    const keep = tf.tensor2d(Float32Array.from(starts, (s) => 1 - s), [m, 1]);
    return this.cell(tf.add(tf.matMul(x, this.wx), this.bx) as tf.Tensor2D, tf.mul(h, keep) as tf.Tensor2D);
  }

  /**
   * States of m env segments of T steps: `obs` [m·T, obs] env-major (row e·T + t), `h0` [m, H] the state before each
   * segment's first step, `starts` [m·T] (1 where the step begins an episode). Returns the states [m·T, H], env-major.
   */
  sequence(obs: tf.Tensor2D, h0: tf.Tensor2D, starts: Float32Array, T: number): tf.Tensor2D {
    const m = h0.shape[0];
    const H = this.hiddenSize;
    const g = tf.reshape(tf.add(tf.matMul(obs, this.wx), this.bx), [m, T, 3 * H]);
    const gs = tf.unstack(g, 1) as tf.Tensor2D[];
    const keepAll = Float32Array.from(starts, (s) => 1 - s);
    const states: tf.Tensor2D[] = [];
    let h = h0;
    for (let t = 0; t < T; t++) {
      const keep = tf.tensor2d(Float32Array.from({ length: m }, (_, e) => keepAll[e * T + t]!), [m, 1]);
      h = this.cell(gs[t]!, tf.mul(h, keep) as tf.Tensor2D);
      states.push(h);
    }
    return tf.reshape(tf.stack(states, 1), [m * T, H]) as tf.Tensor2D;
  }

  /** Policy logits and values of states h [rows, H]. */
  heads(h: tf.Tensor2D): RecurrentOutput {
    const rows = h.shape[0];
    return {
      policy: tf.add(tf.matMul(h, this.policyW), this.policyB) as tf.Tensor2D,
      value: tf.reshape(tf.add(tf.matMul(h, this.valueW), this.valueB), [rows]) as tf.Tensor1D,
    };
  }

  get parameterCount(): number {
    return this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
