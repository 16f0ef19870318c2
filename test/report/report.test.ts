/** `gradnoise report`: redrawing is deterministic, a folder that is not gradnoise output is refused (API and CLI). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidValueError } from '../../src/core/errors.js';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { tempDir } from '../helpers/report-assert.js';
import { writeRunFolder, writeSweepFolder } from '../helpers/report-fixtures.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('report', () => {
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
