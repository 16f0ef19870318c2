/** `gradnoise report`: folder detection, plots and report.html for run, sweep, critical-batch and reproduce folders. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidValueError } from '../../src/core/errors.js';
import { detectFolder, familyFindings, fig, levelFigures, levelTarget, loadRun, verdict, writeReport, type ReportResult } from '../../src/report/report.js';
import { readCsv } from '../../src/run/csv.js';
import { SweepAggregator, type AggregatePlan } from '../../src/experiments/sweep/results.js';
import { SWEEP_RULES, writeCriticalBatchFolder, writeReproduceFolder, writeRunFolder, writeSweepFolder } from '../helpers/report-fixtures.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-report-'));
}

/** Every plot written, non-empty, inlined in report.html and linked from it. */
function assertReport(result: ReportResult, dir: string, expected: readonly string[]): string {
  assert.equal(result.html, path.join(path.resolve(dir), 'report.html'));
  const html = fs.readFileSync(result.html, 'utf8');
  assert.deepEqual(result.plots.map((p) => path.basename(p, '.svg')).sort(), [...expected].sort());
  for (const plot of result.plots) {
    assert.equal(path.dirname(plot), path.join(path.resolve(dir), 'plots'));
    const svg = fs.readFileSync(plot, 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.length > 1000, `${plot} is an SVG`);
    assert.ok(html.includes(`href="plots/${path.basename(plot)}"`), `report links ${path.basename(plot)}`);
    assert.ok(html.includes(svg.trim()), `report inlines ${path.basename(plot)}`);
  }
  assert.equal(html.match(/<svg /g)?.length ?? 0, result.plots.length, 'one inline <svg> per plot');
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no network resources');
  assert.ok(!/<script/.test(html), 'no scripts');
  return html;
}

describe('report', () => {
  it('run folder: noise-over-training plot, findings per component and run metadata', async () => {
    const dir = tempDir();
    writeRunFolder(dir, { updates: 60 });
    assert.equal(detectFolder(dir), 'run');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'run');
    const html = assertReport(result, dir, ['noise-over-training']);
    for (const text of ['Findings: gradient noise scale', 'growth (last/first)', '>policy<', '>value<', '>total<', 'backend', '>cpu<', 'gradnoise version', '0.1.0', 'CartPole-v1']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
  });

  it('run folder of a killed run (no summary.json, half-written last line) and with the monitor off', async () => {
    const dir = tempDir();
    writeRunFolder(dir, { updates: 20 });
    fs.rmSync(path.join(dir, 'summary.json'));
    fs.appendFileSync(path.join(dir, 'metrics.csv'), '21,10752,10.5,1024,6');
    assert.equal(readCsv(path.join(dir, 'metrics.csv')).rows.length, 20);
    const html = assertReport(await writeReport(dir), dir, ['noise-over-training']);
    assert.ok(html.includes('incomplete (no summary.json)'));

    const quiet = tempDir();
    writeRunFolder(quiet, { updates: 10, noNoise: true });
    const noNoise = assertReport(await writeReport(quiet), quiet, ['return-curve']);
    assert.ok(noNoise.includes('No noise measurements'));
  });

  it('sweep folder: level-0 noise plot per env family, noise vs difficulty, learning curves, findings with intervals', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { seeds: [1, 2, 3] });
    assert.equal(detectFolder(dir), 'sweep');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'sweep');
    const html = assertReport(result, dir, [
      'noise-over-training-cartpole-v1',
      'noise-over-training-acrobot-v1',
      'noise-vs-difficulty',
      'return-curves',
      'noise-over-training-levels-cartpole-v1',
      'noise-over-training-levels-acrobot-v1',
    ]);
    for (const text of [
      'growth over training at the low level (last / first quarter)',
      'high / low level, run average',
      'high / low level, matched progress',
      'harder levels',
      '0 → 4',
      'Acrobot-v1',
      'id=CartPole-v1,level=4,seed=3',
      'backends used',
      '18 completed',
      'B_simple, policy, at matched progress',
    ]) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // The fixture's noise scale rises over training and with difficulty: the verdicts say so, in words too.
    assert.match(html, /<td>rises[^<]*<\/td>/);
    assert.match(html, /<li><b>CartPole-v1<\/b>, policy B_simple over training \(level 0, last \/ first quarter\) [^<]*: rises/);
    assert.ok(!/<td>not resolved/.test(html), 'unresolved figures read “unresolved (≥ x)”');
    assert.match(html, /<td>unresolved \(≥ [\d,.]+×?\)/);

    // Figure 1: level 0 only, one line per seed, the growth factor in the caption.
    const level0 = fs.readFileSync(path.join(dir, 'plots', 'noise-over-training-cartpole-v1.svg'), 'utf8');
    for (const text of ['seed 1', 'seed 2', 'seed 3', 'Gradient noise scale over training at level 0: CartPole-v1']) assert.ok(level0.includes(`>${text}</text>`), `level-0 figure shows ${text}`);
    assert.ok(!level0.includes('>level 2</text>'), 'level-0 figure holds level 0 only');
    assert.match(html, /one line per seed\. Growth over training \(last \/ first quarter, pooled over seeds\): policy [\d.]+× \[/);
    // The all-levels view stays, as a secondary policy-only figure.
    const levels = fs.readFileSync(path.join(dir, 'plots', 'noise-over-training-levels-cartpole-v1.svg'), 'utf8');
    for (const text of ['level 0', 'level 4', 'policy']) assert.ok(levels.includes(`>${text}</text>`), `all-levels figure shows ${text}`);
    assert.ok(!levels.includes('>value</text>'), 'all-levels figure: policy only');

    // Figure 2: run average and matched progress, policy first, the rule from sweep-summary.json in the caption.
    const difficulty = fs.readFileSync(path.join(dir, 'plots', 'noise-vs-difficulty.svg'), 'utf8');
    for (const text of ['run average', 'matched progress', 'policy', 'value', 'total']) assert.ok(difficulty.includes(`>${text}</text>`), `difficulty figure shows ${text}`);
    assert.ok(difficulty.indexOf('>policy</text>') < difficulty.indexOf('>value</text>'), 'policy panel first');
    assert.ok(html.includes(`diamonds, B_simple at matched progress: ${SWEEP_RULES.matchedProgress}`), 'caption states the matched-progress rule of sweep-summary.json');
    // The fixture's B_simple grows e³ ≈ 20× over a run and 2× per level: 16× from level 0 to 4.
    const runs = fs.readdirSync(path.join(dir, 'runs')).map((id) => loadRun(path.join(dir, 'runs', id)));
    const f = familyFindings(
      runs.filter((r) => r.envId === 'CartPole-v1'),
      'CartPole-v1',
      'policy',
    )!;
    assert.equal(f.runs, 9);
    assert.ok(f.growth.value > 5 && f.growth.value < 80, `growth ${f.growth.value}`);
    assert.ok(f.growth.lo <= f.growth.value && f.growth.value <= f.growth.hi);
    assert.ok(f.ratio.value > 5 && f.ratio.value < 50, `level ratio ${f.ratio.value}`);
    assert.ok(f.ratio.lo <= f.ratio.value && f.ratio.value <= f.ratio.hi);
    // At matched progress the fixture's levels differ by the same 2× per level.
    assert.ok(f.ratioMatched.value > 5 && f.ratioMatched.value < 50, `matched level ratio ${f.ratioMatched.value}`);
    assert.ok(f.ratioMatched.lo <= f.ratioMatched.value && f.ratioMatched.value <= f.ratioMatched.hi);
    assert.deepEqual(f.reached, { low: [3, 3], high: [3, 3] });
    assert.match(verdict(f.growth), /^rises/);
    assert.match(verdict(f.ratio), /^rises/);
  });

  it('matched progress as sweep-results.ts computes it: per-run figures, pooled levels and level ratios agree with its aggregate', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0, 2], seeds: [1, 2, 3], updates: 40 });
    const plan = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as AggregatePlan;
    const { rows, groups, summary } = new SweepAggregator({ ...plan, keys: ['env.level'] }, dir).compute();
    const runs = fs.readdirSync(path.join(dir, 'runs')).map((id) => loadRun(path.join(dir, 'runs', id)));
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
    const run = loadRun(path.join(dir, 'runs', 'id=CartPole-v1,level=0,seed=1'), { matched_target: '123.5' });
    assert.equal(run.matchedTarget, 123.5);
    assert.equal(levelTarget([run]), 123.5);
    assert.ok(Number.isFinite(levelTarget([loadRun(path.join(dir, 'runs', 'id=CartPole-v1,level=0,seed=1'))])));
  });

  it('verdicts and figures in plain words: rises, falls, no clear change, unresolved (≥ lo)', () => {
    assert.equal(verdict({ value: 3, lo: 1.5, hi: 6, n: 3 }), 'rises');
    assert.equal(verdict({ value: 30, lo: 12, hi: 60, n: 3 }), 'rises, by 10× or more');
    assert.equal(verdict({ value: 0.5, lo: 0.2, hi: 0.8, n: 3 }), 'falls');
    assert.equal(verdict({ value: 1.2, lo: 0.6, hi: 2.5, n: 3 }), 'no clear change (interval spans 1)');
    assert.equal(verdict({ value: 1.2, lo: 0, hi: Infinity, n: 2 }), 'no clear change (interval spans 1)');
    assert.equal(verdict({ value: NaN, lo: 0.4, hi: Infinity, n: 3 }), 'unresolved');
    assert.equal(verdict({ value: NaN, lo: 2, hi: Infinity, n: 3 }), 'unresolved, but its interval lies above 1 (rises)');
    assert.equal(verdict({ value: NaN, lo: 0, hi: 0.33, n: 3 }), 'unresolved, but its interval lies below 1 (falls)');
    assert.equal(fig({ value: NaN, lo: 0, hi: 0.33, n: 3 }, '×'), 'unresolved (≤ 0.33×)');
    assert.equal(verdict({ value: NaN, lo: NaN, hi: NaN, n: 0 }), 'no data');
    assert.equal(fig({ value: NaN, lo: 890, hi: Infinity, n: 5 }), 'unresolved (≥ 890)');
    assert.equal(fig({ value: 1230, lo: 890, hi: 1700, n: 5 }), '1,230 [890, 1,700]');
    assert.equal(fig({ value: 14, lo: 3.4, hi: Infinity, n: 3 }, '×'), '14× [3.4×, ∞]');
  });

  it('critical-batch folder: steps-vs-samples fronts, B_crit vs B_simple, fits table', async () => {
    const dir = tempDir();
    writeCriticalBatchFolder(dir);
    assert.equal(detectFolder(dir), 'critical-batch');
    const html = assertReport(await writeReport(dir), dir, ['pareto-fronts', 'bcrit-vs-bsimple']);
    for (const text of ['return ≥ 100', '80% (return ≥ 300)', 'S_min (updates)', 'B_crit = E_min/S_min', '600 [360, 1,020]', 'not fitted', 'return ≥ 480']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // Runs under way, nothing fitted yet: still a critical-batch folder, with a report that says so.
    fs.rmSync(path.join(dir, 'critical-batch.json'));
    assert.equal(detectFolder(dir), 'critical-batch');
    const pending = assertReport(await writeReport(dir), dir, []);
    assert.ok(pending.includes('No fits in critical-batch.json yet'));
    assert.deepEqual(fs.readdirSync(path.join(dir, 'plots')), [], 'plots of the earlier drawing removed');

    // critical-batch.csv alone: the fits from it, the measured points read off the runs' metrics.csv.
    fs.writeFileSync(
      path.join(dir, 'critical-batch.csv'),
      'target,target_spec,b_crit,b_crit_lo,b_crit_hi,s_min,s_min_lo,s_min_hi,e_min,e_min_lo,e_min_hi,b_simple,b_simple_lo,b_simple_hi,fit_regime\n' +
        '100,100,600,360,1020,40,32,48,24000,16800,33600,1500,1080,2100,fit\n' +
        '480,480,nan,nan,nan,nan,nan,nan,nan,nan,nan,nan,nan,nan,not_fitted\n',
    );
    const fromCsv = assertReport(await writeReport(dir), dir, ['pareto-fronts', 'bcrit-vs-bsimple']);
    for (const text of ['600 [360, 1,020]', 'return ≥ 480', 'not fitted', '>2</td>']) assert.ok(fromCsv.includes(text), `report shows ${text}`);
  });

  it('reproduce folder: preset, machine, wall times and rules; findings; every part’s plots; B_crit vs B_simple by task', async () => {
    const dir = tempDir();
    writeReproduceFolder(dir);
    assert.equal(detectFolder(dir), 'reproduce');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'reproduce');
    const html = assertReport(result, dir, [
      'difficulty-noise-over-training-cartpole-v1',
      'difficulty-noise-over-training-levels-cartpole-v1',
      'difficulty-noise-vs-difficulty',
      'difficulty-return-curves',
      'critical-batch-pareto-fronts',
      'critical-batch-level2-pareto-fronts',
      'bcrit-vs-bsimple',
    ]);
    // reproduce.json: preset, status, machine, wall time per part, rules.
    for (const text of [
      '<td>quick</td>',
      'The headline figures in minutes.',
      'Test CPU 9000',
      'load average at start (1, 5, 15 min)',
      '21m40s (1,300 s)',
      'Parts and wall time',
      '<td>12m34s</td>',
      '<td>4m06s</td>',
      '<td>4 / 4</td>',
      'B_simple per level at matched progress: target = min + 0.5·(max − min) of the return_mean; also the whole-run average',
    ]) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // Headline sections first, in this order, then the parts.
    const order = ['>Reproduction</h2>', '>Findings</h2>', '>Noise scale vs critical batch size</h2>', '>Sweep difficulty</h2>', '>Critical batch size: CartPole-v1 L0 (critical-batch)</h2>', '>Critical batch size: CartPole-v1 L2 (critical-batch-level2)</h2>'];
    const at = order.map((h) => html.indexOf(h));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `sections in order: ${JSON.stringify(at)}`);
    assert.ok(html.includes('Findings: policy-gradient B_simple per env family'));
    // B_crit vs B_simple: every critical-batch part, points coloured by task (env and level) and labelled by target.
    const crit = fs.readFileSync(path.join(dir, 'plots', 'bcrit-vs-bsimple.svg'), 'utf8');
    for (const text of ['CartPole-v1 L0', 'CartPole-v1 L2', '80%', 'return ≥ 100', 'task']) assert.ok(crit.includes(`>${text}</text>`), `B_crit figure shows ${text}`);
    for (const text of ['<td>critical-batch-level2</td><td>CartPole-v1 L2</td>', '▶ B_crit ≥ 2,600', 'not drawn: not fitted', 'B_crit above the batch sizes tried', '∞ (above the range measured; ≥ 2,600)']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }

    // An older reproduce.json (preset as a plain name) and none at all.
    fs.writeFileSync(path.join(dir, 'reproduce.json'), JSON.stringify({ preset: 'full' }));
    assert.ok(fs.readFileSync((await writeReport(dir)).html, 'utf8').includes('<td>full</td>'));
    fs.rmSync(path.join(dir, 'reproduce.json'));
    assert.ok(fs.readFileSync((await writeReport(dir)).html, 'utf8').includes('No reproduce.json here'));
  });

  it('redraws to the same files', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0, 1], seeds: [1], updates: 20 });
    const first = await writeReport(dir);
    const html = fs.readFileSync(first.html, 'utf8');
    const svgs = first.plots.map((p) => fs.readFileSync(p, 'utf8'));
    const second = await writeReport(dir);
    assert.equal(fs.readFileSync(second.html, 'utf8'), html);
    assert.deepEqual(
      second.plots.map((p) => fs.readFileSync(p, 'utf8')),
      svgs,
    );
  });

  it('refuses a folder that is not gradnoise output, naming it, and writes nothing', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    assert.equal(detectFolder(dir), null);
    await assert.rejects(writeReport(dir), (error: unknown) => {
      assert.ok(error instanceof InvalidValueError);
      assert.equal(error.path, 'DIR');
      assert.ok(error.message.includes(dir) && error.message.includes('not a gradnoise output folder'), error.message);
      return true;
    });
    assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
    await assert.rejects(writeReport(path.join(dir, 'missing')), /no such folder/);
  });

  it('gradnoise report DIR: exit 2 naming DIR for a non-gradnoise folder, 0 with the report path otherwise', () => {
    const bin = path.join(repo, 'bin/gradnoise.js');
    const bad = tempDir();
    const refused = spawnSync(process.execPath, [bin, 'report', bad], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(refused.status, 2, refused.stderr);
    assert.ok(refused.stderr.includes(bad) && refused.stderr.includes('not a gradnoise output folder'), refused.stderr);
    const good = tempDir();
    writeRunFolder(good, { updates: 12 });
    const ok = spawnSync(process.execPath, [bin, 'report', good], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(ok.stdout.includes('report.html'));
    assert.ok(fs.existsSync(path.join(good, 'report.html')));
  });
});
