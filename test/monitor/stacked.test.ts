/**
 * factorStats (src/monitor/stacked.ts) on a layer wide enough, with groups many enough, that the group sums are
 * reduced chunk by chunk: the per-group |u_k|², neighbour products and P-weighted versions equal the sums formed group
 * by group, and nothing is left behind.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { blockGroups } from '../../src/monitor/groups.js';
import type { GradientFactors } from '../../src/monitor/probe.js';
import { factorStats } from '../../src/monitor/stacked.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('factorStats with chunked group sums', () => {
  it('per-group and neighbour statistics equal group-by-group sums (1,025 × 64 layer, 120 linked blocks)', () => {
    const rng = new Rng('chunks');
    const n = 600;
    const inSize = 1024;
    const out = 64;
    const segments = Int32Array.from({ length: n }, (_, i) => Math.floor(i / 150));
    const groups = blockGroups(segments, 5);
    assert.ok(groups.count * (inSize + 1) * out > 1 << 22, 'the case is large enough to be chunked');
    const kernel = tf.variable(tf.zeros([inSize, out]));
    const bias = tf.variable(tf.zeros([out]));
    const x = tf.tensor2d(Float32Array.from({ length: n * inSize }, () => rng.normal()), [n, inSize]);
    const delta = tf.tensor2d(Float32Array.from({ length: n * out }, () => rng.normal()), [n, out]);
    const p = tf.tensor2d(Float32Array.from({ length: (inSize + 1) * out }, () => rng.uniform() + 0.5), [inSize + 1, out]);
    const factors: GradientFactors = { layers: [{ kernel, bias, input: x }], deltas: { total: [delta] } };
    const before = tf.memory().numTensors;
    const { stats } = factorStats(factors, ['total'], { groups, preconditioner: (v) => (v === kernel ? tf.slice(p, [0, 0], [inSize, out]) : tf.reshape(tf.slice(p, [inSize, 0], [1, out]), [out])) });
    // The preconditioner's slices are made inside factorStats' scope: everything is released.
    assert.equal(tf.memory().numTensors, before);
    const s = stats.total!;
    const expected = tf.tidy(() => {
      const xs = tf.concat([x, tf.ones([n, 1])], 1);
      const p2 = tf.square(p);
      const sums: tf.Tensor2D[] = [];
      let start = 0;
      for (let k = 0; k < groups.count; k++) {
        const m = groups.sizes[k]!;
        sums.push(tf.matMul(tf.slice(xs, [start, 0], [m, -1]), tf.slice(delta, [start, 0], [m, -1]), true, false) as tf.Tensor2D);
        start += m;
      }
      const sq = sums.map((u) => tf.sum(tf.square(u)).dataSync()[0]!);
      const pre = sums.map((u) => tf.sum(tf.mul(tf.square(u), p2)).dataSync()[0]!);
      const next = sums.slice(1).map((u, k) => tf.sum(tf.mul(u, sums[k]!)).dataSync()[0]!);
      const preNext = sums.slice(1).map((u, k) => tf.sum(tf.mul(tf.mul(u, sums[k]!), p2)).dataSync()[0]!);
      return { sq, pre, next, preNext };
    });
    const close = (a: ArrayLike<number>, b: readonly number[], what: string) => {
      assert.equal(a.length, b.length, what);
      const scale = Math.max(...b.map(Math.abs));
      b.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) <= 1e-4 * scale, `${what}[${i}]: ${a[i]} vs ${v}`));
    };
    close(s.total.sumSq, expected.sq, 'sumSq');
    close(s.total.neighborDot!, expected.next, 'neighborDot');
    close(s.preconditioned!.sumSq, expected.pre, 'preconditioned sumSq');
    close(s.preconditioned!.neighborDot!, expected.preNext, 'preconditioned neighborDot');
    tf.dispose([kernel, bias, x, delta, p]);
  });
});
