/** w-weighted and ratio-of-means averages of B_simple and B_noise up to a target, pooled over runs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageOverRuns, noisePoints, pooledCurvature, pooledWeighted, runAverages, weightedSums } from '../../src/analysis/noise-average.js';
import type { CsvTable } from '../../src/run/csv.js';

describe('noise averages', () => {
  it('weights each noise scale by w = 1/(1 + B_t/B)', () => {
    // B = 100: B_t = 100 → w = 1/2; B_t = 300 → w = 1/4. Σ w B / Σ w = (50 + 75)/(0.75).
    const s = weightedSums([100, 300, NaN], 100);
    assert.equal(s.measurements, 2);
    assert.ok(Math.abs(s.num / s.den - 125 / 0.75) < 1e-9);
    // A resolved ∞ adds its limit w·B_t = B and no weight.
    const inf = weightedSums([100, Infinity], 100);
    assert.deepEqual([inf.num, inf.den], [150, 0.5]);
    assert.equal(pooledWeighted([weightedSums([Infinity], 10)]), Infinity);
    assert.ok(Number.isNaN(pooledWeighted([weightedSums([NaN], 10)])));
    // Constant B_t: the average is B_t itself whatever B is.
    assert.ok(Math.abs(pooledWeighted([weightedSums([40, 40, 40], 7), weightedSums([40], 900)]) - 40) < 1e-9);
  });

  it('reads noise.csv, stops at the target and pools the ratio of means over runs', () => {
    const row = (update: number, component: string, extra: Record<string, string>) => ({ update: String(update), env_steps: String(update * 10), component, layer: 'all', ...extra });
    const table: CsvTable = {
      columns: ['update', 'env_steps', 'component', 'layer', 'b_simple', 'grad_sq', 'trace_sigma', 'b_noise', 'trace_h_sigma', 'g_h_g'],
      rows: [
        row(1, 'policy', { b_simple: '10', grad_sq: '2', trace_sigma: '20', b_noise: '5', trace_h_sigma: '10', g_h_g: '2' }),
        row(1, 'policy', { b_simple: '999', grad_sq: '1', trace_sigma: '1', layer: 'dense_1' }),
        row(2, 'policy', { b_simple: '30', grad_sq: '1', trace_sigma: '40', b_noise: 'nan', trace_h_sigma: 'nan', g_h_g: 'nan' }),
        row(3, 'policy', { b_simple: '1000', grad_sq: '1', trace_sigma: '1000' }),
        row(1, 'value', { b_simple: '1', grad_sq: '1', trace_sigma: '1' }),
      ],
    };
    const points = noisePoints(table);
    assert.equal(points.policy.length, 3);
    assert.equal(points.value.length, 1);
    const a = runAverages(points.policy, 20, 10);
    // Up to env step 20: updates 1, 2. Ratio of means (20 + 40)/2 over (2 + 1)/2 = 20.
    assert.equal(a.bSimpleMeans.traceSigma / a.bSimpleMeans.gradSq, 20);
    assert.equal(a.bNoiseMeans.measurements, 1);
    const pooled = averageOverRuns([a, a], { replicates: 50 });
    assert.equal(pooled.bSimpleRatio.estimate, 20);
    assert.equal(pooled.bNoiseRatio.estimate, 5);
    const w = (10 / (1 + 1)) + 30 / (1 + 3);
    assert.ok(Math.abs(pooled.bSimpleW.estimate - w / (1 / 2 + 1 / 4)) < 1e-9);
    assert.equal(pooled.bNoiseW.estimate, 5);
    assert.equal(pooled.runs, 2);
  });

  it('gives no interval from a single run, nor around an undefined estimate', () => {
    const point = (b: number, g: number, t: number, gHG: number, tH: number) => ({ update: 1, envSteps: 10, bSimple: b, gradSq: g, traceSigma: t, bNoise: NaN, traceHSigma: tH, gHG });
    const run = (points: ReturnType<typeof point>[]) => runAverages(points, 100, 32);
    const silent = run([point(NaN, NaN, NaN, NaN, NaN)]);
    // One run with values among three: every resample is that run, so its "interval" would be a point.
    const one = averageOverRuns([run([point(40, 1, 40, 1, 10), point(60, 1, 60, 1, 10)]), silent, silent], { replicates: 200 });
    for (const f of [one.bSimpleW, one.bSimpleRatio, one.bNoiseRatio]) {
      assert.ok(Number.isFinite(f.estimate));
      assert.ok(Number.isNaN(f.lo) && Number.isNaN(f.hi), 'no bounds from one run');
    }
    // Two runs whose pooled GᵀHG is negative (no B_noise), though resamples of the positive run alone give one.
    const curved = averageOverRuns([run([point(40, 1, 40, 2, 10)]), run([point(60, 1, 60, -5, 10)])], { replicates: 200 });
    assert.ok(Number.isNaN(curved.bNoiseRatio.estimate));
    assert.ok(curved.bNoiseRatio.replicates > 0);
    assert.ok(Number.isNaN(curved.bNoiseRatio.lo) && Number.isNaN(curved.bNoiseRatio.hi));
    // Two runs with values keep their bootstrap interval.
    const two = averageOverRuns([run([point(40, 1, 40, 1, 10)]), run([point(60, 1, 60, 1, 10)])], { replicates: 200 });
    assert.ok(two.bSimpleW.lo < two.bSimpleW.hi && two.bSimpleRatio.lo < two.bSimpleRatio.hi);
  });

  it('gives no B_noise where the pooled curvature GᵀHG is not positive', () => {
    assert.equal(pooledCurvature([{ gradSq: 2, traceSigma: 10 }, { gradSq: 2, traceSigma: 30 }]), 10);
    assert.ok(Number.isNaN(pooledCurvature([{ gradSq: -1, traceSigma: 10 }, { gradSq: 0.5, traceSigma: 30 }])));
    assert.ok(Number.isNaN(pooledCurvature([{ gradSq: 1, traceSigma: -10 }])));
    assert.ok(Number.isNaN(pooledCurvature([])));
  });
});
