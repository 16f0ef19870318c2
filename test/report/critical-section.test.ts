/** A critical-batch folder's report: steps-vs-samples fronts, B_crit vs B_simple, the fits table; from JSON or CSV. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { assertReport, tempDir } from '../helpers/report-assert.js';
import { writeCriticalBatchFolder } from '../helpers/report-fixtures.js';

describe('report: critical-batch folder', () => {
  it('critical-batch folder: steps-vs-samples fronts, B_crit vs B_simple, fits table', async () => {
    const dir = tempDir();
    writeCriticalBatchFolder(dir);
    assert.equal(detectFolder(dir), 'critical-batch');
    const html = assertReport(await writeReport(dir), dir, ['pareto-fronts', 'bcrit-vs-bsimple', 'noise-vs-bcrit']);
    for (const text of ['return ≥ 100', '80% (return ≥ 300)', 'S_min (updates)', 'B_crit = E_min/S_min', '600 [360, 1,020]', 'not fitted', 'return ≥ 480', 'B_noise (w-weighted)', '64:high', '40 [32, 48]']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // The findings lead: the fits table comes before the figures, the run tables and metadata after them.
    const at = ['Findings: critical batch size', 'id="fig-noise-vs-bcrit"', 'id="fig-pareto-fronts"', 'Fits (critical-batch.json)'].map((t) => html.indexOf(t));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `order: ${JSON.stringify(at)}`);
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
    const fromCsv = assertReport(await writeReport(dir), dir, ['pareto-fronts', 'bcrit-vs-bsimple', 'noise-vs-bcrit']);
    for (const text of ['600 [360, 1,020]', 'return ≥ 480', 'not fitted', '>2</td>']) assert.ok(fromCsv.includes(text), `report shows ${text}`);
  });

  it('a B_crit above the batch sizes tried reads ∞ with its lower bound, and no B_simple / B_crit ratio', async () => {
    const dir = tempDir();
    writeCriticalBatchFolder(dir, { aboveRange: true });
    const html = assertReport(await writeReport(dir), dir, ['pareto-fronts', 'bcrit-vs-bsimple', 'noise-vs-bcrit']);
    assert.ok(html.includes('<td>80% (return ≥ 300)</td><td>B_crit above the batch sizes tried</td>'), 'the regime in words');
    assert.ok(html.includes('∞ (above the range measured; ≥ 2,600)'));
    assert.ok(!html.includes('>0×<'), 'B_simple / B_crit is not 0 when B_crit is unbounded');
  });
});
