/** The naive conv baseline's filter gradient on wasm (naive-conv-grad.ts) against tfjs-cpu's own Conv2DBackpropFilter. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ensureConvFilterGrad } from '../../src/bench/naive-conv-grad.js';
import { Rng } from '../../src/core/rng.js';

/** d/dW of Σ r ⊙ conv2d(x, W) (valid, stride `stride`): exactly Conv2DBackpropFilter(x, r). */
function filterGradient(x: Float32Array, w: Float32Array, xShape: [number, number, number, number], wShape: [number, number, number, number], stride: number, r: Float32Array) {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape);
    const wt = tf.tensor4d(w, wShape);
    const y = tf.conv2d(xt, wt, stride, 'valid');
    const rt = tf.tensor(r, y.shape);
    return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, v as tf.Tensor4D, stride, 'valid'), rt)))(wt).dataSync();
  });
}

describe('naive conv filter gradient', () => {
  it('on wasm equals tfjs-cpu, stride 1 and 2, several channels', async () => {
    const rng = new Rng(3);
    const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
    for (const stride of [1, 2]) {
      const xShape: [number, number, number, number] = [3, 7, 6, 4];
      const wShape: [number, number, number, number] = [3, 3, 4, 5];
      const x = fill(3 * 7 * 6 * 4);
      const w = fill(3 * 3 * 4 * 5);
      const oh = Math.floor((7 - 3) / stride) + 1;
      const ow = Math.floor((6 - 3) / stride) + 1;
      const r = fill(3 * oh * ow * 5);
      await tf.setBackend('cpu');
      const expected = filterGradient(x, w, xShape, wShape, stride, r);
      await tf.setBackend('wasm');
      ensureConvFilterGrad();
      const got = filterGradient(x, w, xShape, wShape, stride, r);
      assert.equal(got.length, expected.length);
      let worst = 0;
      for (let k = 0; k < got.length; k++) worst = Math.max(worst, Math.abs(got[k]! - expected[k]!));
      assert.ok(worst < 1e-4, `stride ${stride}: max |Δ| ${worst}`);
      assert.ok(expected.some((v) => Math.abs(v) > 0.1), 'a non-trivial gradient');
    }
  });
});
