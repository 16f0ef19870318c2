/** CSV logs: a torn last line (a run killed or a disk filled mid-write) is ignored; failed writes leave nothing torn. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileSystemError } from '../../src/core/errors.js';
import { CsvLog, readCsv, writeCsvAtomic } from '../../src/run/csv.js';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-csv-'));

describe('csv', () => {
  it('reads complete rows only: a torn last line, a short row and a missing newline are dropped', () => {
    const file = path.join(tempDir(), 'metrics.csv');
    fs.writeFileSync(file, 'update,loss\n1,0.5\n2,0.25\n3,0.1');
    assert.deepEqual(readCsv(file).rows, [
      { update: '1', loss: '0.5' },
      { update: '2', loss: '0.25' },
    ]);
    fs.writeFileSync(file, 'update,loss\n1,0.5\n2\n3,0.1\n4,');
    assert.deepEqual(readCsv(file).rows.map((r) => r.update), ['1', '3']);
    fs.writeFileSync(file, 'update,lo');
    assert.deepEqual(readCsv(file), { columns: [], rows: [] });
  });

  it('keeps only the columns and rows asked for, quoted or not, CRLF or not, the same cells as a full read', () => {
    const file = path.join(tempDir(), 'noise.csv');
    const text = 'update,component,layer,b_simple,grad_sq\n1,total,all,12.5,0.3\n1,total,layer0,9,0.1\n2,policy,,inf,nan\n3,total,al';
    for (const body of [text, text.replace(/\n/g, '\r\n'), text.replace('12.5', '"12.5"')]) {
      fs.writeFileSync(file, body);
      const full = readCsv(file);
      assert.equal(full.rows.length, 3);
      const kept = readCsv(file, { columns: ['layer', 'update', 'b_simple', 'no_such'], where: (row) => row['layer'] !== 'layer0' });
      // The file's column order, names it lacks left out.
      assert.deepEqual(kept.columns, ['update', 'layer', 'b_simple']);
      assert.deepEqual(kept.rows, [
        { update: '1', layer: 'all', b_simple: '12.5' },
        { update: '2', layer: '', b_simple: 'inf' },
      ]);
      const rowsOf = (t: typeof full) => t.rows.filter((r) => r['layer'] !== 'layer0').map((r) => [r['update'], r['layer'], r['b_simple']]);
      assert.deepEqual(rowsOf(kept), rowsOf(full));
    }
  });

  it('appends with the header once, and continues an existing file without a second header', () => {
    const file = path.join(tempDir(), 'log.csv');
    new CsvLog(file, ['a', 'b']).append([{ a: 1, b: NaN }]);
    new CsvLog(file, ['a', 'b']).append([{ a: 2, b: Infinity }]);
    assert.equal(fs.readFileSync(file, 'utf8'), 'a,b\n1,nan\n2,inf\n');
  });

  it('a write the OS refuses is one FileSystemError and leaves no temp file', () => {
    const dir = tempDir();
    const target = path.join(dir, 'missing', 'table.csv');
    assert.throws(() => writeCsvAtomic(target, ['a'], [{ a: 1 }]), (e: unknown) => e instanceof FileSystemError && e.osCode === 'ENOENT' && e.message.startsWith(target));
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.throws(() => new CsvLog(path.join(dir, 'missing', 'log.csv'), ['a']).append([{ a: 1 }]), FileSystemError);
  });

  it('cuts a partly written append back off when the disk fills', (t) => {
    const disk = tempDir();
    if (process.getuid?.() !== 0 || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', disk]).status !== 0) {
      return t.skip('mounting an 8 KiB tmpfs needs root (mount -t tmpfs); not permitted here');
    }
    try {
      const file = path.join(disk, 'log.csv');
      const log = new CsvLog(file, ['update', 'text']);
      let update = 0;
      assert.throws(() => {
        for (;;) log.append([{ update: ++update, text: 'x'.repeat(700) }]);
      }, (e: unknown) => e instanceof FileSystemError && e.osCode === 'ENOSPC');
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(text.endsWith('\n'));
      assert.equal(readCsv(file).rows.length, update - 1, 'every row but the failed one, complete');
    } finally {
      spawnSync('umount', [disk]);
    }
  });
});
