/**
 * A sweep's progress on stderr: done/running/failed/total with an ETA, as a live line on a terminal or one line per
 * finished run otherwise.
 */
import { formatDuration, type ProgressMode } from '../../run/progress.js';
import type { RunRecord } from './pool.js';

/** done/running/failed/total with an ETA: a live line on a terminal, one line per finished run otherwise. */
export class SweepProgress {
  private readonly running = new Set<string>();
  private done = 0;
  private failed = 0;
  private finishedHere = 0;
  private runTimeHere = 0;
  private readonly t0 = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly mode: ProgressMode,
    private readonly name: string,
    private readonly total: number,
    private readonly skipped: number,
    private readonly workers: number,
    private readonly out: NodeJS.WritableStream,
    private readonly executor: 'local' | 'slurm' = 'local',
  ) {
    this.done = skipped;
  }

  start(): void {
    if (this.mode === 'quiet') return;
    const skipped = this.skipped > 0 ? `, ${this.skipped} already completed` : '';
    const where = this.executor === 'slurm' ? 'on Slurm' : `${this.workers} worker${this.workers === 1 ? '' : 's'}`;
    this.print(`sweep ${this.name}: ${this.total} runs${skipped}, ${where}`);
    if (this.mode === 'tty') {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
      this.draw();
    }
  }

  started(id: string): void {
    this.running.add(id);
    if (this.mode === 'tty') this.draw();
  }

  finished(record: RunRecord): void {
    this.running.delete(record.id);
    if (record.status === 'interrupted') {
      if (this.mode !== 'quiet') this.print(`  ${record.id}: interrupted`);
      return;
    }
    this.done++;
    this.finishedHere++;
    this.runTimeHere += record.wallS;
    if (record.status !== 'completed') this.failed++;
    if (this.mode === 'quiet') return;
    const error = record.status !== 'completed' && record.error ? ` — ${record.error.split('\n')[0]}` : '';
    this.print(`  [${this.done}/${this.total}] ${record.id}: ${record.status} in ${formatDuration(record.wallS)}${error}`);
  }

  /** A line of its own (Slurm submissions, cancelling). */
  message(text: string): void {
    if (this.mode !== 'quiet') this.print(text);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.mode === 'tty') this.out.write('\r\x1b[2K');
  }

  final(completed: number, failed: number, interrupted: boolean, dir: string): void {
    if (this.mode === 'quiet') return;
    const parts = [`${completed} completed`];
    if (this.skipped > 0) parts.push(`${this.skipped} skipped (already completed)`);
    if (failed > 0) parts.push(`${failed} failed`);
    const left = this.total - this.done;
    if (left > 0) parts.push(`${left} not finished`);
    this.out.write(`sweep ${this.name}${interrupted ? ' interrupted' : ''}: ${parts.join(', ')} in ${formatDuration(this.elapsed())}; results in ${dir}\n`);
  }

  /** The client returns while the runs go on in Slurm. */
  detached(dir: string, jobs: readonly string[], finishJob: string | null): void {
    if (this.mode === 'quiet') return;
    const finish = finishJob ? `; job ${finishJob} writes the aggregates and the report at the end` : '';
    this.out.write(`sweep ${this.name}: detached; Slurm job(s) ${jobs.join(', ') || '(none)'} run the ${this.total - this.done} pending runs${finish}. Follow with: gradnoise sweep status ${dir}\n`);
  }

  private elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  private eta(): number {
    const left = this.total - this.done;
    if (this.finishedHere === 0 || left === 0) return left === 0 ? 0 : NaN;
    return (left * (this.runTimeHere / this.finishedHere)) / this.workers;
  }

  private line(): string {
    const eta = this.eta();
    return [
      `sweep ${this.name}`,
      `${this.done}/${this.total} done`,
      `${this.running.size} running`,
      `${this.failed} failed`,
      `elapsed ${formatDuration(this.elapsed())}`,
      `eta ${Number.isFinite(eta) ? formatDuration(eta) : '-'}`,
    ].join(' | ');
  }

  private draw(): void {
    this.out.write(`\r\x1b[2K${this.line()}`);
  }

  private print(text: string): void {
    this.out.write(this.mode === 'tty' ? `\r\x1b[2K${text}\n` : `${text}\n`);
    if (this.mode === 'tty' && this.timer) this.draw();
  }
}
