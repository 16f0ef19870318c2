/**
 * A sweep worker process: receives runs from the sweep over the IPC channel and trains them one at a time.
 *
 * Protocol (parent → worker): `run` a task, `stop` the current run (it ends `interrupted`, its folder keeps everything
 * up to the last update), `exit`. Worker → parent: `ready` once loaded, `done` with the outcome of each run.
 * SIGINT/SIGTERM (Ctrl-C reaches the whole process group) stop the current run the same way; the worker then waits
 * for the parent to tell it to exit, so every run folder ends with a summary.json.
 *
 * `serveRuns` takes the run function, so tests can serve fakes; run as a script this module serves `train()`.
 */
import { pathToFileURL } from 'node:url';
import type { RunStatus } from '../../run/run-folder.js';

/** A run as it travels to a worker: plain JSON. */
export interface WorkerTask {
  readonly id: string;
  /** The resolved config (validated again in the worker). */
  readonly config: unknown;
  readonly runDir: string;
  readonly configDir: string;
}

export interface RunOutcome {
  readonly status: RunStatus;
  readonly error?: string;
}

export type WorkerRequest = { type: 'run'; task: WorkerTask } | { type: 'stop' } | { type: 'exit' };
export type WorkerReply = { type: 'ready' } | { type: 'done'; id: string; outcome: RunOutcome };

export type WorkerRunFn = (task: WorkerTask, signal: AbortSignal) => Promise<RunOutcome>;

/** Serve runs over this process's IPC channel until told to exit or the parent goes away. */
export function serveRuns(runOne: WorkerRunFn): void {
  if (!process.send) throw new Error('serveRuns: no IPC channel (start this module with child_process.fork)');
  let current: AbortController | null = null;
  let exitWhenIdle = false;
  const stopCurrent = () => current?.abort();
  process.on('SIGINT', stopCurrent);
  process.on('SIGTERM', stopCurrent);
  process.on('disconnect', () => {
    // The parent is gone: finish (interrupted) what is running, then leave.
    exitWhenIdle = true;
    stopCurrent();
    if (!current) process.exit(0);
  });
  process.on('message', (message: WorkerRequest) => {
    if (message.type === 'stop') stopCurrent();
    else if (message.type === 'exit') {
      exitWhenIdle = true;
      if (!current) process.exit(0);
    } else if (message.type === 'run') {
      const controller = new AbortController();
      current = controller;
      const { task } = message;
      runOne(task, controller.signal)
        .catch((error: unknown): RunOutcome => ({ status: 'failed', error: (error as Error).stack ?? String(error) }))
        .then((outcome) => {
          current = null;
          const reply: WorkerReply = { type: 'done', id: task.id, outcome };
          if (process.connected) process.send!(reply);
          if (exitWhenIdle) process.exit(0);
        });
    }
  });
  const ready: WorkerReply = { type: 'ready' };
  process.send(ready);
}

/** The real thing: validate the config again and train into the run folder, quietly, from its checkpoint if it has one. */
async function serveTraining(): Promise<void> {
  // Loading tfjs takes a while; a Ctrl-C meanwhile must not kill the worker (the parent decides when it exits).
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  const { parseConfig } = await import('../../config/load.js');
  const { train } = await import('../../run/trainer.js');
  serveRuns(async (task, signal) => {
    const summary = await train(parseConfig(task.config), { runDir: task.runDir, configDir: task.configDir, progress: 'quiet', signal, resume: true });
    return { status: summary.status, ...(summary.error !== undefined ? { error: summary.error } : {}) };
  });
  process.off('SIGINT', ignore);
  process.off('SIGTERM', ignore);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await serveTraining();
