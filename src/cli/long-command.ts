/**
 * What the long-running commands (sweep, critical-batch, reproduce) share: the `--workers` value, the hook that
 * draws the report at the end, and Ctrl-C handling (first SIGINT/SIGTERM: stop gracefully, runs end `interrupted`
 * and results are written; second: kill the workers).
 */
import os from 'node:os';
import { InvalidValueError } from '../core/errors.js';

export interface LongCommandHooks {
  /** Called with the output folder once the aggregate files are written (e.g. to draw the report). */
  onDone?: (dir: string) => unknown;
}

export function workersOption(value: number | undefined): number {
  const workers = value ?? os.availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new InvalidValueError('--workers', value, 'expected a positive integer');
  return workers;
}

export interface InterruptSignals {
  /** Aborted by the first Ctrl-C: stop gracefully. */
  readonly stop: AbortSignal;
  /** Aborted by the second: kill. */
  readonly kill: AbortSignal;
}

/** Install the Ctrl-C handlers; returns the signals and a function that removes the handlers. */
export function interruptHandlers(): InterruptSignals & { release: () => void } {
  const stop = new AbortController();
  const kill = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      process.stderr.write('\ngradnoise: stopping; running runs are saving their state (Ctrl-C again to kill them)\n');
      stop.abort();
    } else kill.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    kill: kill.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Run `task` with the Ctrl-C handlers installed, then remove them. */
export async function withInterrupts<T>(task: (signals: InterruptSignals) => Promise<T>): Promise<T> {
  const signals = interruptHandlers();
  try {
    return await task(signals);
  } finally {
    signals.release();
  }
}
