/** Findings in text: figures and verdicts in plain words, numbers, and reproduce's console lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCompact, formatCriticalPartFindings, formatFigure, formatSetting, formatSweepPartFindings, formatValue, verdict } from '../../src/analysis/findings-format.js';

describe('findings in text', () => {
  it('verdicts and figures in plain words: rises, falls, no clear change, unresolved (≥ lo)', () => {
    assert.equal(verdict({ value: 3, lo: 1.5, hi: 6, n: 3 }), 'rises');
    assert.equal(verdict({ value: 30, lo: 12, hi: 60, n: 3 }), 'rises, by 10× or more');
    assert.equal(verdict({ value: 0.5, lo: 0.2, hi: 0.8, n: 3 }), 'falls');
    assert.equal(verdict({ value: 1.2, lo: 0.6, hi: 2.5, n: 3 }), 'no clear change (interval spans 1)');
    assert.equal(verdict({ value: 1.2, lo: 0, hi: Infinity, n: 2 }), 'no clear change (interval spans 1)');
    assert.equal(verdict({ value: NaN, lo: 0.4, hi: Infinity, n: 3 }), 'unresolved');
    assert.equal(verdict({ value: NaN, lo: 2, hi: Infinity, n: 3 }), 'unresolved, but its interval lies above 1 (rises)');
    assert.equal(verdict({ value: NaN, lo: 0, hi: 0.33, n: 3 }), 'unresolved, but its interval lies below 1 (falls)');
    assert.equal(formatFigure({ value: NaN, lo: 0, hi: 0.33, n: 3 }, '×'), 'unresolved (≤ 0.33×)');
    assert.equal(verdict({ value: NaN, lo: NaN, hi: NaN, n: 0 }), 'no data');
    assert.equal(formatFigure({ value: NaN, lo: 890, hi: Infinity, n: 5 }), 'unresolved (≥ 890)');
    assert.equal(formatFigure({ value: 1230, lo: 890, hi: 1700, n: 5 }), '1,230 [890, 1,700]');
    assert.equal(formatFigure({ value: 14, lo: 3.4, hi: Infinity, n: 3 }, '×'), '14× [3.4×, ∞]');
    assert.equal(formatFigure({ value: Infinity, lo: 2600, hi: Infinity, n: 1 }), '∞ (above the range measured; ≥ 2,600)');
    assert.equal(formatFigure({ value: NaN, lo: NaN, hi: NaN, n: 0 }), '–');
  });

  it('numbers: three significant digits, compact labels, any value in a cell', () => {
    assert.deepEqual([formatValue(1234.5), formatValue(0.012345), formatValue(NaN), formatValue(-Infinity)], ['1,230', '0.0123', '–', '−∞']);
    assert.deepEqual([formatCompact(512), formatCompact(12000), formatCompact(1.5e6), formatCompact(0.25)], ['512', '12k', '1.5M', '0.25']);
    assert.deepEqual([formatSetting(16384), formatSetting(0.000312345), formatSetting(null), formatSetting([1, 2]), formatSetting('cpu')], ['16384', '0.000312', '', '[1,2]', 'cpu']);
  });

  it('reproduce’s console summary uses the same figure text', () => {
    const sweep = formatSweepPartFindings('difficulty', {
      component: 'policy',
      groups: [
        {
          group: 'level=0',
          level: 0,
          runs: 3,
          completed: 3,
          returnFinal: 187.25,
          returnBest: 200,
          matchedTarget: 100,
          matchedReached: 3,
          bSimpleMean: { value: 1230, lo: 890, hi: 1700 },
          bSimpleMatched: { value: null, lo: 890, hi: null },
          growth: { value: 14, lo: 3.4, hi: 'inf' },
        },
      ],
    });
    assert.match(sweep, /^ {2}difficulty \(policy B_simple, env steps\): level \| return final/);
    assert.ok(sweep.includes('    level=0    |      187 | 1,230 [890, 1,700] | unresolved (≥ 890) | 14× [3.4×, ∞]\n'), sweep);
    const critical = formatCriticalPartFindings('cb', {
      component: 'policy',
      returnRange: { min: 0, max: 200 },
      targets: [{ target: '50%', return: 100, regime: 'b_crit_above_range', batchSizesReached: 3, bCrit: { value: 'inf', lo: 2600, hi: null }, bSimple: { value: 900, lo: 600, hi: 1400 } }],
      runsLeftOut: 0,
    });
    assert.equal(critical, '  cb target 50%: B_crit ∞ (above the range measured; ≥ 2,600), B_simple 900 [600, 1,400] (b_crit_above_range)\n');
  });
});
