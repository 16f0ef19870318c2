/**
 * What the five classic-control envs share: a float64 physical state per copy in Gymnasium's `env.state` layout
 * (settable for side-by-side tests and `envs replay`), and per-step noise drawn into a buffer before the physics loop
 * (a call inside the hot loop slows the noiseless case too).
 */
import type { EnvParams, PhysicalStateEnv, ArrayEnvOptions } from '../../src/core/vector-env.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export abstract class ClassicControlEnv<P extends EnvParams> extends ArrayEnv<P> implements PhysicalStateEnv {
  readonly stateSize: number;
  /** [numEnvs * stateSize] physical state, float64 as in Gymnasium. */
  protected readonly state: Float64Array;
  private noiseBuffer: Float64Array | null = null;

  constructor(options: ArrayEnvOptions<P>, stateSize: number) {
    super(options);
    this.stateSize = stateSize;
    this.state = new Float64Array(options.numEnvs * stateSize);
  }

  /** Write env `i`'s observation from its physical state. */
  protected abstract writeObs(i: number): void;

  /** One N(0, std²) draw per copy for this step. */
  protected gaussianNoise(std: number): Float64Array {
    const noise = (this.noiseBuffer ??= new Float64Array(this.numEnvs));
    for (let i = 0; i < this.numEnvs; i++) noise[i] = std * this.rng.normal();
    return noise;
  }

  /** One U(-max, max) draw per copy for this step. */
  protected uniformNoise(max: number): Float64Array {
    const noise = (this.noiseBuffer ??= new Float64Array(this.numEnvs));
    for (let i = 0; i < this.numEnvs; i++) noise[i] = this.rng.range(-max, max);
    return noise;
  }

  setState(i: number, state: ArrayLike<number>): void {
    const size = this.stateSize;
    for (let k = 0; k < size; k++) this.state[i * size + k] = state[k]!;
    this.writeObs(i);
  }

  getState(i: number): number[] {
    return Array.from(this.state.subarray(i * this.stateSize, (i + 1) * this.stateSize));
  }
}
