/**
 * # MemoryChain-v0
 *
 * bsuite's `memory_len` / `memory_size` probe: random context bits are shown once, at the start; `memoryLength` steps
 * later the agent is asked for one of them. Only an agent with memory (a recurrent policy) can beat chance.
 *
 * | obs               | meaning                                                               | range            |
 * |-------------------|-----------------------------------------------------------------------|------------------|
 * | 0                 | time remaining, `1 - min(t, memoryLength) / memoryLength`             | [0, 1]           |
 * | 1                 | the query (index of the bit asked for), only when t = memoryLength    | [0, numBits - 1] |
 * | 2 … numBits + 1   | the context bits as ±1, only at t = 0 (0 afterwards)                  | [-1, 1]          |
 *
 * Here t is the number of steps taken so far in the episode.
 *
 * - Actions: `Discrete(2)`: the bit value the agent answers; ignored on every step but the last.
 * - Reward: 0 on the first `memoryLength` steps; on the last step +1 if the action equals the queried bit, else -1.
 * - Start: each context bit uniform in {0, 1}; the query uniform in 0..numBits-1; t = 0.
 * - Episode end: terminated after exactly `memoryLength + 1` steps (the answer); time limit `memoryLength + 1`.
 *   The observation after the answer is all zeros.
 * - Params: `memoryLength`, `numBits` (sets the observation size).
 * - Differences from bsuite: bsuite's `step` returns the observation of the step before its time counter moves, so
 *   its context is visible in the first two observations and its time indicator lags one step (1/L when asked).
 *   Here every observation belongs to its own step: the context is seen once and time remaining reads 0 exactly
 *   when the question is asked (bsuite's own docstring: "all actions take no effect until time_to_live = 0").
 *   Same episode length, reward and observation layout.
 * - Difficulty ladder (v2, the default; written before measuring): one bit (observation and network fixed), memory
 *   5 → 50 steps. `env.ladder: "v1"` (round one) also raised the bits 1 → 4. The reward depends only on the first observation, so a
 *   longer gap means a longer credit-assignment path through time with nothing but zero rewards in between; with more
 *   bits each episode rewards remembering just one of them, so per bit the signal is diluted while the ±1 outcome
 *   noise stays: B_simple should rise. This holds for recurrent policies only: a memoryless (feed-forward) policy
 *   cannot see the context when it answers, its expected return is 0 at every level, the true gradient is 0 and
 *   B_simple is not defined.
 * - Version history: v0.
 */
import { defineEnv } from '../../src/core/env-spec.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface MemoryChainParams {
  [key: string]: number;
  memoryLength: number;
  numBits: number;
}

class MemoryChain extends ArrayEnv<MemoryChainParams> {
  private readonly context: Uint8Array;
  private readonly query: Int32Array;
  private readonly time: Int32Array;

  constructor(numEnvs: number, params: Readonly<MemoryChainParams>, maxEpisodeSteps: number) {
    const bits = params.numBits;
    const low = [0, 0, ...new Array<number>(bits).fill(-1)];
    const high = [1, bits - 1, ...new Array<number>(bits).fill(1)];
    super({
      id: 'MemoryChain-v0',
      numEnvs,
      params,
      observationSpace: new Box(low, high),
      actionSpace: new Discrete(2),
      maxEpisodeSteps,
    });
    this.context = new Uint8Array(numEnvs * bits);
    this.query = new Int32Array(numEnvs);
    this.time = new Int32Array(numEnvs);
  }

  protected resetEnv(i: number): void {
    const bits = this.params.numBits;
    const o = i * (bits + 2);
    this.time[i] = 0;
    this.obs[o] = 1;
    this.obs[o + 1] = 0;
    for (let b = 0; b < bits; b++) {
      const bit = this.rng.uniform() < 0.5 ? 1 : 0;
      this.context[i * bits + b] = bit;
      this.obs[o + 2 + b] = 2 * bit - 1;
    }
    this.query[i] = this.rng.int(bits);
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { memoryLength, numBits } = this.params;
    const size = numBits + 2;
    const time = this.time;
    const context = this.context;
    const query = this.query;
    const obs = this.obs;
    const rewards = this.rewards;
    const terminated = this.terminated;
    for (let i = 0; i < this.numEnvs; i++) {
      const t = time[i]! + 1;
      time[i] = t;
      const o = i * size;
      if (t === 1) obs.fill(0, o + 2, o + size);
      if (t > memoryLength) {
        rewards[i] = actions[i] === context[i * numBits + query[i]!] ? 1 : -1;
        terminated[i] = 1;
        obs[o] = 0;
        obs[o + 1] = 0;
      } else {
        rewards[i] = 0;
        terminated[i] = 0;
        obs[o] = 1 - t / memoryLength;
        obs[o + 1] = t === memoryLength ? query[i]! : 0;
      }
    }
  }
}

export const memoryChain = defineEnv<MemoryChainParams>({
  id: 'MemoryChain-v0',
  summary: "bsuite's memory chain: recall a context bit shown memoryLength steps earlier (needs a recurrent policy).",
  params: {
    memoryLength: { default: 5, min: 1, max: 10000, integer: true, doc: 'steps between seeing the context and being asked' },
    numBits: { default: 1, min: 1, max: 1000, integer: true, doc: 'number of context bits (one of them is queried)' },
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  levels: [{}, { memoryLength: 10 }, { memoryLength: 20 }, { memoryLength: 30 }, { memoryLength: 50 }],
  ladder: 'one context bit (observation fixed); memory 5 → 50 steps: a longer credit path through time with only zero rewards between',
  ladderName: 'v2',
  variants: {
    v1: {
      levels: [
        {},
        { memoryLength: 10 },
        { memoryLength: 20, numBits: 2 },
        { memoryLength: 30, numBits: 3 },
        { memoryLength: 50, numBits: 4 },
      ],
      ladder: 'memory 5 → 50 steps (longer credit path, zero rewards between) and 1 → 4 bits (signal per bit diluted; changes the observation size)',
    },
  },
  maxEpisodeSteps: (params) => params.memoryLength + 1,
  create: (numEnvs, params, maxEpisodeSteps) => new MemoryChain(numEnvs, params, maxEpisodeSteps),
});
