/**
 * The profile-likelihood fit of S = S_min(1 + B_crit/B): exact on noiseless data, the two boundary regimes, and the
 * coverage of its nominal 95% intervals over 200 synthetic experiments with a known B_crit (seeded, so it cannot flake).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitProfile, type SeedPoint } from '../../src/analysis/critical-batch-profile.js';
import { Rng } from '../../src/core/rng.js';

const BATCHES = [64, 128, 256, 512, 1024];

function experiment(rng: Rng, sMin: number, bCrit: number, seeds: number, sigma: number, batches = BATCHES): SeedPoint[] {
  const points: SeedPoint[] = [];
  for (const batchSize of batches) {
    for (let s = 0; s < seeds; s++) points.push({ batchSize, steps: sMin * (1 + bCrit / batchSize) * Math.exp(sigma * rng.normal()) });
  }
  return points;
}

describe('fitProfile', () => {
  it('recovers S_min, B_crit and E_min from noiseless points, with intervals around them', () => {
    const fit = fitProfile(BATCHES.map((b) => ({ batchSize: b, steps: 200 * (1 + 300 / b) })));
    assert.equal(fit.regime, 'fit');
    assert.ok(Math.abs(fit.bCrit.estimate / 300 - 1) < 1e-4, String(fit.bCrit.estimate));
    assert.ok(Math.abs(fit.sMin.estimate / 200 - 1) < 1e-4, String(fit.sMin.estimate));
    assert.ok(Math.abs(fit.eMin.estimate / 60000 - 1) < 1e-4, String(fit.eMin.estimate));
    for (const x of [fit.bCrit, fit.sMin, fit.eMin]) assert.ok(x.lo <= x.estimate && x.estimate <= x.hi);
    assert.ok(fit.rmsLogResidual < 1e-6);
  });

  it('reports a range far above or below B_crit as ∞ or 0, with a one-sided interval', () => {
    const rng = new Rng(3);
    const above = fitProfile(BATCHES.flatMap((b) => [1, 2, 3].map(() => ({ batchSize: b, steps: (1e6 / b) * Math.exp(0.05 * rng.normal()) }))));
    assert.equal(above.regime, 'b_crit_above_range');
    assert.ok(above.bCrit.estimate > 1024);
    assert.equal(above.bCrit.hi, Infinity);
    assert.ok(above.bCrit.lo > 1024, String(above.bCrit.lo));
    assert.ok(Math.abs(above.eMin.estimate / 1e6 - 1) < 0.05, String(above.eMin.estimate));
    assert.ok(above.sMin.lo === 0 || above.sMin.estimate < 1e6 / 1024 / 10, String(above.sMin.estimate));
    const below = fitProfile(BATCHES.flatMap((b) => [1, 2, 3].map(() => ({ batchSize: b, steps: 100 * Math.exp(0.05 * rng.normal()) }))));
    assert.equal(below.regime, 'b_crit_below_range');
    assert.ok(below.bCrit.estimate < 64);
    assert.equal(below.bCrit.lo, 0);
    assert.ok(below.bCrit.hi < 64, String(below.bCrit.hi));
    assert.ok(Math.abs(below.sMin.estimate / 100 - 1) < 0.05);
  });

  it('needs two batch sizes; with no degrees of freedom the intervals are [0, ∞]', () => {
    assert.ok(Number.isNaN(fitProfile([{ batchSize: 64, steps: 10 }, { batchSize: 64, steps: 12 }]).bCrit.estimate));
    const exact = fitProfile([{ batchSize: 64, steps: 30 }, { batchSize: 256, steps: 15 }]);
    assert.deepEqual([exact.bCrit.lo, exact.bCrit.hi], [0, Infinity]);
  });

  it('nominal 95% intervals cover the true B_crit, S_min and E_min in ≥ 90% of 200 synthetic experiments', () => {
    // Three truths: B_crit inside the batch range, near its top, and near its bottom; 3 seeds per batch size, 25% noise.
    const truths = [
      { sMin: 100, bCrit: 300 },
      { sMin: 50, bCrit: 900 },
      { sMin: 400, bCrit: 80 },
    ];
    for (const truth of truths) {
      const rng = new Rng(`coverage-${truth.bCrit}`);
      const experiments = 200;
      const hits = { bCrit: 0, sMin: 0, eMin: 0 };
      for (let k = 0; k < experiments; k++) {
        const fit = fitProfile(experiment(rng, truth.sMin, truth.bCrit, 3, 0.25));
        if (fit.bCrit.lo <= truth.bCrit && truth.bCrit <= fit.bCrit.hi) hits.bCrit++;
        if (fit.sMin.lo <= truth.sMin && truth.sMin <= fit.sMin.hi) hits.sMin++;
        const e = truth.sMin * truth.bCrit;
        if (fit.eMin.lo <= e && e <= fit.eMin.hi) hits.eMin++;
      }
      for (const [name, count] of Object.entries(hits)) {
        assert.ok(count >= 0.9 * experiments, `${name} (true B_crit ${truth.bCrit}): covered in ${count}/${experiments}`);
        // Not vacuous: an interval that always covered would be useless.
        assert.ok(count <= 0.995 * experiments, `${name} (true B_crit ${truth.bCrit}): covered in ${count}/${experiments}, too wide`);
      }
    }
  });
});
