import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete } from '../../src/core/spaces.js';

describe('spaces', () => {
  it('Discrete samples and contains integers 0..n-1 only', () => {
    const space = new Discrete(3);
    const rng = new Rng(0);
    for (let i = 0; i < 100; i++) assert.ok(space.contains(space.sample(rng)));
    for (const bad of [-1, 3, 1.5, NaN, '1']) assert.equal(space.contains(bad), false, String(bad));
    assert.deepEqual(space.describe(), { type: 'Discrete', n: 3 });
    assert.throws(() => new Discrete(0), /positive integer/);
  });

  it('Box samples inside finite bounds and checks size and bounds', () => {
    const space = new Box([-1, 0], [1, 2]);
    const rng = new Rng(0);
    for (let i = 0; i < 100; i++) assert.ok(space.contains(space.sample(rng)));
    assert.equal(space.contains([0, 3]), false);
    assert.equal(space.contains([0]), false);
    assert.equal(space.contains([NaN, 1]), false);
    const unbounded = new Box(-Infinity, Infinity, [3]);
    assert.equal(unbounded.size, 3);
    assert.ok(unbounded.contains(unbounded.sample(rng)));
    assert.equal(String(new Box(-2, 2, [1])), 'Box(-2, 2, (1))');
  });
});
