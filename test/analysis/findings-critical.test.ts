/** Critical-batch findings: where a fit goes on the B_crit vs B_simple figure, and steps to target read off runs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runData } from '../../src/analysis/findings.js';
import { Rng } from '../../src/core/rng.js';
import { bSimpleOverBCrit, difficultyVerdicts, logLogFit, logLogFitIntervals, measureOf, placeFit, stepsFromRuns, type CriticalFit } from '../../src/analysis/findings-critical.js';
import { readRunFolder } from '../../src/run/run-folder.js';
import { tempDir } from '../helpers/report-assert.js';
import { writeRunFolder } from '../helpers/report-fixtures.js';

function fit(bCrit: number, lo: number, hi: number, regime: string, bSimple = 900): CriticalFit {
  return {
    spec: { kind: 'fraction', label: '50%' },
    target: 100,
    regime,
    sMin: 40,
    eMin: 40 * bCrit,
    bCrit: { value: bCrit, lo, hi, n: 1 },
    bSimple: { value: bSimple, lo: bSimple / 2, hi: bSimple * 2, n: 4 },
    points: [],
  };
}

describe('critical-batch findings', () => {
  it('places a fit: a point, a bound at its interval or the range tried, or not at all and why', () => {
    const sizes = [64, 256, 1024];
    assert.deepEqual(placeFit(fit(600, 400, 900, 'fit'), sizes), { kind: 'point', bCrit: 600 });
    assert.deepEqual(placeFit(fit(Infinity, 2600, Infinity, 'b_crit_above_range'), sizes), { kind: 'lower', bCrit: 2600 });
    assert.deepEqual(placeFit(fit(Infinity, NaN, NaN, 'b_crit_above_range'), sizes), { kind: 'lower', bCrit: 1024 });
    assert.deepEqual(placeFit(fit(0, 0, 30, 'b_crit_below_range'), sizes), { kind: 'upper', bCrit: 30 });
    assert.deepEqual(placeFit(fit(0, NaN, NaN, 'b_crit_below_range'), sizes), { kind: 'upper', bCrit: 64 });
    // The profile fit's finite estimates beyond the range: only their bounds are known.
    assert.deepEqual(placeFit(fit(1664, 50, Infinity, 'b_crit_above_range'), sizes), { kind: 'lower', bCrit: 50 });
    assert.deepEqual(placeFit(fit(16, 0, 45, 'b_crit_below_range'), sizes), { kind: 'upper', bCrit: 45 });
    assert.deepEqual(placeFit(fit(Infinity, NaN, NaN, 'b_crit_above_range'), []), { kind: 'missing', reason: 'above-range' });
    assert.deepEqual(placeFit(fit(NaN, NaN, NaN, 'not_fitted'), sizes), { kind: 'missing', reason: 'not-fitted' });
    assert.deepEqual(placeFit(fit(600, 400, 900, 'fit', NaN), sizes), { kind: 'missing', reason: 'b-simple-unresolved' });
    assert.equal(bSimpleOverBCrit(fit(600, 400, 900, 'fit', 1200)), 2);
    assert.equal(bSimpleOverBCrit(fit(Infinity, 2600, Infinity, 'b_crit_above_range')), 0);
  });

  it('steps to a target from the runs: the first update reaching it, the fewest steps per batch size and seed', () => {
    const root = tempDir();
    const runs = [
      { batch: 128, seed: 1, updates: 30 },
      { batch: 128, seed: 1, updates: 60 },
      { batch: 512, seed: 2, updates: 30 },
    ].map((r, i) => {
      const dir = path.join(root, `run-${i}`);
      writeRunFolder(dir, r);
      return runData(readRunFolder(dir));
    });
    const points = stepsFromRuns(runs, 300);
    assert.deepEqual(
      points.map((p) => [p.batchSize, p.seed]),
      [
        [128, 1],
        [512, 2],
      ],
    );
    // The fixture's return rises faster in a shorter run (it follows the fraction of the run done): 30 updates win.
    const first = (run: (typeof runs)[number]) => run.series.returns.find((p) => p.returnMean >= 300)!;
    assert.equal(points[0]!.steps, Math.min(first(runs[0]!).update, first(runs[1]!).update));
    assert.equal(points[1]!.samples, first(runs[2]!).envSteps);
    assert.deepEqual(stepsFromRuns(runs, 1e9), []);
  });

  it('difficultyVerdicts: a level is harder only where its E_min interval lies above the lowest level\'s', () => {
    const e = (value: number, lo: number, hi: number) => ({ value, lo, hi, n: 5 });
    const verdicts = difficultyVerdicts([
      { env: 'Catch-v0', level: 4, target: 's=0.8', eMin: e(9000, 6000, 14000) },
      { env: 'Catch-v0', level: 0, target: 's=0.8', eMin: e(3000, 2000, 5000) },
      { env: 'Catch-v0', level: 2, target: 's=0.8', eMin: e(4500, 3000, 7000) },
      { env: 'Catch-v0', level: 2, target: 's=0.5', eMin: e(500, 400, 600) },
      { env: 'Catch-v0', level: 0, target: 's=0.5', eMin: e(1500, 1000, 2000) },
      { env: 'Catch-v0', level: 4, target: 's=0.5', eMin: e(NaN, NaN, NaN) },
      { env: 'DeepSea-v0', level: 0, target: 's=0.8', eMin: e(100, 50, 200) },
    ]);
    const of = (target: string, level: number) => verdicts.find((v) => v.target === target && v.level === level && v.env === 'Catch-v0')!;
    assert.deepEqual([of('s=0.8', 0).verdict, of('s=0.8', 2).verdict, of('s=0.8', 4).verdict], ['base', 'not distinguishable', 'harder']);
    assert.equal(of('s=0.8', 4).ratio, 3);
    assert.deepEqual([of('s=0.5', 2).verdict, of('s=0.5', 4).verdict], ['easier', 'unknown']);
    assert.equal(verdicts.find((v) => v.env === 'DeepSea-v0')!.verdict, 'base', 'a lone level is its own base');
  });

  it('logLogFitIntervals: bootstrap over points covers the true slope of scattered data and narrows with more points', () => {
    const rng = new Rng(5);
    const scattered = (n: number) => Array.from({ length: n }, (_, i) => {
      const x = 10 ** (1 + (3 * i) / (n - 1));
      return { x, y: 2 * x ** 0.8 * 10 ** (0.15 * rng.normal()) };
    });
    const few = logLogFitIntervals(scattered(12));
    assert.ok(few.slopeLo < 0.8 && 0.8 < few.slopeHi, `[${few.slopeLo}, ${few.slopeHi}]`);
    assert.ok(few.r2Lo < few.r2 && few.r2 <= few.r2Hi && few.r2Hi <= 1);
    const many = logLogFitIntervals(scattered(200));
    assert.ok(many.slopeHi - many.slopeLo < 0.75 * (few.slopeHi - few.slopeLo), 'narrower with more task-levels');
    assert.ok(Number.isNaN(logLogFitIntervals(scattered(2)).slopeLo), 'no interval below 3 points');
  });

  it('logLogFit: the power law y ∝ x^slope and its r²; measureOf: a fit\'s noise-scale measures', () => {
    const exact = logLogFit([10, 100, 1000].map((x) => ({ x, y: 5 * x ** 0.7 })));
    assert.ok(Math.abs(exact.slope - 0.7) < 1e-12 && Math.abs(exact.r2 - 1) < 1e-12 && Math.abs(10 ** exact.intercept - 5) < 1e-9);
    assert.equal(exact.n, 3);
    const noisy = logLogFit([{ x: 10, y: 10 }, { x: 100, y: 50 }, { x: 1000, y: 2000 }, { x: 100, y: NaN }]);
    assert.equal(noisy.n, 3);
    assert.ok(noisy.r2 < 1 && noisy.r2 > 0.8);
    assert.ok(Number.isNaN(logLogFit([{ x: 10, y: 1 }, { x: 10, y: 2 }]).slope));
    const f = fit(500, 300, 800, 'fit');
    assert.equal(measureOf(f, 'B_simple (ratio of means)').value, 900);
    assert.ok(Number.isNaN(measureOf(f, 'B_noise (w-weighted)').value));
    const figure = { value: 42, lo: 40, hi: 44, n: 1 };
    const withExtra: CriticalFit = { ...f, extra: { score: 0.5, sMin: figure, eMin: figure, bSimpleW: figure, bNoise: { ...figure, value: 7 }, bNoiseW: figure, edges: [] } };
    assert.equal(measureOf(withExtra, 'B_noise (ratio of means)').value, 7);
  });
});
