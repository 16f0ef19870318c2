/** The summary figures: E_min vs noise scale with its fitted power law and intervals, and B_simple by normalised score. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { difficultyVsNoise, fitLine, noiseByScorePlot, type DifficultyPoint } from '../../../src/report/plots/summary.js';
import { assertSvg, markGroups } from '../../helpers/svg.js';

describe('plots: summary figures', () => {
  it('E_min vs noise: points per task-level, the fitted power law, its slope and r² with intervals in the subtitle', async () => {
    // E_min = 30·B exactly: slope 1, r² 1, and every bootstrap replicate agrees.
    const points: DifficultyPoint[] = [100, 300, 1000, 3000].map((b, i) => ({ group: `task ${i}`, text: 's=0.8', noise: b, eMin: 30 * b, eMinLo: 20 * b, eMinHi: 45 * b }));
    points.push({ group: 'unresolved', text: 's=0.8', noise: NaN, eMin: 1000, eMinLo: NaN, eMinHi: NaN });
    assert.equal(fitLine(points.map((p) => ({ x: p.noise, y: p.eMin }))), 'power law: slope 1.00 [1.00, 1.00], r² 1.00 [1.00, 1.00], n=4 (95% bootstrap over task-levels)');
    assert.equal(fitLine([{ x: 1, y: 2 }]), 'n=1, no fit');
    const svg = await difficultyVsNoise(points, { id: 'difficulty-vs-noise' });
    assertSvg(svg);
    for (const text of ['task 0', 'task 3', 'slope 1.00 [1.00, 1.00]']) assert.ok(svg.includes(text), `shows ${text}`);
    assert.ok(!svg.includes('>unresolved<'), 'a point without a noise scale is left out');
    assert.equal(markGroups(svg, 'line').length, 1, 'one fitted line');
  });

  it('noise by score: one line per task-level over the score bins', async () => {
    const rows = ['Catch-v0 L0', 'Catch-v0 L2'].flatMap((group, g) => [0.1, 0.3, 0.5].map((score, k) => ({ group, score, bSimple: 100 * (g + 1) * (k + 1), lo: 80, hi: 400, runs: 5 })));
    const svg = await noiseByScorePlot(rows, { id: 'noise-by-score' });
    assertSvg(svg);
    for (const text of ['Catch-v0 L0', 'Catch-v0 L2', 'normalised score']) assert.ok(svg.includes(text), `shows ${text}`);
    assert.equal(markGroups(svg, 'line').length, 2, 'one line per task-level');
  });
});
