/** The report's figures: well-formed SVG, axis titles with units, log axes where the paper uses them, one mark per series. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import {
  AXIS,
  bCritVsBSimple,
  noiseOverTraining,
  noiseVsDifficulty,
  paretoFronts,
  renumberIds,
  returnCurvesPerLevel,
  type CriticalPoint,
  type DifficultyGroup,
  type DifficultyPoint,
  type LevelCurves,
  type ParetoTarget,
  type TrainingCurves,
} from '../../src/report/plots.js';

/** B_simple growing e-fold ×3 over the run, value 8× policy; a few unresolved (NaN) and unbounded (hi = ∞) points. */
function curves(label: string, runId: string, scale = 1, updates = 50): TrainingCurves {
  const noise: TrainingCurves['noise'][number][] = [];
  const returns: TrainingCurves['returns'][number][] = [];
  for (let u = 1; u <= updates; u++) {
    const envSteps = u * 512;
    for (const [component, factor] of [['policy', 1], ['value', 8], ['total', 3]] as const) {
      const b = 100 * scale * factor * Math.exp((3 * u) / updates);
      noise.push({ envSteps, component, bSimple: u % 13 === 5 ? NaN : b, lo: b / 1.5, hi: u === updates ? Infinity : b * 1.7 });
    }
    returns.push({ envSteps, returnMean: u < 3 ? NaN : 20 + 10 * u });
  }
  return { label, runId, noise, returns };
}

function assertSvg(svg: string): void {
  assert.ok(svg.startsWith('<svg'), 'starts with <svg');
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `well-formed XML: ${JSON.stringify(valid)}`);
  const width = Number(/^<svg[^>]* width="([\d.]+)"/.exec(svg)?.[1]);
  const height = Number(/^<svg[^>]* height="([\d.]+)"/.exec(svg)?.[1]);
  assert.ok(width > 100 && width < 2000 && height > 100 && height < 2000, `reasonable size ${width}×${height}`);
  assert.ok(!/<script|@font-face|href="https?:/.test(svg), 'no scripts, embedded fonts or remote references');
}

/** Each axis as Vega describes it: `X-axis titled 'T' for a log scale ...`. */
function axes(svg: string): { axis: 'X' | 'Y'; title: string; scale: string }[] {
  return [...svg.matchAll(/aria-label="([XY])-axis titled '([^']*)' for a (\w+) scale/g)].map((m) => ({
    axis: m[1] as 'X' | 'Y',
    title: m[2]!.replace(/&amp;/g, '&'),
    scale: m[3]!,
  }));
}

function assertAxis(svg: string, axis: 'X' | 'Y', title: string, scale: string): void {
  const found = axes(svg);
  assert.ok(
    found.some((a) => a.axis === axis && a.title === title && a.scale === scale),
    `${axis} axis '${title}' on a ${scale} scale; axes: ${JSON.stringify(found)}`,
  );
}

/** Mark groups per mark type and layer name: Vega draws each series of a line mark in a group of its own. */
function markGroups(svg: string, type: string, name?: RegExp): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-${type} role-mark ([^"]+)"[^>]*>(.*?)</g>`, 'g'))]
    .filter((m) => !name || name.test(m[1]!))
    .map((m) => m[2]!);
}

describe('plots', () => {
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
    const countPaths = (groups: string[]) => groups.reduce((n, g) => n + (g.match(/<path/g)?.length ?? 0), 0);
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
    const countPaths = (groups: string[]) => groups.reduce((n, g) => n + (g.match(/<path/g)?.length ?? 0), 0);
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_2_marks$/)), 3 * 3 * 2 - 1, 'pooled points');
    // (Empty mark groups defeat markGroups' pattern: count the ▲ paths themselves.)
    assert.equal(svg.match(/<path[^>]* d="M0,-[\d.]+L-[\d.]+,[\d.]+L[\d.]+,[\d.]+Z"/g)?.length ?? 0, 1, 'one ▲ for the unresolved level');
    assert.equal(countPaths(markGroups(svg, 'symbol', /layer_0_marks$/)), 3 * 3 * 2 * 3, 'seed points');
    assert.equal(markGroups(svg, 'rule', /layer_1_marks$/).reduce((n, g) => n + (g.match(/<line/g)?.length ?? 0), 0), 3 * 3 * 2, 'interval bars');
    for (const text of ['run average', 'matched progress', 'policy', 'value', 'total', 'CartPole-v1']) assert.ok(svg.includes(`>${text}</text>`), `shows ${text}`);
    assert.ok(svg.indexOf('>policy</text>') < svg.indexOf('>value</text>') && svg.indexOf('>value</text>') < svg.indexOf('>total</text>'), 'policy first');
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

  it('is deterministic and keeps ids apart between figures', async () => {
    const a = await noiseOverTraining([curves('r', 'r')], { id: 'same' });
    const b = await noiseOverTraining([curves('r', 'r')], { id: 'same' });
    assert.equal(a, b);
    const c = await noiseOverTraining([curves('r', 'r')], { id: 'other' });
    const ids = (svg: string) => [...svg.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(ids(a).length > 0 && ids(a).every((id) => id!.startsWith('same-')));
    assert.ok(ids(c).every((id) => id!.startsWith('other-')));
    assert.equal(renumberIds('<g id="clip7"><path clip-path="url(#clip7)"/></g>', 'p'), '<g id="p-1"><path clip-path="url(#p-1)"/></g>');
  });

  it('draws empty and unresolved data without failing', async () => {
    const unresolved: TrainingCurves = { label: 'r', noise: [{ envSteps: 512, component: 'policy', bSimple: NaN, lo: 10, hi: Infinity }], returns: [] };
    assertSvg(await noiseOverTraining([unresolved]));
    assertSvg(await noiseVsDifficulty([]));
    assertSvg(await paretoFronts([{ label: 'return ≥ 1', points: [] }]));
    assertSvg(await bCritVsBSimple([]));
  });
});
