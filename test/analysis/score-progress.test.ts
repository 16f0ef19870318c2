/** Noise by normalised score: measurements get the score of the update before them, bins pool runs by ratio of means. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measurementScores, noiseByScore, SCORE_BIN_EDGES, type ScoredRun } from '../../src/analysis/score-progress.js';

const scale = { random: 0, reference: 100 };

/** A run whose post-update return after update u is `ret(u)` and whose noise at update u has tr(Σ) = `trace(u)`. */
function run(updates: number, ret: (u: number) => number, trace: (u: number) => number, gradSq = 1): ScoredRun {
  const us = Array.from({ length: updates }, (_, i) => i + 1);
  return {
    reach: us.map((u) => ({ update: u, envSteps: 10 * u, returnMean: ret(u) })),
    noise: us.map((u) => ({ update: u, envSteps: 10 * u, gradSq, traceSigma: trace(u) })),
  };
}

describe('noiseByScore', () => {
  it('scores a measurement by the post-update return of the update before it, the last logged one at or before', () => {
    const r = run(5, (u) => 10 * u, () => 1);
    assert.deepEqual(measurementScores(r, scale), [NaN, 0.1, 0.2, 0.3, 0.4]);
    // Rows logged every other update: update 4's measurement takes the row of update 3.
    const sparse = { reach: r.reach.filter((p) => p.update % 2 === 1), noise: r.noise };
    assert.deepEqual(measurementScores(sparse, scale), [NaN, 0.1, 0.1, 0.3, 0.3]);
  });

  it('recovers B_simple per bin where tr(Σ) depends on the score, pooling runs of different lengths', () => {
    // Score of measurement u is (u − 1)/100; tr(Σ) = 1000·(1 + 10·score) with |G|² = 1: B_simple rises 1000 → ~10,000.
    const trace = (u: number) => 1000 * (1 + 10 * ((u - 1) / 100));
    const runs = [run(101, (u) => u, trace), run(61, (u) => u, trace), run(101, (u) => u, (u) => trace(u) * 1.0)];
    const bins = noiseByScore(runs, scale, { replicates: 200 });
    assert.equal(bins.length, SCORE_BIN_EDGES.length + 1);
    // The 61-update run ends at s = 0.6: one measurement in [0.6, 0.8), none above.
    assert.deepEqual(bins.map((b) => b.runs), [3, 3, 3, 3, 2]);
    // Bin [0.2, 0.4): scores 0.20 .. 0.39 in every run: mean tr(Σ) = 1000·(1 + 10·0.295).
    assert.ok(Math.abs(bins[1]!.bSimple.estimate - 1000 * (1 + 10 * 0.295)) < 1e-6, String(bins[1]!.bSimple.estimate));
    assert.ok(bins.every((b, k) => k === 0 || b.bSimple.estimate > bins[k - 1]!.bSimple.estimate), 'rises with the score');
    assert.deepEqual(bins.map((b) => Number(b.centre.toFixed(9))), [0.1, 0.3, 0.5, 0.7, 0.9]);
    // Identical runs: the bootstrap over runs has nothing to vary.
    assert.ok(Math.abs(bins[1]!.bSimple.lo - bins[1]!.bSimple.hi) < 1e-6);
  });

  it('pools by ratio of means (a run with a tiny |G|² does not dominate) and leaves unreached bins empty', () => {
    const a = run(30, () => 10, () => 100, 1);
    const b = run(30, () => 10, () => 100, 1e-6);
    const bins = noiseByScore([a, b], scale, { replicates: 100 });
    // Both runs sit at s = 0.1: (100 + 100)/2 over (1 + 1e-6)/2.
    assert.ok(Math.abs(bins[0]!.bSimple.estimate - 200 / (1 + 1e-6)) < 1e-6);
    assert.ok(bins.slice(1).every((bin) => bin.runs === 0 && Number.isNaN(bin.bSimple.estimate)));
  });
});
