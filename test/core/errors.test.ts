/** The one formatter of error text: bounded values, one line, OS errors as `path: description (CODE)`. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, EnvFaultError, errorLine, FileSystemError, formatValue, InputError, MESSAGE_LIMITS, onFile } from '../../src/core/errors.js';

describe('error messages', () => {
  it('clip long strings to the limit and say how long they were', () => {
    const text = formatValue('k'.repeat(5_000_000));
    assert.ok(text.length < MESSAGE_LIMITS.value + 40, `${text.length} chars`);
    assert.match(text, /^'k+…' \[5000000 chars\]$/);
    assert.equal(formatValue('fast'), "'fast'");
    assert.equal(formatValue('a\nb'), "'a\\nb'", 'control characters escaped: the message stays one line');
  });

  it('preview huge arrays and deep nesting without serialising them whole', () => {
    const huge = Array.from({ length: 2_000_000 }, (_, i) => i);
    const text = formatValue(huge);
    assert.ok(text.startsWith('[0,1,2,3,') && text.endsWith('…') && text.length <= MESSAGE_LIMITS.value + 1, text);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const preview = formatValue(deep);
    assert.ok(preview.startsWith('{"a":{"a":') && preview.length <= MESSAGE_LIMITS.value + 1);
    assert.equal(formatValue({ lr: 0.1, tags: ['x'] }), '{"lr":0.1,"tags":["x"]}');
    assert.equal(formatValue([NaN, null]), '[NaN,null]');
  });

  it('an InputError bounds its path, reason and value, and keeps them whole as fields', () => {
    const key = 'x'.repeat(100_000);
    const error = new ConfigError(key, key, `unknown key ${key}`);
    assert.ok(error.message.length < MESSAGE_LIMITS.path + MESSAGE_LIMITS.value + MESSAGE_LIMITS.reason + 100, `${error.message.length}`);
    assert.ok(!error.message.includes('\n'));
    assert.equal(error.path, key);
    assert.equal(error.reason, `unknown key ${key}`);
    assert.ok(error instanceof InputError);
    assert.equal(new ConfigError('agent.lr', 'fast', 'expected number').message, "agent.lr: expected number (got 'fast')");
  });

  it('env faults name the env, the step, the copy and the value', () => {
    assert.equal(new EnvFaultError('Mine-v0', 21, 3, 'reward is not a finite number', NaN).message, 'Mine-v0: step 21, copy 3: reward is not a finite number (got NaN)');
    assert.equal(new EnvFaultError('Mine-v0', 0, null, 'reset() threw Error: no').message, 'Mine-v0: reset: reset() threw Error: no');
  });

  it('OS errors become one line naming the path and the OS description', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-errors-'));
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, 'x');
    const under = path.join(file, 'run');
    assert.throws(
      () => onFile(under, () => fs.mkdirSync(under, { recursive: true })),
      (error: unknown) => error instanceof FileSystemError && error.osCode === 'ENOTDIR' && error.message === `${under}: not a directory (ENOTDIR)`,
    );
    // Other errors pass through untouched.
    assert.throws(() => onFile(file, () => JSON.parse('{')), SyntaxError);
  });

  it('errorLine: ours as written, OS errors converted, anything else as Name: message on one line, never a stack', () => {
    assert.equal(errorLine(new ConfigError('a', 1, 'bad')), 'a: bad (got 1)');
    let raw: unknown;
    try {
      fs.readFileSync('/no/such/file');
    } catch (error) {
      raw = error;
    }
    assert.equal(errorLine(raw), '/no/such/file: no such file or directory (ENOENT)');
    const line = errorLine(new TypeError('first\n    at somewhere (x.ts:1:1)'));
    assert.equal(line, 'TypeError: first at somewhere (x.ts:1:1)');
    assert.equal(errorLine('plain'), 'plain');
  });
});
