/** Critical-batch findings: where a fit goes on the B_crit vs B_simple figure, and steps to target read off runs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runData } from '../../src/analysis/findings.js';
import { bSimpleOverBCrit, placeFit, stepsFromRuns, type CriticalFit } from '../../src/analysis/findings-critical.js';
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
});
