/**
 * Progress display: a live line redrawn in place on a terminal, plain periodic lines otherwise (logs, CI), nothing
 * when quiet.
 */
export interface ProgressState {
  envSteps: number;
  totalSteps: number;
  update: number;
  sps: number;
  returnMean: number;
  bSimple?: number;
  elapsedS: number;
}

export type ProgressMode = 'tty' | 'plain' | 'quiet';

export class Progress {
  private lastPlain = -Infinity;
  private lastDraw = -Infinity;
  constructor(
    private readonly mode: ProgressMode,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  static modeFor(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
    if (quiet) return 'quiet';
    return stream.isTTY ? 'tty' : 'plain';
  }

  update(state: ProgressState): void {
    if (this.mode === 'quiet') return;
    if (this.mode === 'tty') {
      if (state.elapsedS - this.lastDraw < 0.1 && state.envSteps < state.totalSteps) return;
      this.lastDraw = state.elapsedS;
      this.out.write(`\r\x1b[2K${this.line(state, true)}`);
    } else if (state.elapsedS - this.lastPlain >= 10 || state.envSteps >= state.totalSteps) {
      this.lastPlain = state.elapsedS;
      this.out.write(`${this.line(state, false)}\n`);
    }
  }

  message(text: string): void {
    if (this.mode === 'quiet') return;
    this.out.write(this.mode === 'tty' ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }

  done(): void {
    if (this.mode === 'tty') this.out.write('\n');
  }

  private line(state: ProgressState, bar: boolean): string {
    const fraction = Math.min(1, state.envSteps / state.totalSteps);
    const width = 20;
    const filled = Math.round(fraction * width);
    const meter = bar ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const eta = state.sps > 0 ? (state.totalSteps - state.envSteps) / state.sps : NaN;
    const parts = [
      `${this.label} ${meter}${(fraction * 100).toFixed(0)}%`,
      `steps ${state.envSteps}/${state.totalSteps}`,
      `${Math.round(state.sps)} sps`,
      `return ${Number.isFinite(state.returnMean) ? state.returnMean.toFixed(1) : '-'}`,
    ];
    if (state.bSimple !== undefined) parts.push(`B_simple ${Number.isFinite(state.bSimple) ? formatCompact(state.bSimple) : 'unresolved'}`);
    parts.push(`eta ${Number.isFinite(eta) ? formatDuration(eta) : '-'}`);
    return parts.join(' | ');
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function formatCompact(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}
