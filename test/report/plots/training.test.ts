/** Training-curve figures: B_simple over training (one run, many runs) and learning curves per level. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AXIS } from '../../../src/report/plots/render.js';
import { noiseOverTraining, returnCurvesPerLevel, type LevelCurves } from '../../../src/report/plots/training.js';
import { assertAxis, assertSvg, curves, markGroups } from '../../helpers/svg.js';

describe('plots: training curves', () => {
  it('noiseOverTraining, one run: B_simple on a log axis vs env steps, one line and band per component, return below', async () => {
    const svg = await noiseOverTraining([curves('run-1', 'run-1')], { id: 'one' });
    assertSvg(svg);
    assertAxis(svg, 'Y', AXIS.bSimple, 'log');
    assertAxis(svg, 'X', AXIS.envSteps, 'linear');
    assertAxis(svg, 'Y', AXIS.returnMean, 'linear');
    assert.match(AXIS.bSimple, /\(samples\)/);
    assert.equal(markGroups(svg, 'line', /^concat_0_/).length, 3, 'one line per component');
    assert.equal(markGroups(svg, 'area', /^concat_0_/).length, 3, 'one interval band per component');
    assert.equal(markGroups(svg, 'line', /^concat_1_/).length, 1, 'one return curve');
    for (const text of ['policy', 'value', 'total', 'component']) assert.ok(svg.includes(`>${text}</text>`), `legend shows ${text}`);
  });

  it('noiseOverTraining, many runs: a panel per component, one line per run in each, legend of run labels', async () => {
    const runs = [0, 1, 2].flatMap((level) => [1, 2].map((seed) => curves(`level ${level}`, `l${level}s${seed}`, 2 ** level)));
    const svg = await noiseOverTraining(runs, { id: 'many', ordered: true, legendTitle: 'difficulty' });
    assertSvg(svg);
    assertAxis(svg, 'Y', AXIS.bSimple, 'log');
    assert.equal(markGroups(svg, 'line', /^concat_0_/).length, 3 * 6, '3 components × 6 runs');
    assert.equal(markGroups(svg, 'line', /^concat_1_/).length, 6, 'one return curve per run');
    for (const text of ['level 0', 'level 2', 'difficulty']) assert.ok(svg.includes(`>${text}</text>`), `legend shows ${text}`);
  });

  it('returnCurvesPerLevel: a panel per env family, one line per run, levels in the legend', async () => {
    const runs: LevelCurves[] = ['CartPole-v1', 'Acrobot-v1', 'Pendulum-v1'].flatMap((family) =>
      [0, 1, 4].map((level) => ({ family, level, runId: `${family}-${level}`, returns: curves('', '', 1).returns })),
    );
    const svg = await returnCurvesPerLevel(runs, { id: 'ret' });
    assertSvg(svg);
    assertAxis(svg, 'X', AXIS.envSteps, 'linear');
    assertAxis(svg, 'Y', AXIS.returnMean, 'linear');
    assert.equal(markGroups(svg, 'line').length, 9);
    for (const text of ['CartPole-v1', 'Pendulum-v1', 'level']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
  });
});
