/** Normalised scores, R_ref, and the post-update return estimate read off metrics.csv's cumulative columns. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisedScore, postUpdateReturns, referenceReturn, returnAtScore } from '../../src/analysis/score.js';
import type { CsvTable } from '../../src/run/csv.js';

/** metrics rows from per-update lists of finished-episode returns (cumulative episodes and return_sum, as the trainer writes). */
function metrics(perUpdate: number[][], withSum = true): CsvTable {
  let episodes = 0;
  let sum = 0;
  const rows = perUpdate.map((returns, i) => {
    episodes += returns.length;
    for (const r of returns) sum += r;
    const row: Record<string, string> = { update: String(i + 1), env_steps: String(100 * (i + 1)), episodes: String(episodes), return_mean: '0' };
    if (withSum) row['return_sum'] = String(sum);
    return row;
  });
  return { columns: ['update', 'env_steps', 'episodes', 'return_mean', ...(withSum ? ['return_sum'] : [])], rows };
}

describe('normalised score', () => {
  it('maps random play to 0 and the reference to 1, and back', () => {
    const scale = { random: 22, reference: 500 };
    assert.equal(normalisedScore(22, scale), 0);
    assert.equal(normalisedScore(500, scale), 1);
    assert.equal(returnAtScore(0.5, scale), 261);
    assert.ok(Math.abs(normalisedScore(returnAtScore(0.8, scale), scale) - 0.8) < 1e-12);
    assert.ok(Number.isNaN(normalisedScore(10, { random: 5, reference: 5 })));
  });

  it('CartPole-v1 has its optimum as reference (the time limit), unknown tasks none', () => {
    assert.deepEqual([referenceReturn('CartPole-v1', 500)?.value, referenceReturn('CartPole-v1', 200)?.value], [500, 200]);
    assert.equal(referenceReturn('CartPole-v1', 500)?.basis, 'optimum');
    assert.equal(referenceReturn('NoSuchTask-v0', 100), null);
    // Optima that depend on the params: the bandit's gap, DeepSea's move cost.
    assert.equal(referenceReturn('GaussianBandit-v0', 1, { gap: 0.25 })?.value, 0.25);
    assert.equal(referenceReturn('DeepSea-v0', 10, { moveCost: 0.01 })?.value, 0.99);
    assert.equal(referenceReturn('Catch-v0', 9)?.basis, 'optimum');
  });
});

describe('post-update returns', () => {
  it('averages only episodes that ended after the update, at least K of them, in whole updates', () => {
    // update 1 ends episodes 10, 10; update 2: 50; update 3: 100, 100; update 4: nothing; update 5: 200.
    const table = metrics([[10, 10], [50], [100, 100], [], [200]]);
    const points = postUpdateReturns(table, 2)!;
    assert.equal(points.length, 5);
    // After update 1: episodes of updates 2..3 (50, 100, 100) — update 2 alone has only one.
    assert.equal(points[0]!.returnMean, 250 / 3);
    // After update 2: update 3 has two.
    assert.equal(points[1]!.returnMean, 100);
    // After update 3: updates 4..5 hold one episode only: not enough, NaN.
    assert.ok(Number.isNaN(points[2]!.returnMean));
    assert.ok(Number.isNaN(points[4]!.returnMean));
    assert.deepEqual(points.map((p) => p.update), [1, 2, 3, 4, 5]);
    // K = 1: the very next episodes.
    assert.deepEqual(postUpdateReturns(table, 1)!.map((p) => p.returnMean).slice(0, 4), [50, 100, 200, 200]);
  });

  it('is exact when only every other row is logged (cumulative columns)', () => {
    const full = metrics([[1], [2], [3], [4], [5], [6], [7]]);
    const thinned: CsvTable = { columns: full.columns, rows: full.rows.filter((_, i) => i % 2 === 0) };
    // Logged rows: updates 1, 3, 5, 7. After update 1, K = 2: episodes of updates 2..3 → (2 + 3)/2.
    assert.equal(postUpdateReturns(thinned, 2)![0]!.returnMean, 2.5);
  });

  it('is null for folders without return_sum', () => {
    assert.equal(postUpdateReturns(metrics([[1]], false)), null);
    assert.equal(postUpdateReturns(null), null);
    assert.throws(() => postUpdateReturns(metrics([[1]]), 0), RangeError);
  });
});
