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
    // Without a preconditioner the short blocks take the Gram path (within and between neighbouring blocks): same figures.
    const plain = factorStats(factors, ['total'], { groups }).stats.total!;
    assert.equal(tf.memory().numTensors, before);
    close(plain.total.sumSq, expected.sq, 'Gram sumSq');
    close(plain.total.neighborDot!, expected.next, 'Gram neighborDot');
    close(plain.total.sumDot, Array.from(s.total.sumDot), 'sumDot');
    tf.dispose([kernel, bias, x, delta, p]);
  });

  it('the Gram path with two components and unequal, unlinked groups equals the group sums', () => {
    const rng = new Rng('gram');
    const n = 90;
    const layer = { kernel: tf.variable(tf.zeros([300, 8])), bias: tf.variable(tf.zeros([8])), input: tf.tensor2d(Float32Array.from({ length: n * 300 }, () => rng.normal()), [n, 300]) };
    const a = tf.tensor2d(Float32Array.from({ length: n * 8 }, () => rng.normal()), [n, 8]);
    const b = tf.tensor2d(Float32Array.from({ length: n * 8 }, () => rng.normal()), [n, 8]);
    // 30 groups of sizes 2, 3, 4 in turn, members interleaved (not contiguous).
    const sizes = Int32Array.from({ length: 30 }, (_, k) => 2 + (k % 3));
    const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => ((i * 37) % n) - ((j * 37) % n));
    const ids = new Int32Array(n);
    let at = 0;
    sizes.forEach((m, k) => {
      for (let r = 0; r < m; r++) ids[order[at++]!] = k;
    });
    const groups = { ids, count: 30, sizes };
    const { stats } = factorStats({ layers: [layer], deltas: { policy: [a], value: [b] } }, ['policy', 'value'], { groups });
    for (const [name, delta] of [['policy', a], ['value', b]] as const) {
      const expected = tf.tidy(() => {
        const xs = tf.concat([layer.input, tf.ones([n, 1])], 1);
        return Array.from({ length: 30 }, (_, k) => {
          const rows = tf.tensor1d(Int32Array.from(Array.from(ids).flatMap((g, i) => (g === k ? [i] : []))), 'int32');
          return tf.sum(tf.square(tf.matMul(tf.gather(xs, rows), tf.gather(delta, rows), true, false))).dataSync()[0]!;
        });
      });
      const got = stats[name]!.total.sumSq;
      expected.forEach((v, k) => assert.ok(Math.abs(got[k]! - v) <= 1e-4 * Math.max(...expected), `${name} group ${k}: ${got[k]} vs ${v}`));
    }
    tf.dispose([layer.kernel, layer.bias, layer.input, a, b]);
  });
});
