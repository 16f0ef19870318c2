import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUADRATIC_BANDIT_BOUND, quadraticCurvatures } from '../../envs/bandits/quadratic-bandit.js';
import { Box } from '../../src/core/spaces.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

describe('QuadraticBandit-v0', () => {
  it('curvatures run geometrically from 1 to curvatureRatio', () => {
    assert.deepEqual(quadraticCurvatures({ dims: 1, curvatureRatio: 10 }), [1]);
    const c = quadraticCurvatures({ dims: 3, curvatureRatio: 100 });
    assert.ok(Math.abs(c[0]! - 1) < 1e-12 && Math.abs(c[1]! - 10) < 1e-12 && Math.abs(c[2]! - 100) < 1e-12, `${c}`);
    assert.deepEqual(quadraticCurvatures({ dims: 4, curvatureRatio: 1 }), [1, 1, 1, 1]);
  });

  it('spaces, defaults and ladder as documented', () => {
    const env = makeEnv('QuadraticBandit-v0');
    assert.deepEqual(env.params, { dims: 4, curvatureRatio: 10, target: 1, noiseStd: 0 });
    assert.ok(env.actionSpace instanceof Box);
    assert.equal(env.actionSize, 4);
    assert.equal((env.actionSpace as Box).low[0], -QUADRATIC_BANDIT_BOUND);
    assert.equal((env.actionSpace as Box).high[3], QUADRATIC_BANDIT_BOUND);
    const levels = [0, 1, 2, 3, 4].map((level) => makeEnv('QuadraticBandit-v0', { level }).params);
    assert.deepEqual(levels.map((p) => [p.noiseStd, p.curvatureRatio]), [[0, 10], [1, 10], [1, 100], [4, 100], [4, 1000]]);
  });

  it('the reward is exactly −Σ c_j (a_j − target)² without noise; every episode is one step of the constant observation', () => {
    const params = { dims: 3, curvatureRatio: 9, target: 0.5, noiseStd: 0 };
    const env = makeEnv('QuadraticBandit-v0', { numEnvs: 5, params });
    assert.deepEqual(Array.from(env.reset(3)), [1, 1, 1, 1, 1]);
    const c = quadraticCurvatures(params);
    const rng = new Rng('actions');
    for (let step = 0; step < 4; step++) {
      const actions = Float32Array.from({ length: 15 }, () => rng.normal() * 2);
      const out = env.step(actions);
      for (let i = 0; i < 5; i++) {
        let expected = 0;
        for (let j = 0; j < 3; j++) expected -= c[j]! * (actions[i * 3 + j]! - 0.5) ** 2;
        assert.ok(Math.abs(out.rewards[i]! - expected) < 1e-12 * Math.max(1, Math.abs(expected)), `reward ${out.rewards[i]} vs ${expected}`);
        assert.equal(out.terminated[i], 1);
        assert.equal(out.obs[i], 1);
      }
    }
  });

  it('reward noise has mean 0 and std noiseStd', () => {
    const env = makeEnv('QuadraticBandit-v0', { numEnvs: 1000, params: { dims: 2, noiseStd: 3 } });
    env.reset(1);
    const actions = new Float32Array(2000).fill(1);
    let sum = 0;
    let sumSq = 0;
    const steps = 20;
    for (let s = 0; s < steps; s++) {
      for (const r of env.step(actions).rewards) {
        sum += r;
        sumSq += r * r;
      }
    }
    const n = 1000 * steps;
    const mean = sum / n;
    const std = Math.sqrt(sumSq / n - mean * mean);
    assert.ok(Math.abs(mean) < 4 * (3 / Math.sqrt(n)), `mean ${mean}`);
    assert.ok(Math.abs(std / 3 - 1) < 0.02, `std ${std}`);
  });
});
