/** The like-with-like figure: noise-scale measures vs B_crit, log-log, y = x and a fitted power law per measure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureLegend, noiseVsBCrit, type MeasurePoint } from '../../../src/report/plots/noise-vs-bcrit.js';
import { AXIS } from '../../../src/report/plots/render.js';
import { assertAxis, assertSvg, markGroups } from '../../helpers/svg.js';

describe('plots: noise scales vs B_crit', () => {
  it('draws each measure with its fitted slope in the legend, and y = x', async () => {
    const points: MeasurePoint[] = [
      ...[100, 1000, 10000].map((b, i) => ({ measure: 'B_simple (ratio of means)' as const, label: `task ${i}`, bCrit: b, value: 3 * b })),
      ...[100, 1000].map((b, i) => ({ measure: 'B_noise (w-weighted)' as const, label: `task ${i}`, bCrit: b, value: Math.sqrt(b) })),
      { measure: 'B_simple (w-weighted)', label: 'lonely', bCrit: 500, value: 50 },
      { measure: 'B_noise (ratio of means)', label: 'unresolved', bCrit: 500, value: NaN },
    ];
    assert.equal(measureLegend('B_simple (ratio of means)', points), 'B_simple (ratio of means): slope 1.00, r² 1.00 (n=3)');
    assert.equal(measureLegend('B_noise (w-weighted)', points), 'B_noise (w-weighted): slope 0.50, r² 1.00 (n=2)');
    assert.equal(measureLegend('B_simple (w-weighted)', points), 'B_simple (w-weighted) (n=1, no fit)');
    const svg = await noiseVsBCrit(points, { id: 'noise-vs-bcrit' });
    assertSvg(svg);
    assertAxis(svg, 'X', AXIS.bCrit, 'log');
    for (const text of ['slope 1.00, r² 1.00 (n=3)', 'slope 0.50', 'no fit', 'task 2', 'lonely']) assert.ok(svg.includes(text), `shows ${text}`);
    assert.ok(!svg.includes('unresolved'), 'NaN points are left out');
    // y = x plus one fitted line per measure with two or more points.
    assert.equal(markGroups(svg, 'line').length, 3);
  });
});
