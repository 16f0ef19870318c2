/** A run folder's report: noise over training (or the learning curve), findings per component, metadata. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { readCsv } from '../../src/run/csv.js';
import { assertReport, tempDir } from '../helpers/report-assert.js';
import { writeRunFolder } from '../helpers/report-fixtures.js';

describe('report: run folder', () => {
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
});
