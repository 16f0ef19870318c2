/** `gradnoise report`: folder detection, plots and report.html for run, sweep, critical-batch and reproduce folders. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidValueError } from '../../src/errors.js';
import { detectFolder, familyFindings, loadRun, readCsv, writeReport, type ReportResult } from '../../src/report.js';
import { writeCriticalBatchFolder, writeReproduceFolder, writeRunFolder, writeSweepFolder } from './report-fixtures.js';

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

  it('sweep folder: one noise plot per env family, noise vs difficulty, learning curves, findings with intervals', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { seeds: [1, 2, 3] });
    assert.equal(detectFolder(dir), 'sweep');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'sweep');
    const html = assertReport(result, dir, ['noise-over-training-cartpole-v1', 'noise-over-training-acrobot-v1', 'noise-vs-difficulty', 'return-curves']);
    for (const text of ['growth over training, low level', 'ratio high / low level', '0 → 4', 'Acrobot-v1', 'id=CartPole-v1,level=4,seed=3', 'backends used', '18 completed']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
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

  it('reproduce folder: every sub-folder’s plots, prefixed, and the summary B_crit vs B_simple figure', async () => {
    const dir = tempDir();
    writeReproduceFolder(dir);
    assert.equal(detectFolder(dir), 'reproduce');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'reproduce');
    assertReport(result, dir, [
      'difficulty-noise-over-training-cartpole-v1',
      'difficulty-noise-vs-difficulty',
      'difficulty-return-curves',
      'critical-batch-pareto-fronts',
      'bcrit-vs-bsimple',
    ]);
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
