/** The noise-vs-difficulty figure: log B_simple per level, seeds and pooled points, a panel per component. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noiseVsDifficulty, type DifficultyGroup, type DifficultyPoint } from '../../../src/report/plots/difficulty.js';
import { AXIS } from '../../../src/report/plots/render.js';
import { assertAxis, assertSvg, axes, countPaths, markGroups } from '../../helpers/svg.js';

describe('plots: noise vs difficulty', () => {
  it('noiseVsDifficulty: log B_simple vs level, a mean point and a spread bar per (family, component, level)', async () => {
    const points: DifficultyPoint[] = [];
    for (const family of ['CartPole-v1', 'Acrobot-v1']) {
      for (const level of [0, 2, 4]) {
        for (const component of ['policy', 'value']) {
          for (const seed of [1, 2, 3]) points.push({ family, level, component, seed, bSimple: 200 * 2 ** level * (1 + 0.1 * seed) });
        }
      }
    }
    const svg = await noiseVsDifficulty(points, { id: 'diff' });
    assertSvg(svg);
    assertAxis(svg, 'Y', AXIS.bSimpleAvg, 'log');
    assertAxis(svg, 'X', AXIS.level, 'discrete');
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_2_marks$/)), 2 * 3 * 2, 'mean points');
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_0_marks$/)), 2 * 3 * 2 * 3, 'seed points');
    assert.equal(markGroups(svg, 'rule', /layer_1_marks$/).reduce((n, g) => n + (g.match(/<line/g)?.length ?? 0), 0), 2 * 3 * 2, 'spread bars');
    for (const text of ['CartPole-v1', 'Acrobot-v1', 'policy', 'value']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
  });

  it('noiseVsDifficulty, two measures with pooled figures: a log axis per component, policy first, both measures side by side, ▲ for unresolved', async () => {
    const points: DifficultyPoint[] = [];
    const groups: DifficultyGroup[] = [];
    for (const level of [0, 2, 4]) {
      for (const component of ['total', 'value', 'policy']) {
        const scale = component === 'policy' ? 1000 : 1;
        for (const measure of ['run average', 'matched progress']) {
          for (const seed of [1, 2, 3]) points.push({ family: 'CartPole-v1', level, component, seed, measure, bSimple: scale * 2 ** level * (1 + 0.1 * seed) });
          const unresolved = component === 'policy' && measure === 'matched progress' && level === 4;
          groups.push({ family: 'CartPole-v1', level, component, measure, value: unresolved ? NaN : scale * 2 ** level, lo: scale * 2 ** level * 0.7, hi: level === 2 ? Infinity : scale * 2 ** level * 1.4 });
        }
      }
    }
    const svg = await noiseVsDifficulty(points, { id: 'diff2' }, groups);
    assertSvg(svg);
    const yAxes = axes(svg).filter((a) => a.axis === 'Y');
    assert.equal(yAxes.length, 3, 'a y axis per component');
    assert.ok(yAxes.every((a) => a.title === AXIS.bSimpleLevel && a.scale === 'log'));
    assertAxis(svg, 'X', AXIS.level, 'discrete');
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_2_marks$/)), 3 * 3 * 2 - 1, 'pooled points');
    // (Empty mark groups defeat markGroups' pattern: count the ▲ paths themselves.)
    assert.equal(svg.match(/<path[^>]* d="M0,-[\d.]+L-[\d.]+,[\d.]+L[\d.]+,[\d.]+Z"/g)?.length ?? 0, 1, 'one ▲ for the unresolved level');
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_0_marks$/)), 3 * 3 * 2 * 3, 'seed points');
    assert.equal(markGroups(svg, 'rule', /layer_1_marks$/).reduce((n, g) => n + (g.match(/<line/g)?.length ?? 0), 0), 3 * 3 * 2, 'interval bars');
    for (const text of ['run average', 'matched progress', 'policy', 'value', 'total', 'CartPole-v1']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
    assert.ok(svg.indexOf('>policy</text>') < svg.indexOf('>value</text>') && svg.indexOf('>value</text>') < svg.indexOf('>total</text>'), 'policy first');
  });
});
