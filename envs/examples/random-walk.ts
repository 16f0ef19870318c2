/**
 * # RandomWalk-v0 — a tutorial env written against the simple single-env API
 *
 * Copy this file to start your own environment. It shows everything an env module needs: params with defaults and
 * bounds, a five-level difficulty ladder, spaces, a per-episode class, and a default export. Use it from a config:
 *
 *     { "env": { "id": "RandomWalk-v0", "module": "envs/examples/random-walk.ts", "level": 2 } }
 *
 * or from code: `await loadEnvModule('envs/examples/random-walk.ts')`, then `makeEnv('RandomWalk-v0')`.
 *
 * The task: a walker on a 1-D chain of `length` cells (0 … length-1) starts in the middle and steps left or right.
 *
 * | obs | meaning                                   | range  |
 * |-----|-------------------------------------------|--------|
 * | k   | 1 if the walker is on cell k, else 0      | {0, 1} |
 *
 * - Actions: `Discrete(2)`: 0 steps left, 1 steps right; with probability `slip` the step goes the other way.
 * - Reward: +1 on reaching the right end (cell length-1), 0 on reaching the left end (cell 0), 0 otherwise.
 * - Start: cell `floor(length / 2)`.
 * - Episode end: terminated at either end; truncated after `2 (length - 1)²` steps (eight times the expected
 *   duration of a purely random walk from the middle, so truncation is rare even for a random policy).
 * - Difficulty ladder: the chain grows (7 → 31 cells). The only reward sits ever farther away, so a random policy
 *   reaches it less often and later: the policy gradient rests on fewer, longer episodes and B_simple should rise.
 * - Version history: v0.
 *
 * The simple API (`defineSimpleEnv`) runs one instance of your class per parallel copy and loops over them. It is the
 * easiest way in, though slower than a struct-of-arrays `ArrayEnv` (see `envs/catch.ts`) for large `numEnvs`.
 */

// Inside this repository we import from `src/`; in your own project import the same names from 'gradnoise'.
import { defineSimpleEnv, type SimpleEnv, type SimpleStep } from '../../src/core/simple-env.js';
import type { Rng } from '../../src/core/rng.js';
import { Box, Discrete } from '../../src/core/spaces.js';

// 1. The params type. Every param is a number or a boolean; the index signature lets the registry handle it
//    generically. Shape-changing params (here `length` sets the observation size) are params too.
export interface RandomWalkParams {
  [key: string]: number;
  length: number;
  slip: number;
}

// 2. One copy of the environment: plain mutable state, plain methods. `reset` returns the first observation;
//    `step` returns the next observation, the reward and whether the task itself ended. Do NOT handle time limits
//    or auto-reset here: the adapter does both (Gymnasium semantics: `truncated` at the time limit, and the next
//    episode's first observation appears in the same step, with the last one kept as `finalObs`).
class RandomWalk implements SimpleEnv {
  private position = 0;
  // One observation buffer, reused: the adapter copies it out, so returning the same array every time is safe.
  private readonly obs: Float32Array;

  constructor(private readonly params: Readonly<RandomWalkParams>) {
    this.obs = new Float32Array(params.length);
  }

  // All randomness comes from `rng`, the env's seeded stream (never Math.random), so runs are reproducible.
  // This env's start is deterministic, so `reset` has no use for it.
  reset(_rng: Rng): Float32Array {
    this.position = Math.floor(this.params.length / 2);
    return this.observe();
  }

  step(action: number | Float32Array, rng: Rng): SimpleStep {
    // For a Discrete action space `action` is the integer action (already validated by the base class).
    let move = action === 1 ? 1 : -1;
    if (this.params.slip > 0 && rng.uniform() < this.params.slip) move = -move;
    this.position += move;

    const atLeftEnd = this.position === 0;
    const atRightEnd = this.position === this.params.length - 1;
    return {
      obs: this.observe(),
      reward: atRightEnd ? 1 : 0,
      terminated: atLeftEnd || atRightEnd,
    };
  }

  private observe(): Float32Array {
    this.obs.fill(0);
    this.obs[this.position] = 1;
    return this.obs;
  }
}

// 3. The spec: id, a one-line summary, params (default, bounds, doc), the five levels, the ladder's rationale, the
//    time limit, the spaces and a factory. The registry checks every param against its bounds before `create`.
const randomWalk = defineSimpleEnv<RandomWalkParams>({
  id: 'RandomWalk-v0',
  summary: 'Example env: walk a 1-D chain from the middle; +1 at the right end, 0 at the left end.',
  params: {
    length: { default: 7, min: 3, max: 1001, integer: true, doc: 'cells in the chain, both ends included' },
    slip: { default: 0.1, min: 0, max: 1, doc: 'probability that a step goes the opposite way' },
  },
  // Level 0 is the standard task (the defaults); each later level sets params on top of the defaults.
  levels: [{}, { length: 11 }, { length: 15 }, { length: 21 }, { length: 31 }],
  ladder: 'chain 7 → 31 cells: the only reward moves farther away, so it is found more rarely and later',
  // A number, or a function of the resolved params.
  maxEpisodeSteps: (params) => 2 * (params.length - 1) ** 2,
  observationSpace: (params) => new Box(0, 1, [params.length]),
  actionSpace: () => new Discrete(2),
  create: (params) => new RandomWalk(params),
  // Optional cross-param checks go in `validate(params)`; throw `InvalidValueError('env.params.NAME', value, why)`.
});

// 4. Export the spec as the module's default export: that is what `env.module` / `loadEnvModule` look for.
export default randomWalk;
