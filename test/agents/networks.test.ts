import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ActorCritic, orthogonal, PlainForward } from '../../agents/networks.js';
import { networkSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';

before(async () => {
  await tf.setBackend('cpu');
});

function randomObs(rng: Rng, n: number, size: number): Float32Array {
  return Float32Array.from({ length: n * size }, () => 2 * rng.normal());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const cases: { name: string; space: Space; obsSize: number; shared: boolean; activation: 'tanh' | 'relu'; hidden: number[] }[] = [
  { name: 'Discrete, separate, tanh', space: new Discrete(3), obsSize: 4, shared: false, activation: 'tanh', hidden: [64, 64] },
  { name: 'Discrete, shared, relu', space: new Discrete(2), obsSize: 5, shared: true, activation: 'relu', hidden: [32, 16] },
  { name: 'Box, separate, tanh', space: new Box([-2, -1], [2, 1]), obsSize: 3, shared: false, activation: 'tanh', hidden: [64, 64] },
  { name: 'Box, shared, tanh', space: new Box(-1, 1, [3]), obsSize: 6, shared: true, activation: 'tanh', hidden: [24] },
  { name: 'Discrete, no hidden layer', space: new Discrete(4), obsSize: 2, shared: false, activation: 'tanh', hidden: [] },
];

describe('ActorCritic', () => {
  for (const c of cases) {
    it(`plain-TS forward equals the tfjs forward (${c.name})`, () => {
      const config = networkSection.parse({ hidden: c.hidden, activation: c.activation, shared: c.shared, policyGain: 1, logStdInit: -0.3 });
      const net = new ActorCritic(c.obsSize, c.space, config, new Rng('net'), { value: true });
      // Move the weights off their init (zero biases would hide bias bugs).
      tf.tidy(() => {
        for (const v of net.variables) v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 7)));
      });
      const plain = new PlainForward(net);
      const n = 9;
      const obs = randomObs(new Rng('obs'), n, c.obsSize);
      const out = tf.tidy(() => {
        const r = net.forward(tf.tensor2d(obs, [n, c.obsSize]));
        return {
          policy: r.policy!.dataSync().slice(),
          value: r.value!.dataSync().slice(),
          logStd: r.logStd ? r.logStd.dataSync().slice() : new Float32Array(0),
        };
      });
      const policy = new Float64Array(n * net.actionDim);
      const value = new Float64Array(n);
      plain.both(obs, n, policy, value);
      assert.ok(maxAbsDiff(policy, out.policy) < 1e-5, `policy differs by ${maxAbsDiff(policy, out.policy)}`);
      assert.ok(maxAbsDiff(value, out.value) < 1e-5, `value differs by ${maxAbsDiff(value, out.value)}`);
      const policyOnly = new Float64Array(n * net.actionDim);
      const valueOnly = new Float64Array(n);
      plain.policy(obs, n, policyOnly);
      plain.value(obs, n, valueOnly);
      assert.deepEqual(policyOnly, policy);
      assert.deepEqual(valueOnly, value);
      if (net.kind === 'gaussian') assert.ok(maxAbsDiff(plain.logStd, out.logStd) < 1e-6, 'log-std differs');
      net.dispose();
    });
  }

  it('numbers its layers canonically and lists variables weight-then-bias', () => {
    const config = networkSection.parse({ hidden: [8, 8] });
    const net = new ActorCritic(3, new Box(-1, 1, [2]), config, new Rng(1), { value: true });
    assert.deepEqual(net.policyLayers, [0, 1, 2, 6]);
    assert.deepEqual(net.valueLayers, [3, 4, 5]);
    assert.equal(net.logStdLayer, 6);
    assert.equal(net.layers[6]!.weight, null);
    assert.equal(net.layers[6]!.inSize, 0);
    assert.deepEqual(
      net.variables.map((v) => v.shape),
      [[3, 8], [8], [8, 8], [8], [8, 2], [2], [3, 8], [8], [8, 8], [8], [8, 1], [1], [2]],
    );
    assert.deepEqual(Array.from(net.layers[6]!.bias.dataSync()), [0, 0]);
    net.dispose();
    const shared = new ActorCritic(3, new Discrete(2), networkSection.parse({ hidden: [8], shared: true }), new Rng(1), { value: true });
    assert.deepEqual(shared.policyLayers, [0, 1]);
    assert.deepEqual(shared.valueLayers, [0, 2]);
    shared.dispose();
  });

  it('initialises CleanRL-style: orthogonal weights with the configured gains, zero biases', () => {
    const config = networkSection.parse({ hidden: [16, 16], policyGain: 0.01, valueGain: 1, logStdInit: -0.5 });
    const net = new ActorCritic(4, new Box(-1, 1, [2]), config, new Rng(3), { value: true });
    const gram = (w: tf.Tensor2D) => tf.tidy(() => (w.shape[0] >= w.shape[1] ? tf.matMul(w, w, true, false) : tf.matMul(w, w, false, true)).arraySync() as number[][]);
    const expectScaledIdentity = (w: tf.Tensor2D, gain: number) => {
      const g = gram(w);
      g.forEach((row, i) => row.forEach((value, j) => assert.ok(Math.abs(value - (i === j ? gain * gain : 0)) < 1e-5, `gram[${i}][${j}] = ${value}`)));
    };
    expectScaledIdentity(net.layers[0]!.weight!, Math.SQRT2); // [4, 16]: rows orthonormal
    expectScaledIdentity(net.layers[1]!.weight!, Math.SQRT2);
    expectScaledIdentity(net.layers[2]!.weight!, 0.01);
    expectScaledIdentity(net.layers[5]!.weight!, 1);
    for (const layer of net.layers.slice(0, 6)) assert.ok(layer.bias.dataSync().every((b) => b === 0), `${layer.name}: nonzero bias`);
    assert.deepEqual(Array.from(net.layers[6]!.bias.dataSync()), [-0.5, -0.5]);
    net.dispose();
  });

  it('draws the same weights from the same stream', () => {
    assert.deepEqual(orthogonal(5, 3, 1, new Rng('a')), orthogonal(5, 3, 1, new Rng('a')));
    assert.notDeepEqual(orthogonal(5, 3, 1, new Rng('a')), orthogonal(5, 3, 1, new Rng('b')));
  });

  it('adds taps to pre-activations and returns every layer input', () => {
    const config = networkSection.parse({ hidden: [5] });
    const net = new ActorCritic(3, new Box(-1, 1, [2]), config, new Rng(2), { value: true });
    tf.tidy(() => {
      const x = tf.randomNormal([4, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
      const taps = net.layers.map((l) => tf.randomNormal([4, l.outSize], 0, 1, 'float32', 2) as tf.Tensor2D);
      const tapped = net.forward(x, taps);
      const plain = net.forward(x);
      // Policy head is linear: its tap shifts the logits exactly.
      const head = net.policyLayers[1]!;
      const expectedHead = tf.add(tf.fused.matMul({ a: tapped.inputs[head]!, b: net.layers[head]!.weight!, bias: net.layers[head]!.bias }), taps[head]!);
      assert.ok(tf.max(tf.abs(tf.sub(tapped.policy!, expectedHead))).dataSync()[0]! < 1e-6, 'policy-head tap');
      assert.deepEqual(tapped.inputs[0]!.shape, [4, 3]);
      assert.deepEqual(tapped.inputs[net.logStdLayer]!.shape, [4, 0]);
      assert.deepEqual(tapped.logStd!.shape, [4, 2]);
      assert.deepEqual(plain.logStd!.shape, [2]);
      const hidden = tf.tanh(tf.add(tf.fused.matMul({ a: x, b: net.layers[0]!.weight!, bias: net.layers[0]!.bias }), taps[0]!));
      assert.ok(tf.max(tf.abs(tf.sub(tapped.inputs[1]!, hidden))).dataSync()[0]! < 1e-6, 'hidden-layer tap');
    });
    net.dispose();
  });
});
