/**
 * Findings as data: per-run, per-level and per-family noise figures agree with sweep/results.ts's aggregate (one rule
 * for both), recover the fixture's known growth and level ratios, and trends read their intervals.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  componentFindings,
  familyFindings,
  figureFromJson,
  figureJson,
  levelFigures,
  levelTarget,
  runData,
  runTargets,
  trend,
  trendSign,
  type Figure,
  type RunData,
} from '../../src/analysis/findings.js';
import { formatFigure } from '../../src/analysis/findings-format.js';
import { SweepAggregator, type AggregatePlan } from '../../src/experiments/sweep/results.js';
import { readRunFolder } from '../../src/run/run-folder.js';
import { tempDir } from '../helpers/report-assert.js';
import { writeRunFolder, writeSweepFolder } from '../helpers/report-fixtures.js';

function runsOf(dir: string): RunData[] {
  return fs.readdirSync(path.join(dir, 'runs')).map((id) => runData(readRunFolder(path.join(dir, 'runs', id))));
}

describe('findings', () => {
  it('matched progress as sweep/results.ts computes it: per-run figures, pooled levels and level ratios agree with its aggregate', () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0, 2], seeds: [1, 2, 3], updates: 40 });
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as AggregatePlan;
    const { rows, groups, summary } = new SweepAggregator({ ...plan, keys: ['env.level'] }, dir).compute();
    const runs = runsOf(dir);
    const levels = levelFigures(runs, 'policy');
    assert.deepEqual(
      levels.map((l) => l.level),
      [0, 2],
    );
    const close = (a: unknown, b: number, what: string) => {
      if (a === null || a === undefined || Number.isNaN(b)) assert.ok((a === null || a === undefined) && Number.isNaN(b), `${what}: ${String(a)} vs ${b}`);
      else assert.ok(Math.abs((a as number) - b) <= 1e-9 * Math.abs(b), `${what}: ${String(a)} vs ${b}`);
    };
    for (const level of levels) {
      for (const r of level.perRun) {
        const row = rows.find((x) => x['run_id'] === r.run.id)!;
        close(row['matched_target'], level.target, `${r.run.id} target`);
        close(row['b_simple_matched_policy'], r.matched.figure.value, `${r.run.id} matched B_simple`);
        close(row['b_simple_matched_policy_lo'], r.matched.figure.lo, `${r.run.id} matched lo`);
      }
      const group = groups.find((g) => g['group'] === `id=CartPole-v1,level=${level.level}`)!;
      close(group['b_simple_matched_policy'], level.matched.value, `level ${level.level} pooled matched`);
      close(group['b_simple_matched_policy_lo'], level.matched.lo, `level ${level.level} pooled matched lo`);
      close(group['b_simple_mean_policy'], level.average.value, `level ${level.level} pooled average`);
    }
    const f = familyFindings(runs, 'CartPole-v1', 'policy')!;
    const ratios = (summary as { levelRatios: { component: string; figure: string; ratio: number; lo: number; hi: number }[] }).levelRatios;
    const matched = ratios.find((r) => r.component === 'policy' && r.figure === 'matched')!;
    const mean = ratios.find((r) => r.component === 'policy' && r.figure === 'mean')!;
    close(matched.ratio, f.ratioMatched.value, 'matched level ratio');
    close(matched.lo, f.ratioMatched.lo, 'matched level ratio lo');
    close(mean.ratio, f.ratio.value, 'run-average level ratio');

    // A target given in sweep.csv (matched_target) is the one used.
    const folder = readRunFolder(path.join(dir, 'runs', 'id=CartPole-v1,level=0,seed=1'));
    const run = runData(folder, { matchedTarget: 123.5 });
    assert.equal(run.matchedTarget, 123.5);
    assert.equal(levelTarget([run]), 123.5);
    assert.ok(Number.isFinite(levelTarget([runData(folder)])));
    assert.equal(runTargets(runs, () => 'CartPole-v1').get('id=CartPole-v1,level=2,seed=3'), levels[1]!.target);
  });

  it('recovers the fixture’s growth over training and level ratio (e³ ≈ 20× over a run, 2× per level), with intervals', () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0, 2, 4], seeds: [1, 2, 3] });
    const f = familyFindings(runsOf(dir), 'CartPole-v1', 'policy')!;
    assert.equal(f.runs, 9);
    assert.equal(f.completed, true);
    assert.deepEqual(
      f.levels.map((l) => l.level),
      [0, 2, 4],
    );
    assert.ok(f.growth.value > 5 && f.growth.value < 80, `growth ${f.growth.value}`);
    assert.ok(f.growth.lo <= f.growth.value && f.growth.value <= f.growth.hi);
    assert.ok(f.ratio.value > 5 && f.ratio.value < 50, `level ratio ${f.ratio.value}`);
    assert.ok(f.ratio.lo <= f.ratio.value && f.ratio.value <= f.ratio.hi);
    // At matched progress the fixture's levels differ by the same 2× per level.
    assert.ok(f.ratioMatched.value > 5 && f.ratioMatched.value < 50, `matched level ratio ${f.ratioMatched.value}`);
    assert.ok(f.ratioMatched.lo <= f.ratioMatched.value && f.ratioMatched.value <= f.ratioMatched.hi);
    assert.deepEqual(f.reached, { low: [3, 3], high: [3, 3] });
    assert.equal(trend(f.growth).startsWith('rises'), true);
    assert.equal(trendSign(trend(f.ratio)), 1);
  });

  it('one run: quarters, whole run and the monitor’s final figure; per-layer rows are left out', () => {
    const dir = tempDir();
    writeRunFolder(dir, { updates: 40 });
    const noise = path.join(dir, 'noise.csv');
    const lines = fs.readFileSync(noise, 'utf8').split('\n');
    // A per-layer row with absurd numbers: it must not enter the component's figures.
    const layerRow = lines[1]!.replace(',all,', ',layer0,');
    fs.writeFileSync(noise, `${lines.join('\n')}${layerRow.split(',').map((c, i) => (i === 9 || i === 11 ? '1e9' : c)).join(',')}\n`);
    const folder = readRunFolder(dir);
    const run = runData(folder);
    const f = componentFindings(run, 'policy');
    assert.equal(f.measurements, 40);
    assert.ok(f.end.value > f.start.value, 'B_simple grows over the run');
    assert.ok(f.growth.value > 5 && f.growth.value < 80, `growth ${f.growth.value}`);
    const lastPolicy = folder.noise!.rows.filter((r) => r['component'] === 'policy' && r['layer'] === 'all').at(-1)!;
    assert.equal(f.final.value, Number(lastPolicy['b_simple']));
    assert.equal(f.final.lo, Number(lastPolicy['b_simple_lo']));
    assert.equal(run.seed, 1);
    assert.equal(run.completed, true);
  });

  it('trends read the interval: rises, falls, flat, unresolved on one side, no data', () => {
    const fig = (value: number, lo: number, hi: number, n = 3): Figure => ({ value, lo, hi, n });
    assert.equal(trend(fig(3, 1.5, 6)), 'rises');
    assert.equal(trend(fig(30, 12, 60)), 'rises10');
    assert.equal(trend(fig(0.5, 0.2, 0.8)), 'falls');
    assert.equal(trend(fig(0.05, 0.01, 0.1)), 'falls10');
    assert.equal(trend(fig(1.2, 0.6, 2.5)), 'flat');
    assert.equal(trend(fig(1.2, NaN, NaN)), 'no-interval');
    assert.equal(trend(fig(NaN, 2, Infinity)), 'unresolved-rises');
    assert.equal(trend(fig(NaN, 0, 0.33)), 'unresolved-falls');
    assert.equal(trend(fig(NaN, 0.4, Infinity)), 'unresolved');
    assert.equal(trend(fig(NaN, NaN, NaN, 0)), 'no-data');
    assert.deepEqual([trendSign('unresolved-rises'), trendSign('falls10'), trendSign('flat')], [1, -1, 0]);
  });

  it('figures in JSON: NaN as null, ∞ as inf, and back', () => {
    const json = figureJson({ estimate: Infinity, lo: 2600, hi: NaN });
    assert.deepEqual(json, { value: 'inf', lo: 2600, hi: null });
    assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
    assert.deepEqual(figureFromJson(json), { value: Infinity, lo: 2600, hi: NaN, n: 1 });
    assert.equal(formatFigure(figureFromJson({ value: null, lo: null, hi: null })), 'unresolved', 'recorded, but not resolved');
  });
});
