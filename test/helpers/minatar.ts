/**
 * Test doubles for the MinAtar tests (test/envs/minatar*.test.ts): random streams that replay given draws or count
 * them, a way to put one into an env (the base class keeps `rng` protected), and a frame's true cells.
 */
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { VectorEnv } from '../../src/core/vector-env.js';

/** A uniform float as ['u', x]; an integer as ['i', n, k]: k uniform in 0..n-1 (the original's randint less `low`). */
export type Draw = ['u', number] | ['i', number, number];

/** Hands out the given draws in order, checking that each call asks for the same kind of number. */
export class ScriptedRng {
  private next = 0;
  constructor(private readonly draws: readonly Draw[]) {}
  uniform(): number {
    return this.take('u')[1];
  }
  int(n: number): number {
    const draw = this.take('i') as ['i', number, number];
    assert.equal(n, draw[1], `draw ${this.next - 1}: int(${n}) where the script drew from ${draw[1]} values`);
    return draw[2];
  }
  get remaining(): number {
    return this.draws.length - this.next;
  }
  private take(kind: 'u' | 'i'): Draw {
    const draw = this.draws[this.next++];
    assert.ok(draw, `draw ${this.next - 1}: the script has no more draws`);
    assert.equal(draw[0], kind, `draw ${this.next - 1}: ${kind === 'u' ? 'uniform()' : 'int()'} where the script has ${draw[0] === 'u' ? 'a uniform' : 'an integer'}`);
    return draw;
  }
}

/** A real stream that counts uniform draws and can be told the next few. */
export class SpyRng extends Rng {
  draws = 0;
  forced: number[] = [];
  override uniform(): number {
    this.draws += 1;
    return this.forced.length > 0 ? this.forced.shift()! : super.uniform();
  }
}

export interface EnvInternals {
  rng: unknown;
  resetEnv(i: number): void;
  obs: Float32Array;
}

export function setRng<R>(env: VectorEnv, rng: R): R {
  (env as unknown as EnvInternals).rng = rng;
  return rng;
}

/** Flat indices of the cells that are 1. */
export function cells(obs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let k = 0; k < obs.length; k++) if (obs[k] === 1) out.push(k);
  return out;
}
