/** The summary figures' data: measure fits with intervals, E_min vs the w-weighted B_simple, B_simple by score. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadCritical } from '../../src/report/load.js';
import { writeJsonAtomic } from '../../src/run/run-folder.js';
import { difficultyPoints, levelEMins, measureFits, scoreBinPoints } from '../../src/report/summary-figures.js';
import { tempDir } from '../helpers/report-assert.js';
import { writeCriticalBatchFolder } from '../helpers/report-fixtures.js';

describe('summary figures: data', () => {
  it('fits each measure with intervals; E_min points take the w-weighted B_simple of fitted targets only', () => {
    const fits = measureFits([
      ...[100, 1000, 10000].map((b) => ({ measure: 'B_simple (ratio of means)' as const, label: '', bCrit: b, value: 2 * b })),
      { measure: 'B_noise (w-weighted)' as const, label: '', bCrit: 10, value: 5 },
    ]);
    assert.deepEqual(fits.map((f) => [f.measure, f.fit.n]), [['B_simple (ratio of means)', 3], ['B_noise (w-weighted)', 1]]);
    assert.ok(Math.abs(fits[0]!.fit.slope - 1) < 1e-12 && Math.abs(fits[0]!.fit.slopeLo - 1) < 1e-9);
    assert.ok(Number.isNaN(fits[1]!.fit.slopeLo), 'no interval from one point');

    const dir = path.join(tempDir(), 'cb');
    writeCriticalBatchFolder(dir);
    const info = loadCritical(dir);
    const points = difficultyPoints([info]);
    // The fixture: two fitted targets (B_crit 600 and 1400, b_simple_w = 1.5·B_crit), one not fitted.
    assert.deepEqual(points.map((p) => [p.text, p.noise, p.eMin]), [['100', 900, 40 * 600], ['80%', 2100, 90 * 1400]]);
    assert.ok(points.every((p) => p.eMinLo < p.eMin && p.eMin < p.eMinHi && p.group === 'CartPole-v1 L0'));
    assert.deepEqual(scoreBinPoints([info]), [], 'no score scale without baseline.json');
    writeJsonAtomic(path.join(dir, 'baseline.json'), {
      envId: 'CartPole-v1',
      level: 0,
      params: {},
      random: { policy: 'random', episodes: 200, seed: 1, returnMean: 20, returnStd: 10, returnCi95: [18, 22] },
      reference: { value: 500, basis: 'optimum', note: 'time limit' },
    });
    const bins = scoreBinPoints([loadCritical(dir)]);
    assert.ok(bins.length > 0 && bins.every((b) => b.group === 'CartPole-v1 L0' && b.runs > 0 && b.bSimple > 0));
    assert.deepEqual(bins.map((b) => b.score), [...bins.map((b) => b.score)].sort((a, b) => a - b), 'ascending score bins');
  });

  it('a target whose B_crit lies above the batch range still gives E_min (S_min = 0, constant samples) to the difficulty figure and verdict', () => {
    const dir = path.join(tempDir(), 'cb-above');
    writeCriticalBatchFolder(dir, { aboveRange: true });
    const info = loadCritical(dir);
    assert.deepEqual(info.fits.map((f) => f.regime), ['fit', 'b_crit_above_range', 'not_fitted']);
    assert.deepEqual(difficultyPoints([info]).map((p) => [p.text, p.eMin]), [['100', 40 * 600], ['80%', 90 * 1400]]);
    const eMins = levelEMins([info]);
    assert.deepEqual(eMins.map((e) => [e.target, e.eMin.value]), [['100', 40 * 600], ['80%', 90 * 1400], ['480', NaN]]);
    assert.ok(eMins[1]!.eMin.lo < eMins[1]!.eMin.value && eMins[1]!.eMin.value < eMins[1]!.eMin.hi, 'with its interval');
  });
});
