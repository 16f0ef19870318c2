/** Pure analysis: ratio of means, matched progress, growth, across-seed pooling and bootstrap intervals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrap, firstReaching, growthAggregate, growthOverTraining, matchedFigure, matchedPoints, pooledBSimple, ratioOfMeans, returnRange, scaleRatio, seedAggregate, settingRatio, targetReturn, windowAround, type NoiseMeasurement, type ReturnPoint } from '../../src/analysis/noise-figures.js';
import { median, quantileSorted } from '../../src/core/stats.js';
import { Rng } from '../../src/core/rng.js';

const BATCH = 100;

/** Measurements every update (BATCH env steps) whose true B_simple is bAt(envSteps), with optional relative noise. */
function measurements(updates: number, bAt: (envSteps: number) => number, noise = 0, rng = new Rng(1)): NoiseMeasurement[] {
  return Array.from({ length: updates }, (_, i) => {
    const envSteps = (i + 1) * BATCH;
    const gradSq = 1 + noise * rng.normal();
    const traceSigma = bAt(envSteps) * (1 + noise * rng.normal());
    return { update: i + 1, envSteps, gradSq, traceSigma };
  });
}

function returns(values: readonly number[]): ReturnPoint[] {
  return values.map((returnMean, i) => ({ update: i + 1, envSteps: (i + 1) * BATCH, returnMean }));
}

describe('ratioOfMeans', () => {
  it('divides the means, not the ratios', () => {
    const ms = [1, 3, 2, 1, 3, 2].map((gradSq, i) => ({ update: i + 1, envSteps: (i + 1) * 100, gradSq, traceSigma: 10 }));
    const figure = ratioOfMeans(ms);
    assert.equal(figure.resolved, true);
    assert.equal(figure.bSimple, 5); // 10 / 2, where the mean of the ratios would be 6.1
    assert.equal(figure.gradSq, 2);
    assert.equal(figure.traceSigma, 10);
    assert.equal(figure.measurements, 6);
    assert.equal(figure.envStepsFrom, 100);
    assert.equal(figure.envStepsTo, 600);
    assert.ok(figure.lo <= 5 && figure.hi >= 5);
  });

  it('is exact, with a zero-width interval, on noiseless data', () => {
    const figure = ratioOfMeans(measurements(10, () => 250));
    assert.equal(figure.resolved, true);
    assert.ok(Math.abs(figure.bSimple - 250) < 1e-9);
    assert.ok(Math.abs(figure.lo - 250) < 1e-6 && Math.abs(figure.hi - 250) < 1e-6);
  });

  it('covers the true value on noisy data and narrows with more measurements', () => {
    const few = ratioOfMeans(measurements(10, () => 400, 0.3, new Rng(2)));
    const many = ratioOfMeans(measurements(400, () => 400, 0.3, new Rng(3)));
    assert.ok(few.lo <= 400 && few.hi >= 400, `${few.lo}..${few.hi}`);
    assert.ok(many.lo <= 400 && many.hi >= 400, `${many.lo}..${many.hi}`);
    assert.ok(many.hi - many.lo < few.hi - few.lo);
  });

  it('leaves the point value empty when |G|² is not resolved, and with fewer than 3 measurements', () => {
    const unresolved = ratioOfMeans([
      { update: 1, envSteps: 100, gradSq: 1, traceSigma: 10 },
      { update: 2, envSteps: 200, gradSq: -1.2, traceSigma: 10 },
      { update: 3, envSteps: 300, gradSq: 0.5, traceSigma: 10 },
    ]);
    assert.equal(unresolved.resolved, false);
    assert.ok(Number.isNaN(unresolved.bSimple));
    assert.equal(unresolved.hi, Infinity);
    const two = ratioOfMeans(measurements(2, () => 100));
    assert.equal(two.resolved, false);
    assert.ok(Number.isNaN(two.bSimple));
    assert.equal(two.gradSq, 1);
    assert.equal(ratioOfMeans([]).measurements, 0);
    // Non-finite measurements are skipped.
    const withNaN = ratioOfMeans([...measurements(5, () => 100), { update: 6, envSteps: 600, gradSq: NaN, traceSigma: 1 }]);
    assert.equal(withNaN.measurements, 5);
  });
});

describe('growth over training', () => {
  it('is the last-quarter over the first-quarter ratio of means', () => {
    // B = 100 for the first quarter, 1,000 for the last, 500 between.
    const total = 100 * BATCH;
    const ms = measurements(100, (s) => (s <= total / 4 ? 100 : s > (3 * total) / 4 ? 1000 : 500));
    const figure = growthOverTraining(ms);
    assert.ok(Math.abs(figure.start.bSimple - 100) < 1e-9);
    assert.ok(Math.abs(figure.end.bSimple - 1000) < 1e-9);
    assert.ok(Math.abs(figure.growth - 10) < 1e-9);
    assert.equal(figure.start.measurements, 25);
    assert.equal(figure.end.measurements, 25);
  });

  it('pools seeds before dividing and brackets the true growth', () => {
    const perSeed = [1, 2, 3, 4, 5].map((seed) => {
      const g = growthOverTraining(measurements(80, (s) => (s <= 2000 ? 200 : 1600), 0.2, new Rng(seed)));
      return { start: g.start, end: g.end };
    });
    const interval = growthAggregate(perSeed, { replicates: 500 });
    assert.ok(Math.abs(interval.estimate - 8) < 1.5, String(interval.estimate));
    assert.ok(interval.lo <= interval.estimate && interval.estimate <= interval.hi);
    assert.ok(interval.lo < 8 * 1.3 && interval.hi > 8 / 1.3);
  });
});

describe('matched progress', () => {
  const seeds = [
    returns([10, 20, 40, 60, 80, 100]),
    returns([10, 15, 30, 50, 70, 90]),
    returns([NaN, 12, 14, 16, 18, 20]), // a weak seed that never reaches the target
  ];

  it('normalises between the level min and max and finds the first update reaching the target', () => {
    assert.deepEqual(returnRange(seeds), { min: 10, max: 100 });
    assert.equal(targetReturn({ min: 10, max: 100 }, 0.5), 55);
    const points = matchedPoints(seeds, 0.5);
    assert.equal(points[0]!.target, 55);
    assert.equal(points[0]!.reached!.update, 4);
    assert.equal(points[1]!.reached!.update, 5);
    assert.equal(points[2]!.reached, null);
    assert.equal(firstReaching(seeds[0]!, 1000), null);
    assert.throws(() => targetReturn({ min: 0, max: 1 }, 1.5), /fraction/);
  });

  it('takes the window of measurements centred on the matched update', () => {
    const ms = measurements(20, (s) => s); // B = env steps, so the figure tells where the window sits
    const window = windowAround(ms, 1000, 5);
    assert.deepEqual(
      window.map((m) => m.update),
      [8, 9, 10, 11, 12],
    );
    assert.deepEqual(
      windowAround(ms, 50, 5).map((m) => m.update),
      [1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      windowAround(ms, 10_000, 5).map((m) => m.update),
      [16, 17, 18, 19, 20],
    );
    assert.equal(windowAround(ms.slice(0, 3), 100, 10).length, 3);
    const point = matchedPoints([returns(Array.from({ length: 20 }, (_, i) => i))], 0.5)[0]!;
    // Range 0..19, target 9.5, first reached at update 11 (return 10), env steps 1,100.
    assert.equal(point.reached!.envSteps, 1100);
    const figure = matchedFigure(ms, point, { window: 5 });
    assert.ok(Math.abs(figure.bSimple - 1100) < 1e-9);
    assert.equal(matchedFigure(ms, { ...point, reached: null }).measurements, 0);
  });
});

describe('across seeds', () => {
  it('pools means, not ratios, and treats an unresolved pool as unbounded', () => {
    assert.equal(pooledBSimple([
      { gradSq: 1, traceSigma: 100 },
      { gradSq: 3, traceSigma: 100 },
    ]), 50);
    assert.equal(pooledBSimple([{ gradSq: -1, traceSigma: 100 }]), Infinity);
    assert.ok(Number.isNaN(pooledBSimple([])));
    assert.equal(scaleRatio(Infinity, 10), Infinity);
    assert.equal(scaleRatio(10, Infinity), 0);
    assert.ok(Number.isNaN(scaleRatio(Infinity, Infinity)));
  });

  it('bootstrap intervals are deterministic, zero-width on identical seeds, and cover a known ratio', () => {
    const same = Array.from({ length: 4 }, () => ({ gradSq: 2, traceSigma: 600 }));
    const flat = seedAggregate(same);
    assert.equal(flat.estimate, 300);
    assert.equal(flat.lo, 300);
    assert.equal(flat.hi, 300);
    const rng = new Rng(7);
    const easy = Array.from({ length: 20 }, () => ({ gradSq: 1 + 0.05 * rng.normal(), traceSigma: 100 * (1 + 0.05 * rng.normal()) }));
    const hard = Array.from({ length: 20 }, () => ({ gradSq: 1 + 0.05 * rng.normal(), traceSigma: 400 * (1 + 0.05 * rng.normal()) }));
    const ratio = settingRatio(hard, easy, { replicates: 1000 });
    assert.ok(ratio.lo < ratio.estimate && ratio.estimate < ratio.hi);
    assert.ok(ratio.lo < 4 && ratio.hi > 4, `${ratio.lo}..${ratio.hi}`);
    assert.ok(ratio.lo > 3 && ratio.hi < 5);
    assert.deepEqual(settingRatio(hard, easy, { replicates: 1000 }), ratio);
    const mean = bootstrap([1, 2, 3, 4, 5], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, { replicates: 500 });
    assert.equal(mean.estimate, 3);
    assert.ok(mean.lo >= 1 && mean.hi <= 5 && mean.lo < 3 && mean.hi > 3);
  });

  it('median and quantiles handle unreached (∞) entries', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([1, Infinity, 2]), 2);
    assert.equal(median([Infinity, Infinity, 2]), Infinity);
    assert.equal(median([1, 2, 3, 4]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(quantileSorted([1, 2, 3, 4, 5], 0.5), 3);
    assert.equal(quantileSorted([1, 2, Infinity], 1), Infinity);
  });
});
