/** The run folder's writers: atomic JSON files, the space reserved for summary.json, folder creation errors. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FileSystemError, InvalidValueError } from '../../src/core/errors.js';
import { createRunFolder, ReservedJsonFile, writeJsonAtomic } from '../../src/run/run-folder.js';

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-run-folder-'));

describe('run folder', () => {
  it('reserves space for summary.json at the start and fills it in place at the end', () => {
    const dir = tempDir();
    const file = path.join(dir, 'summary.json');
    const reserved = new ReservedJsonFile(file, 4096);
    const [tmp] = fs.readdirSync(dir);
    assert.equal(tmp, `summary.json.tmp-${process.pid}`);
    assert.equal(fs.statSync(path.join(dir, tmp!)).size, 4096);
    reserved.write({ status: 'failed', returnMean: NaN });
    assert.deepEqual(fs.readdirSync(dir), ['summary.json']);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { status: 'failed', returnMean: null });
  });

  it('drops indentation rather than outgrow the reserve', () => {
    const dir = tempDir();
    const file = path.join(dir, 'summary.json');
    const value = { rows: Array.from({ length: 60 }, (_, i) => ({ i })) };
    new ReservedJsonFile(file, 1024).write(value);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(Buffer.byteLength(text) <= 1024 && !text.includes('\n  '), `${Buffer.byteLength(text)} bytes`);
    assert.deepEqual(JSON.parse(text), value);
  });

  it('writes JSON atomically, and a refused write leaves no temp file', () => {
    const dir = tempDir();
    writeJsonAtomic(path.join(dir, 'a.json'), { x: 1 });
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
    assert.throws(() => writeJsonAtomic(path.join(dir, 'no', 'b.json'), {}), FileSystemError);
    assert.deepEqual(fs.readdirSync(dir), ['a.json']);
  });

  it('creates nested folders, refuses a used one (input) and reports OS refusals (runtime)', () => {
    const dir = tempDir();
    createRunFolder(path.join(dir, 'a', 'b', 'run'));
    assert.ok(fs.statSync(path.join(dir, 'a', 'b', 'run')).isDirectory());
    fs.writeFileSync(path.join(dir, 'a', 'b', 'run', 'x'), '');
    assert.throws(() => createRunFolder(path.join(dir, 'a', 'b', 'run')), InvalidValueError);
    assert.throws(() => createRunFolder(path.join(dir, 'a', 'b', 'run', 'x')), InvalidValueError, 'exists and is not a folder');
    assert.throws(() => createRunFolder(path.join(dir, 'a', 'b', 'run', 'x', 'deeper')), (e: unknown) => e instanceof FileSystemError && e.osCode === 'ENOTDIR');
  });
});
