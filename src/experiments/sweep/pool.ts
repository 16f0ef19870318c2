/**
 * Worker slots: where a sweep's runs execute. A slot runs one task at a time; `WorkerSlot` keeps one worker process
 * (worker.ts) for many runs and replaces it when it dies, `InProcessSlot` calls a function in this process (tests,
 * library use). A run's output goes to `logs/<run id>.log`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../../config/schema.js';
import type { RunStatus } from '../../run/run-folder.js';
import type { RunOutcome, WorkerReply, WorkerRequest, WorkerTask } from './worker.js';

/** One run handed to a slot. */
export interface RunTask {
  readonly id: string;
  readonly config: RunConfig;
  readonly runDir: string;
  readonly configDir: string;
}

/** Runs one training run in this process (tests, library use); must write the run folder like `train()`. */
export type RunOne = (task: RunTask, signal: AbortSignal) => Promise<RunOutcome>;

/** How one run of a sweep ended in this invocation (`skipped`: completed by an earlier one). */
export interface RunRecord {
  readonly id: string;
  readonly status: RunStatus | 'skipped';
  readonly error?: string;
  readonly wallS: number;
}

/** The worker module next to this file (`.ts` under tsx, `.js` when compiled). */
export function defaultWorkerScript(): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `worker${path.extname(here)}`);
}

export interface Slot {
  run(task: RunTask, signal: AbortSignal): Promise<RunOutcome>;
  /** Get ready to run (start a process) before the first task comes. */
  warm?(): void;
  close(): Promise<void>;
  kill(): void;
}

export class InProcessSlot implements Slot {
  constructor(private readonly runOne: RunOne) {}
  run(task: RunTask, signal: AbortSignal): Promise<RunOutcome> {
    return this.runOne(task, signal);
  }
  async close(): Promise<void> {}
  kill(): void {}
}

/** Where tsx's loader is, as an absolute URL, so workers find it whatever the working folder. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/** Keeps the last `limit` characters of a stream, for error messages. */
class Tail {
  private text = '';
  constructor(private readonly limit = 2000) {}
  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }
  take(): string {
    const text = this.text.trim();
    this.text = '';
    return text;
  }
}

export interface WorkerSlotOptions {
  /** The worker module (it must call `serveRuns`). */
  readonly script: string;
  /** Where each run's log goes: `<logDir>/<run id>.log`. */
  readonly logDir: string;
  /** Runs one process serves before a fresh one takes over (default: no limit). */
  readonly runsPerProcess?: number;
}

/**
 * One worker process serving run after run, so tfjs and its backend load once per worker, not once per run. It
 * starts on `warm()` or first use; a process that dies (its run is recorded as failed) or ends a run `failed` (its
 * state may be broken) is replaced by a fresh one for the next run. A run's output goes to logs/<run id>.log.
 */
export class WorkerSlot implements Slot {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private log: number | null = null;
  private served = 0;
  private readonly tail = new Tail();
  /** Processes told to exit and not gone yet (close() waits for them). */
  private readonly leaving = new Set<Promise<void>>();
  /** Processes started so far (1 when one process served every run). */
  started = 0;

  constructor(private readonly options: WorkerSlotOptions) {}

  /** Start the process now (its start-up then overlaps whatever the caller does next). */
  warm(): void {
    if (!this.child) this.spawn();
  }

  private spawn(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, GRADNOISE_WORKER: '1' };
    env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true'; // several workers share one GPU
    delete env.NODE_TEST_CONTEXT;
    const script = this.options.script;
    const execArgv = path.extname(script) === '.ts' ? ['--import', tsxLoader()] : [];
    const child = fork(script, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    this.child = child;
    this.served = 0;
    this.started += 1;
    const write = (chunk: Buffer) => {
      this.tail.push(chunk.toString('utf8'));
      if (this.log !== null) fs.writeSync(this.log, chunk);
    };
    child.stdout!.on('data', write);
    child.stderr!.on('data', write);
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerReply) => {
        if (message.type !== 'ready') return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        child.off('message', onMessage);
        reject(new Error(`worker process exited while starting (${signal ?? `exit code ${code}`})`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    // A start-up failure is reported by the run that awaits `ready`; never as an unhandled rejection.
    this.ready.catch(() => {});
    child.once('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.ready = null;
      }
    });
  }

  async run(task: RunTask, signal: AbortSignal): Promise<RunOutcome> {
    this.log = fs.openSync(path.join(this.options.logDir, `${task.id}.log`), 'a');
    this.tail.take();
    try {
      if (!this.child) this.spawn();
      const child = this.child!;
      try {
        await this.ready;
      } catch (error) {
        const output = this.tail.take();
        return { status: signal.aborted ? 'interrupted' : 'failed', error: `${(error as Error).message}${output ? `\n${output}` : ''}` };
      }
      const outcome = await new Promise<RunOutcome>((resolve) => {
        const finish = (result: RunOutcome) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const onMessage = (message: WorkerReply) => {
          if (message.type === 'done' && message.id === task.id) finish(message.outcome);
        };
        const onExit = (code: number | null, exitSignal: NodeJS.Signals | null) => {
          const output = this.tail.take();
          finish({
            status: signal.aborted ? 'interrupted' : 'failed',
            error: `worker process died during the run (${exitSignal ?? `exit code ${code}`})${output ? `; its last output:\n${output}` : ''}`,
          });
        };
        const onAbort = () => this.send({ type: 'stop' });
        child.on('message', onMessage);
        child.once('exit', onExit);
        signal.addEventListener('abort', onAbort);
        const workerTask: WorkerTask = { id: task.id, config: task.config, runDir: task.runDir, configDir: task.configDir };
        this.send({ type: 'run', task: workerTask });
        if (signal.aborted) onAbort();
      });
      this.served += 1;
      if (outcome.status === 'failed' || this.served >= (this.options.runsPerProcess ?? Infinity)) this.retire();
      return outcome;
    } finally {
      fs.closeSync(this.log);
      this.log = null;
    }
  }

  private send(message: WorkerRequest): void {
    if (this.child?.connected) this.child.send(message);
  }

  /** Let the current process go (it exits once told); the next run starts a fresh one. */
  private retire(): void {
    const child = this.child;
    if (!child) return;
    this.child = null;
    this.ready = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const leaving = gone.then(() => {
      clearTimeout(timer);
      this.leaving.delete(leaving);
    });
    this.leaving.add(leaving);
    if (child.connected) child.send({ type: 'exit' } satisfies WorkerRequest);
    else child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.retire();
    await Promise.all([...this.leaving]);
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}

export interface SlotEvents {
  readonly started: (task: RunTask) => void;
  readonly finished: (task: RunTask, outcome: RunOutcome, wallS: number) => void;
}

/** Run `tasks` over `slots`, each slot taking the next task as soon as it is free, until done or `stop` aborts. */
export async function runInSlots(tasks: readonly RunTask[], slots: readonly Slot[], stop: AbortSignal, events: SlotEvents): Promise<void> {
  let next = 0;
  await Promise.all(
    slots.map(async (slot) => {
      while (!stop.aborted && next < tasks.length) {
        const task = tasks[next++]!;
        events.started(task);
        const t0 = performance.now();
        let outcome: RunOutcome;
        try {
          outcome = await slot.run(task, stop);
        } catch (error) {
          outcome = { status: 'failed', error: (error as Error).stack ?? String(error) };
        }
        events.finished(task, outcome, (performance.now() - t0) / 1000);
      }
    }),
  );
}
