/**
 * The sweep lock: exclusive create, refusal naming the holder, stale locks (dead pid, torn file) taken over, locks
 * from other hosts kept; and two processes racing for one folder in the same millisecond get one winner and one
 * refusal naming the winner's pid, also when both find the same stale lock.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InvalidValueError } from '../../../src/core/errors.js';
import { acquireLock, checkUnlocked, LOCK_FILE, lockHolder } from '../../../src/experiments/sweep/lock.js';
import { tempDir } from '../../helpers/sweep-fakes.js';

const racer = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../helpers/sweep-lock-racer.ts');

/** The pid of a process that has exited (so surely not running). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function writeLock(dir: string, lock: unknown): void {
  fs.writeFileSync(path.join(dir, LOCK_FILE), typeof lock === 'string' ? lock : JSON.stringify(lock));
}

function lockOn(dir: string): { pid: number; host: string } {
  return JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; host: string };
}

interface RaceResult {
  pid: number;
  won: boolean;
  at: number;
  message?: string;
}

/** Lines a child prints, one promise per line as it comes. */
function lines(child: { stdout: Readable }): () => Promise<string> {
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      const line = text.slice(0, end);
      text = text.slice(end + 1);
      const next = waiting.shift();
      if (next) next(line);
      else queue.push(line);
    }
  });
  return () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

/** Two contender processes that race for a folder's lock on request, round after round. */
async function contenders() {
  const children = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', racer], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const next = children.map(lines);
  for (const line of await Promise.all(next.map((n) => n()))) assert.equal(line, 'ready');
  const ask = async (line: string) => {
    for (const child of children) child.stdin.write(`${line}\n`);
    return Promise.all(next.map((n) => n()));
  };
  return {
    /** Both try for `dir` at the same moment; the winner holds the lock until both have answered. */
    async race(dir: string): Promise<RaceResult[]> {
      const reports = (await ask(`${dir} ${Date.now() + 200}`)).map((line) => JSON.parse(line) as RaceResult);
      await ask('release');
      return reports;
    },
    close: () => Promise.all(children.map((child) => new Promise((resolve) => child.once('exit', resolve).stdin.end()))),
  };
}

describe('sweep lock', () => {
  it('is exclusive: a second taker is refused with the pid, and it is free again once released', () => {
    const dir = tempDir();
    const release = acquireLock(dir);
    assert.equal(lockOn(dir).pid, process.pid);
    assert.throws(() => acquireLock(dir), (e: unknown) => e instanceof InvalidValueError && e.path === '--out' && e.message.includes(`pid ${process.pid}`));
    assert.throws(() => checkUnlocked(dir), new RegExp(`pid ${process.pid}`));
    release();
    assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
    assert.equal(lockHolder(dir), null);
    acquireLock(dir)();
  });

  it('takes over a stale lock from a dead pid, and a torn lock file', () => {
    const dir = tempDir();
    const pid = deadPid();
    writeLock(dir, { pid, host: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z' });
    assert.equal(lockHolder(dir), null);
    checkUnlocked(dir);
    const release = acquireLock(dir);
    assert.equal(lockOn(dir).pid, process.pid);
    release();

    writeLock(dir, '{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, LOCK_FILE), old, old);
    acquireLock(dir)();
    assert.equal(fs.existsSync(path.join(dir, `${LOCK_FILE}.takeover`)), false);
  });

  it('never takes over a lock from another host (its pid cannot be checked); the refusal says how to clear it', () => {
    const dir = tempDir();
    writeLock(dir, { pid: deadPid(), host: 'elsewhere.example', startedAt: '2020-01-01T00:00:00.000Z' });
    assert.throws(() => acquireLock(dir), /on host elsewhere\.example.*delete .*sweep\.lock/);
  });

  it('two processes racing for one folder: exactly one wins, the other is refused naming its pid (fresh and stale)', async () => {
    const racers = await contenders();
    try {
      for (const stale of [false, true, false, true, false, true]) {
        const dir = tempDir();
        if (stale) writeLock(dir, { pid: deadPid(), host: os.hostname(), startedAt: '2020-01-01T00:00:00.000Z' });
        const reports = await racers.race(dir);
        const winners = reports.filter((r) => r.won);
        const losers = reports.filter((r) => !r.won);
        assert.equal(winners.length, 1, JSON.stringify(reports));
        assert.equal(losers.length, 1, JSON.stringify(reports));
        assert.match(losers[0]!.message!, new RegExp(`another gradnoise process \\(pid ${winners[0]!.pid}[,)]`));
        assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false, 'the winner released the lock');
        process.stderr.write(`# lock race (${stale ? 'stale lock' : 'no lock'}): contenders started ${Math.abs(reports[0]!.at - reports[1]!.at)} ms apart\n`);
      }
    } finally {
      await racers.close();
    }
  });
});
