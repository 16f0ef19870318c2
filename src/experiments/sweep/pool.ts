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

/** One worker process, started on first use and restarted after a crash; its output goes to logs/<run id>.log. */
export class WorkerSlot implements Slot {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private log: number | null = null;
  private readonly tail = new Tail();

  constructor(
    private readonly script: string,
    private readonly logDir: string,
  ) {}

  private spawn(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, GRADNOISE_WORKER: '1' };
    env.TF_FORCE_GPU_ALLOW_GROWTH ??= 'true'; // several workers share one GPU
    delete env.NODE_TEST_CONTEXT;
    const execArgv = path.extname(this.script) === '.ts' ? ['--import', tsxLoader()] : [];
    const child = fork(this.script, [], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    this.child = child;
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
    child.once('exit', () => {
      if (this.child === child) {
        this.child = null;
        this.ready = null;
      }
    });
  }

  async run(task: RunTask, signal: AbortSignal): Promise<RunOutcome> {
    this.log = fs.openSync(path.join(this.logDir, `${task.id}.log`), 'a');
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
      return await new Promise<RunOutcome>((resolve) => {
        const finish = (outcome: RunOutcome) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
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
    } finally {
      fs.closeSync(this.log);
      this.log = null;
    }
  }

  private send(message: WorkerRequest): void {
    if (this.child?.connected) this.child.send(message);
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}

