/**
 * The sweep folder's lock: two sweeps in one folder would clear each other's runs, so a running sweep holds
 * `sweep.lock` (its pid and host). A lock whose process is gone (a killed sweep) is stale and ignored.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readJson, writeJsonAtomic } from '../../run/run-folder.js';

export const LOCK_FILE = 'sweep.lock';

/** The pid of a live process on this machine holding the folder's lock, or null. */
export function lockHolder(out: string): number | null {
  let lock: { pid?: number; host?: string };
  try {
    lock = readJson<{ pid?: number; host?: string }>(path.join(out, LOCK_FILE));
  } catch {
    return null;
  }
  if (typeof lock.pid !== 'number' || lock.host !== os.hostname() || lock.pid === process.pid) return null;
  try {
    process.kill(lock.pid, 0);
    return lock.pid;
  } catch (error) {
    // EPERM: alive but not ours; ESRCH: a stale lock from a killed sweep.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? lock.pid : null;
  }
}

/** Take the folder's lock; returns the function that releases it. */
export function acquireLock(out: string): () => void {
  const lockFile = path.join(out, LOCK_FILE);
  writeJsonAtomic(lockFile, { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() });
  return () => fs.rmSync(lockFile, { force: true });
}
