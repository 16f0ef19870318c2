/**
 * The sweep folder's lock. Two sweeps in one folder would clear each other's runs, so a running sweep holds
 * `sweep.lock`, created exclusively (`open(…, 'wx')`, O_EXCL: of two processes creating it at once exactly one
 * succeeds) and holding the owner's pid, host and start time.
 *
 * A lock whose process is gone (a sweep killed with `kill -9`) is stale and taken over. Replacing it is guarded by a
 * second exclusive file, `sweep.lock.takeover`: only the process that creates that one may delete the stale lock, so
 * two sweeps that find the same stale lock cannot both delete it and both create a new one; the other retries, finds
 * the winner's lock and is refused with the winner's pid. A lock from another host cannot be checked for liveness
 * and is never taken over: the refusal says which host holds it and how to clear it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidValueError } from '../../core/errors.js';

export const LOCK_FILE = 'sweep.lock';
const TAKEOVER_FILE = `${LOCK_FILE}.takeover`;

/** What sweep.lock holds. */
export interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/** A lock file seen on disk: its owner, or `partial` while its creator is still writing it (or it was torn). */
type SeenLock = { kind: 'held'; info: LockInfo } | { kind: 'partial'; ageMs: number } | { kind: 'absent' };

/** How long an unreadable lock file may be in the middle of being written before it counts as torn (stale). */
const PARTIAL_GRACE_MS = 2000;
/** A takeover file older than this was left by a process that died while replacing a lock. */
const TAKEOVER_STALE_MS = 10_000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readLock(file: string): SeenLock {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const info = JSON.parse(text) as Partial<LockInfo>;
    if (typeof info.pid === 'number' && typeof info.host === 'string') {
      return { kind: 'held', info: { pid: info.pid, host: info.host, startedAt: String(info.startedAt ?? '') } };
    }
  } catch {
    // torn or still being written
  }
  return { kind: 'partial', ageMs: Date.now() - mtimeMs };
}

/** Whether the lock's process may still be running: unknown for another host, so yes. */
function holderAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but someone else's; ESRCH: gone.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Create `file` exclusively with `content`; false when it exists already. */
function createExclusive(file: string, content: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, content);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

function refusal(out: string, info: LockInfo, argPath: string): InvalidValueError {
  const since = info.startedAt ? `, since ${info.startedAt}` : '';
  if (info.host !== os.hostname()) {
    return new InvalidValueError(
      argPath,
      out,
      `another gradnoise process (pid ${info.pid} on host ${info.host}${since}) holds this sweep folder; if that sweep is gone, delete ${path.join(out, LOCK_FILE)}`,
    );
  }
  return new InvalidValueError(argPath, out, `another gradnoise process (pid ${info.pid}${since}) is running a sweep in this folder`);
}

/** The live owner of the folder's lock, or null when there is none (or only a stale one). */
export function lockHolder(out: string): LockInfo | null {
  const seen = readLock(path.join(out, LOCK_FILE));
  return seen.kind === 'held' && holderAlive(seen.info) ? seen.info : null;
}

/** Refuse (InvalidValueError, exit 2) when a live process holds the folder's lock; writes nothing. */
export function checkUnlocked(out: string, argPath = '--out'): void {
  const holder = lockHolder(out);
  if (holder) throw refusal(out, holder, argPath);
}

/**
 * Delete the stale lock `seen` while holding the takeover file, unless it changed meanwhile (someone else replaced
 * it first). Returns without deleting anything when another process is replacing it right now.
 */
function removeStale(out: string, seen: SeenLock): void {
  const file = path.join(out, LOCK_FILE);
  const takeover = path.join(out, TAKEOVER_FILE);
  if (!createExclusive(takeover, JSON.stringify({ pid: process.pid, host: os.hostname() }))) {
    try {
      if (Date.now() - fs.statSync(takeover).mtimeMs > TAKEOVER_STALE_MS) fs.rmSync(takeover, { force: true });
    } catch {
      // gone already
    }
    return;
  }
  try {
    const now = readLock(file);
    const same = seen.kind === 'held' ? now.kind === 'held' && now.info.pid === seen.info.pid && now.info.startedAt === seen.info.startedAt : now.kind === 'partial';
    if (same) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(takeover, { force: true });
  }
}

/**
 * Take the folder's lock (the folder must exist), replacing a stale one; refuse with the holder's pid when a live
 * process holds it. Returns the function that releases it.
 */
export function acquireLock(out: string, argPath = '--out'): () => void {
  const file = path.join(out, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  const deadline = Date.now() + 5 * PARTIAL_GRACE_MS;
  while (Date.now() < deadline) {
    if (createExclusive(file, `${JSON.stringify(mine)}\n`)) return () => releaseLock(file, mine);
    const seen = readLock(file);
    if (seen.kind === 'absent') continue;
    if (seen.kind === 'held' && holderAlive(seen.info)) throw refusal(out, seen.info, argPath);
    if (seen.kind === 'partial' && seen.ageMs < PARTIAL_GRACE_MS) {
      sleepSync(5);
      continue;
    }
    removeStale(out, seen);
    sleepSync(1);
  }
  throw new InvalidValueError(argPath, out, `could not take ${file}: it keeps changing; is another sweep starting here?`);
}

/** Delete the lock if it is still ours (a lock taken over from us after all is someone else's now). */
function releaseLock(file: string, mine: LockInfo): void {
  const seen = readLock(file);
  if (seen.kind === 'held' && seen.info.pid === mine.pid && seen.info.startedAt === mine.startedAt) fs.rmSync(file, { force: true });
}
