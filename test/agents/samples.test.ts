/** The loss inputs (agents/samples.ts): rows gathered intact, rollouts viewed without copies, tensors shaped per head. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ActorCritic } from '../../agents/networks.js';
import type { Rollout } from '../../agents/rollout.js';
import { disposeTensors, emptySamples, gatherSamples, rolloutSamples, toTensors, type SampleArrays } from '../../agents/samples.js';
import { networkSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete } from '../../src/core/spaces.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** n samples whose every field encodes its row: obs row i is [10i, 10i+1], action i is i % 3, and so on. */
function numbered(n: number, actionSize: number): SampleArrays {
  const s = emptySamples(n, 2, actionSize);
  for (let i = 0; i < n; i++) {
    s.obs.set([10 * i, 10 * i + 1], 2 * i);
    for (let j = 0; j < actionSize; j++) s.actions[i * actionSize + j] = actionSize === 1 ? i % 3 : i + 0.1 * j;
    s.advantages[i] = i + 0.5;
    s.returns[i] = 100 - i;
    s.oldLogProbs[i] = -0.25 * (i + 1);
    s.oldValues[i] = 2 * i;
  }
  return s;
}

describe('samples', () => {
  it('emptySamples sizes every field for n samples and zeroes it', () => {
    const s = emptySamples(4, 3, 2);
    assert.deepEqual([s.obs.length, s.actions.length, s.advantages.length, s.returns.length, s.oldLogProbs.length, s.oldValues.length], [12, 8, 4, 4, 4, 4]);
    assert.ok([s.obs, s.actions, s.advantages].every((a) => a.every((x) => x === 0)));
  });

  it('gatherSamples copies whole rows in the order of the indices', () => {
    const source = numbered(5, 2);
    const g = gatherSamples(source, Int32Array.from([3, 0, 3]), 2, 2);
    assert.deepEqual(Array.from(g.obs), [30, 31, 0, 1, 30, 31]);
    assert.deepEqual(Array.from(g.actions, (x) => Math.round(x * 10) / 10), [3, 3.1, 0, 0.1, 3, 3.1]);
    assert.deepEqual(Array.from(g.advantages), [3.5, 0.5, 3.5]);
    assert.deepEqual(Array.from(g.returns), [97, 100, 97]);
    assert.deepEqual(Array.from(g.oldValues), [6, 0, 6]);
    assert.deepEqual(Array.from(g.oldLogProbs), [-1, -0.25, -1]);
  });

  it('rolloutSamples views the rollout (no copies) with the advantages it is given', () => {
    const s = numbered(3, 1);
    const rollout = { obs: s.obs, actions: s.actions, logProbs: s.oldLogProbs, values: s.oldValues, returns: s.returns, advantages: s.advantages } as unknown as Rollout;
    const viewed = rolloutSamples(rollout);
    assert.equal(viewed.obs, rollout.obs);
    assert.equal(viewed.oldLogProbs, rollout.logProbs);
    assert.equal(viewed.oldValues, rollout.values);
    assert.equal(viewed.advantages, rollout.advantages);
    const normalised = new Float32Array(3);
    assert.equal(rolloutSamples(rollout, normalised).advantages, normalised);
  });

  it('toTensors one-hot encodes categorical actions and keeps Box actions raw', () => {
    const network = networkSection.parse({ hidden: [4] });
    const categorical = new ActorCritic(2, new Discrete(3), network, new Rng(1), { value: true });
    const data = toTensors(categorical, numbered(4, 1));
    assert.equal(data.n, 4);
    assert.deepEqual(data.obs.shape, [4, 2]);
    assert.deepEqual(data.actions.arraySync(), [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 0, 0],
    ]);
    assert.deepEqual(Array.from(data.oldValues.dataSync()), [0, 2, 4, 6]);
    disposeTensors(data);

    const gaussian = new ActorCritic(2, new Box(-1, 1, [2]), network, new Rng(1), { value: true });
    const before = tf.memory().numTensors;
    const box = toTensors(gaussian, numbered(2, 2));
    assert.deepEqual(box.actions.shape, [2, 2]);
    assert.deepEqual(Array.from(box.actions.dataSync(), (x) => Math.round(x * 10) / 10), [0, 0.1, 1, 1.1]);
    disposeTensors(box);
    assert.equal(tf.memory().numTensors, before, 'disposeTensors frees every tensor toTensors made');
    categorical.dispose();
    gaussian.dispose();
  });
});
