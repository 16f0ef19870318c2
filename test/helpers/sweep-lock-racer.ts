/**
 * One contender in the sweep-lock race test, serving several rounds over stdin/stdout. Prints `ready`; then per
 * line `DIR START_MS` spins until that moment, tries to take DIR's lock and prints one JSON line
 * (`{"pid","won","at","message"}`); a line `release` lets go of a lock it won and prints `released`.
 *
 *     node --import tsx sweep-lock-racer.ts
 */
import { createInterface } from 'node:readline';
import { acquireLock } from '../../src/experiments/sweep/lock.js';

let release: (() => void) | null = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'release') {
    release?.();
    release = null;
    process.stdout.write('released\n');
    return;
  }
  const [dir, start] = line.split(' ');
  while (Date.now() < Number(start)) {
    // spin: both contenders leave this loop in the same millisecond
  }
  const at = Date.now();
  try {
    release = acquireLock(dir!);
    process.stdout.write(`${JSON.stringify({ pid: process.pid, won: true, at })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ pid: process.pid, won: false, at, message: (error as Error).message })}\n`);
  }
});
process.stdout.write('ready\n');
