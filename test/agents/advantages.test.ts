/** Returns and advantages (agents/advantages.ts) against hand-computed values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeGae, discountedReturns, explainedVariance, normalizeAdvantages } from '../../agents/advantages.js';
import { close } from '../helpers/close.js';

describe('computeGae', () => {
  const gamma = 0.9;
  const base = {
    numEnvs: 1,
    numSteps: 3,
    rewards: [1, 2, 3],
    values: [0.5, 0.4, 0.3],
    finalValues: [0, 0, 0],
    lastValues: [0.2],
    gamma,
  };
  const run = (overrides: Partial<Parameters<typeof computeGae>[0]>) => {
    const adv = new Float32Array(3);
    const ret = new Float32Array(3);
    computeGae({ ...base, terminated: [0, 0, 0], truncated: [0, 0, 0], lambda: 0.8, ...overrides }, adv, ret);
    return { adv, ret };
  };

  it('bootstraps from the next value inside an episode and from lastValues at the rollout end', () => {
    const lambda = 0.8;
    const { adv, ret } = run({ lambda });
    const d2 = 3 + gamma * 0.2 - 0.3;
    const d1 = 2 + gamma * 0.3 - 0.4;
    const d0 = 1 + gamma * 0.4 - 0.5;
    const a2 = d2;
    const a1 = d1 + gamma * lambda * a2;
    const a0 = d0 + gamma * lambda * a1;
    [a0, a1, a2].forEach((a, t) => close(adv[t]!, a, 1e-6, `A${t}`));
    [a0 + 0.5, a1 + 0.4, a2 + 0.3].forEach((r, t) => close(ret[t]!, r, 1e-6, `R${t}`));
  });

  it('gives plain n-step returns with λ = 1', () => {
    const { ret } = run({ lambda: 1 });
    close(ret[0]!, 1 + gamma * 2 + gamma ** 2 * 3 + gamma ** 3 * 0.2, 1e-6);
    close(ret[2]!, 3 + gamma * 0.2, 1e-6);
  });

  it('does not bootstrap a terminated step', () => {
    const lambda = 0.8;
    const { adv } = run({ lambda, terminated: [0, 1, 0], finalValues: [0, 99, 0] });
    const a1 = 2 - 0.4;
    const a0 = 1 + gamma * 0.4 - 0.5 + gamma * lambda * a1;
    close(adv[1]!, a1, 1e-6);
    close(adv[0]!, a0, 1e-6);
    close(adv[2]!, 3 + gamma * 0.2 - 0.3, 1e-6);
  });

  it('bootstraps a truncated step from V(final observation), not from the next episode', () => {
    const lambda = 0.8;
    const { adv } = run({ lambda, truncated: [0, 1, 0], finalValues: [0, 0.9, 0] });
    const a1 = 2 + gamma * 0.9 - 0.4;
    close(adv[1]!, a1, 1e-6);
    close(adv[0]!, 1 + gamma * 0.4 - 0.5 + gamma * lambda * a1, 1e-6);
  });

  it('keeps envs apart (env-major layout)', () => {
    const adv = new Float32Array(4);
    const ret = new Float32Array(4);
    computeGae(
      { numEnvs: 2, numSteps: 2, rewards: [1, 1, 5, 5], values: [0, 0, 0, 0], terminated: [0, 0, 0, 1], truncated: [0, 0, 0, 0], finalValues: [0, 0, 0, 0], lastValues: [10, 10], gamma: 1, lambda: 1 },
      adv,
      ret,
    );
    assert.deepEqual(Array.from(ret), [12, 11, 10, 5]);
  });
});

describe('discountedReturns', () => {
  it('sums discounted rewards to go, with an optional bootstrap', () => {
    assert.deepEqual(Array.from(discountedReturns([1, 1, 1], 0.5)), [1.75, 1.5, 1]);
    assert.deepEqual(Array.from(discountedReturns([1, 1, 1], 0.5, 8)), [2.75, 3.5, 5]);
  });
});

describe('normalizeAdvantages and explainedVariance', () => {
  it('normalises with the unbiased std', () => {
    const out = normalizeAdvantages(Float32Array.from([1, 2, 3, 4]));
    const std = Math.sqrt(5 / 3);
    [-1.5, -0.5, 0.5, 1.5].forEach((d, i) => close(out[i]!, d / (std + 1e-8), 1e-6));
  });
  it('explained variance: 1 for a perfect fit, 0 for the mean, 0 when the target is constant', () => {
    close(explainedVariance([1, 2, 3], [1, 2, 3]), 1);
    close(explainedVariance([2, 2, 2], [1, 2, 3]), 0);
    assert.equal(explainedVariance([0, 1], [5, 5]), 0);
  });
});
