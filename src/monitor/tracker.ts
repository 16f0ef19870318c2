/**
 * One series of noise measurements (a component's B_simple, its per-sample or preconditioned variant, its B_noise):
 * the EMA over env steps, the ratio-of-means window over env steps, and the history the summary pools.
 */
import { hasFiniteMoments, noiseScale, type NoiseMoments, type NoiseScale } from './intervals.js';
import { NoiseSmoother, NoiseWindow } from './smoothing.js';

export interface HistoryEntry {
  readonly update: number;
  readonly envSteps: number;
  readonly moments: NoiseMoments;
}

/** The figures of a series after a measurement. */
export interface TrackedFigures {
  /** This measurement alone (absent when the series was not measured now). */
  readonly raw: NoiseScale | null;
  readonly ema: NoiseScale;
  /** Effective number of measurements in the EMA, (Σw)²/Σw². */
  readonly emaCount: number;
  readonly window: NoiseScale;
  readonly windowCount: number;
}

export class NoiseTracker {
  readonly history: HistoryEntry[] = [];
  private readonly smoother: NoiseSmoother;
  private readonly window: NoiseWindow;
  lastEma: { scale: NoiseScale; effectiveCount: number; envSteps: number } | null = null;

  constructor(
    horizon: number,
    windowSteps: number,
    private readonly confidence: number,
  ) {
    this.smoother = new NoiseSmoother(horizon);
    this.window = new NoiseWindow(windowSteps);
  }

  /** Add a measurement (skipped by the smoothers when its moments are not all finite) and return the figures. */
  add(moments: NoiseMoments, update: number, envSteps: number): TrackedFigures {
    if (hasFiniteMoments(moments)) {
      this.smoother.add(moments, envSteps);
      this.window.add(moments, envSteps);
      this.history.push({ update, envSteps, moments });
    }
    return { ...this.current(envSteps), raw: noiseScale(moments, this.confidence) };
  }

  /** The smoothed and windowed figures as they stand (no new measurement). */
  current(envSteps: number): TrackedFigures {
    const ema = this.smoother.moments();
    const win = this.window.moments();
    const emaScale = noiseScale(ema, this.confidence);
    this.lastEma = { scale: emaScale, effectiveCount: ema.effectiveCount, envSteps };
    return { raw: null, ema: emaScale, emaCount: ema.effectiveCount, window: noiseScale(win, this.confidence), windowCount: win.count };
  }
}
