/**
 * The GRU actor-critic (agents/gru.ts): the state is reset to zero where an episode starts, in `step` and in
 * `sequence` alike, and gradients flow back through a whole segment to every variable with its shape.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { RecurrentActorCritic } from '../../agents/gru.js';
import { networkSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

function makeNet(seed: string): RecurrentActorCritic {
  return new RecurrentActorCritic(3, 2, networkSection.parse({ torso: 'gru', recurrentHidden: 5, policyGain: 1 }), new Rng(seed));
}

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('RecurrentActorCritic', () => {
  it('a step that starts an episode forgets the state: the rest of the segment equals a fresh segment from zero', () => {
    const net = makeNet('reset');
    const rng = new Rng('obs');
    const T = 6;
    const obs = Float32Array.from({ length: 2 * T * 3 }, () => rng.normal());
    tf.tidy(() => {
      const x = tf.tensor2d(obs, [2 * T, 3]);
      const h0 = tf.tensor2d(Float32Array.from({ length: 10 }, () => rng.normal()), [2, 5]);
      // Env 0 starts a new episode at t = 3; env 1 never does.
      const starts = new Float32Array(2 * T);
      starts[3] = 1;
      const states = net.sequence(x, h0, starts, T);
      const fresh = net.sequence(tf.slice(x, [3, 0], [3, 3]) as tf.Tensor2D, tf.zeros([1, 5]) as tf.Tensor2D, new Float32Array(3), 3);
      assert.ok(maxDiff(tf.slice(states, [3, 0], [3, 5]), fresh) < 1e-6, 'after the reset env 0 runs from h = 0');
      // Without the reset flag the state carries over and the outputs differ.
      const carried = net.sequence(x, h0, new Float32Array(2 * T), T);
      assert.ok(maxDiff(tf.slice(carried, [3, 0], [3, 5]), fresh) > 1e-3, 'the carried state matters (the test can fail)');
      assert.ok(maxDiff(tf.slice(carried, [T, 0], [T, 5]), tf.slice(states, [T, 0], [T, 5])) < 1e-7, "env 1's segment is unaffected");
      // step() agrees with sequence(), reset included.
      let h = h0;
      for (let t = 0; t < T; t++) {
        const xt = tf.concat([tf.slice(x, [t, 0], [1, 3]), tf.slice(x, [T + t, 0], [1, 3])]) as tf.Tensor2D;
        h = net.step(xt, h, Float32Array.of(starts[t]!, starts[T + t]!));
        assert.ok(maxDiff(h, tf.concat([tf.slice(states, [t, 0], [1, 5]), tf.slice(states, [T + t, 0], [1, 5])])) < 1e-6, `step ${t}`);
      }
    });
    net.dispose();
  });

  it('BPTT over a segment reaches every variable, with its shape, and the initial state matters to it', () => {
    const net = makeNet('grads');
    const rng = new Rng('obs2');
    tf.tidy(() => {
      const x = tf.tensor2d(Float32Array.from({ length: 8 * 3 }, () => rng.normal()), [8, 3]);
      const loss = (h0: tf.Tensor2D) => () => {
        const out = net.heads(net.sequence(x, h0, new Float32Array(8), 4));
        return tf.add(tf.sum(tf.square(out.policy)), tf.sum(out.value)) as tf.Scalar;
      };
      const { grads } = tf.variableGrads(loss(tf.zeros([2, 5]) as tf.Tensor2D), net.variables as tf.Variable[]);
      for (const v of net.variables) {
        assert.deepEqual(grads[v.name]!.shape, v.shape, v.name);
        assert.ok(tf.sum(tf.abs(grads[v.name]!)).dataSync()[0]! > 0, `${v.name} gets a gradient`);
      }
      const other = tf.variableGrads(loss(tf.ones([2, 5]) as tf.Tensor2D), net.variables as tf.Variable[]).grads;
      assert.ok(maxDiff(other[net.wh.name]!, grads[net.wh.name]!) > 1e-6);
    });
    net.dispose();
  });
});
