/**
 * Seeded randomness. One root seed, split into named sub-streams (`env`, `init`, `minibatch`, ...), so adding a
 * consumer never shifts another's numbers. Built on seedrandom's Alea generator; nothing here touches Math.random.
 */
import seedrandom from 'seedrandom';

/** Everything a stream's future depends on: Alea's registers and the cached second normal. */
export interface RngState {
  readonly alea: seedrandom.State.Alea;
  readonly spareNormal: number | null;
}

export class Rng {
  readonly seed: string;
  private next: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private spareNormal: number | null = null;

  constructor(seed: number | string) {
    this.seed = String(seed);
    this.next = seedrandom.alea(this.seed, { state: true });
  }

  /** The stream's position, for checkpoints; `setState` continues exactly from it. */
  getState(): RngState {
    return { alea: this.next.state(), spareNormal: this.spareNormal };
  }

  setState(state: RngState): void {
    this.next = seedrandom.alea('', { state: { ...state.alea } });
    this.spareNormal = state.spareNormal;
  }

  /** An independent stream named `name`, fixed by this stream's seed alone (not by how much of it was drawn). */
  split(name: string): Rng {
    return new Rng(`${this.seed}/${name}`);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Uniform in [low, high). */
  range(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, second value cached). */
  normal(): number {
    if (this.spareNormal !== null) {
      const value = this.spareNormal;
      this.spareNormal = null;
      return value;
    }
    let u = this.next();
    while (u <= Number.MIN_VALUE) u = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    const angle = 2 * Math.PI * this.next();
    this.spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** A 32-bit unsigned integer, e.g. to seed another library. */
  uint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  /** Fisher-Yates shuffle in place (tfjs `util.shuffle` uses Math.random, so we never call it). */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return this.shuffle(order);
  }
}
