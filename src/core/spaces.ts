/**
 * Observation and action spaces: `Discrete(n)` (integers 0..n-1) and `Box` (real vectors with per-dimension bounds).
 * Observations are always stored flat; `shape` is kept for description.
 */
import type { Rng } from './rng.js';

export interface SpaceDescription {
  type: 'Discrete' | 'Box';
  n?: number;
  shape?: number[];
  low?: number[];
  high?: number[];
}

export class Discrete {
  readonly type = 'Discrete' as const;
  readonly n: number;
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Discrete(n): n must be a positive integer, got ${n}`);
    this.n = n;
  }
  /** Flat size of one element (a Discrete action is one integer). */
  get size(): number {
    return 1;
  }
  sample(rng: Rng): number {
    return rng.int(this.n);
  }
  contains(x: unknown): boolean {
    const value = Array.isArray(x) || ArrayBuffer.isView(x) ? (x as ArrayLike<number>)[0] : x;
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < this.n;
  }
  describe(): SpaceDescription {
    return { type: 'Discrete', n: this.n };
  }
  toString(): string {
    return `Discrete(${this.n})`;
  }
}

export class Box {
  readonly type = 'Box' as const;
  readonly shape: readonly number[];
  readonly low: Float64Array;
  readonly high: Float64Array;

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: readonly number[]) {
    const size = shape
      ? shape.reduce((a, b) => a * b, 1)
      : typeof low === 'number'
        ? typeof high === 'number'
          ? 1
          : high.length
        : low.length;
    this.shape = shape ? [...shape] : [size];
    this.low = Float64Array.from({ length: size }, (_, i) => (typeof low === 'number' ? low : low[i]!));
    this.high = Float64Array.from({ length: size }, (_, i) => (typeof high === 'number' ? high : high[i]!));
    for (let i = 0; i < size; i++) {
      if (!(this.low[i]! <= this.high[i]!)) throw new RangeError(`Box: low[${i}] > high[${i}]`);
    }
  }

  get size(): number {
    return this.low.length;
  }

  /** Uniform inside finite bounds; standard normal on unbounded sides (as Gymnasium does). */
  sample(rng: Rng): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      if (Number.isFinite(lo) && Number.isFinite(hi)) out[i] = rng.range(lo, hi);
      else if (Number.isFinite(lo)) out[i] = lo + Math.abs(rng.normal());
      else if (Number.isFinite(hi)) out[i] = hi - Math.abs(rng.normal());
      else out[i] = rng.normal();
    }
    return out;
  }

  /** True when `x` has the right size and every entry lies within the float32-rounded bounds. */
  contains(x: ArrayLike<number>): boolean {
    if (x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      if (Number.isNaN(v) || v < Math.fround(this.low[i]!) || v > Math.fround(this.high[i]!)) return false;
    }
    return true;
  }

  describe(): SpaceDescription {
    return { type: 'Box', shape: [...this.shape], low: Array.from(this.low), high: Array.from(this.high) };
  }

  toString(): string {
    const bound = (values: Float64Array) => {
      const first = values[0]!;
      return values.every((v) => v === first) ? String(first) : `[${Array.from(values).join(', ')}]`;
    };
    return `Box(${bound(this.low)}, ${bound(this.high)}, (${this.shape.join(', ')}))`;
  }
}

export type Space = Discrete | Box;
