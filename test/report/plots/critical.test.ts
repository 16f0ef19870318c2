/** Critical-batch figures: steps-vs-samples fronts with the fitted hyperbola, and B_crit vs B_simple on log-log axes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bCritVsBSimple, paretoFronts, type CriticalPoint, type ParetoTarget } from '../../../src/report/plots/critical.js';
import { AXIS } from '../../../src/report/plots/render.js';
import { assertAxis, assertSvg, markGroups } from '../../helpers/svg.js';

describe('plots: critical batch', () => {
  it('paretoFronts: S vs E on log-log axes, measured points and one fitted hyperbola per target', async () => {
    const targets: ParetoTarget[] = [100, 195].map((value, i) => {
      const sMin = 50 * (i + 1);
      const bCrit = 400 * (i + 1);
      return {
        label: `return ≥ ${value}`,
        sMin,
        eMin: sMin * bCrit,
        bCrit,
        points: [64, 256, 1024, 4096].map((batchSize) => {
          const steps = sMin * (1 + bCrit / batchSize);
          return { batchSize, steps, samples: steps * batchSize };
        }),
      };
    });
    const svg = await paretoFronts(targets, { id: 'pareto' });
    assertSvg(svg);
    assertAxis(svg, 'X', AXIS.samples, 'log');
    assertAxis(svg, 'Y', AXIS.steps, 'log');
    assert.equal(markGroups(svg, 'line').length, 2, 'one fitted curve per target');
    assert.equal(markGroups(svg, 'symbol', /layer_1_marks$/)[0]!.match(/<path/g)!.length, 8, 'measured points');
    for (const text of ['return ≥ 100', 'return ≥ 195', 'B=64', 'B=4096']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
  });

  it('bCritVsBSimple: log-log scatter with y = x and labelled points', async () => {
    const points: CriticalPoint[] = [
      { label: 'CartPole-v1, return ≥ 100', bCrit: 400, bCritLo: 250, bCritHi: 700, bSimple: 1200, bSimpleLo: 900, bSimpleHi: 1800 },
      { label: 'Acrobot-v1, return ≥ -100', bCrit: 3000, bSimple: 9000 },
    ];
    const svg = await bCritVsBSimple(points, { id: 'crit' });
    assertSvg(svg);
    assertAxis(svg, 'X', AXIS.bCrit, 'log');
    assertAxis(svg, 'Y', AXIS.bSimpleAvg, 'log');
    assert.equal(markGroups(svg, 'line').length, 3, 'y = x and the two 10× lines');
    assert.equal(markGroups(svg, 'symbol')[0]!.match(/<path/g)!.length, 2);
    for (const p of points) assert.ok(svg.includes(`>${p.label}</text>`), `label ${p.label}`);
  });

  it('bCritVsBSimple by task: colour and legend per task, targets as labels, ▶ / ◀ for a B_crit that is only bounded', async () => {
    const points: CriticalPoint[] = [
      { label: 'GaussianBandit-v0 L1, 25%', group: 'GaussianBandit-v0 L1', text: '25%', bCrit: 40, bSimple: 60, bSimpleLo: 40, bSimpleHi: 90 },
      { label: 'GaussianBandit-v0 L1, 75%', group: 'GaussianBandit-v0 L1', text: '75%', bCrit: 90, bSimple: 150 },
      { label: 'CartPole-v1 L0, 50%', group: 'CartPole-v1 L0', text: '50%', bCrit: 1024, bound: 'lower', bSimple: 900 },
      { label: 'Catch-v0 L0, 50%', group: 'Catch-v0 L0', text: '50%', bCrit: 20, bound: 'upper', bSimple: 30 },
    ];
    const svg = await bCritVsBSimple(points, { id: 'crit-groups' });
    assertSvg(svg);
    for (const text of ['task', 'GaussianBandit-v0 L1', 'CartPole-v1 L0', 'Catch-v0 L0', '25%', '75%', '50%']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
    assert.ok(!svg.includes('>GaussianBandit-v0 L1, 25%</text>'), 'the target is drawn beside the point, the task in the legend');
    assert.equal(markGroups(svg, 'symbol', /layer_3_marks$/)[0]!.match(/<path/g)!.length, 2, 'two points with a measured B_crit');
    assert.equal(markGroups(svg, 'symbol', /layer_5_marks$/)[0]!.match(/<path/g)!.length, 2, 'two bounds');
    assert.ok(svg.includes('B_crit only bounded'), 'the subtitle explains the bound markers');
  });

  it('the log axis is logarithmic: decade ticks equally spaced', async () => {
    const svg = await bCritVsBSimple([{ label: 'a', bCrit: 150, bSimple: 150 }, { label: 'b', bCrit: 40_000, bSimple: 40_000 }], { id: 'spacing' });
    // Y-axis labels sit just left of the plot (x = −7).
    const yLabels = [...svg.matchAll(/<text text-anchor="end" transform="translate\(-7,([\d.]+)\)"[^>]*>(100|1k|10k|100k)<\/text>/g)].map((m) => Number(m[1]));
    assert.equal(yLabels.length, 4, 'ticks at 100, 1k, 10k, 100k');
    const gaps = yLabels.slice(1).map((y, i) => Math.abs(y - yLabels[i]!));
    for (const gap of gaps) assert.ok(Math.abs(gap - gaps[0]!) < 0.5, `equal decade spacing: ${gaps.join(', ')}`);
  });
});
