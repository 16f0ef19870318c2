/**
 * # UmbrellaChain-v0
 *
 * bsuite's `umbrella_length` / `umbrella_distract` probe of credit assignment: the first action (take the umbrella
 * or not) alone decides the ±1 reward at the end of a `chainLength`-step chain, while every step in between pays a
 * random ±1 that no action can influence.
 *
 * | obs      | meaning                                                       | range  |
 * |----------|---------------------------------------------------------------|--------|
 * | 0        | need umbrella (fixed for the episode)                         | {0, 1} |
 * | 1        | has umbrella (random at the start, the first action after it) | {0, 1} |
 * | 2        | time remaining, `1 - t / chainLength`                         | [0, 1] |
 * | 3 …      | `numDistractors` fresh uniform random bits every step         | {0, 1} |
 *
 * Here t is the number of steps taken so far in the episode.
 *
 * - Actions: `Discrete(2)`: on the first step, 1 takes the umbrella and 0 leaves it; later actions have no effect.
 * - Reward: on the last step +1 if has umbrella = need umbrella, else -1; on every earlier step a distractor
 *   reward of +1 or -1 with probability 1/2 each. The optimal expected return is therefore 1.
 * - Start: need umbrella and has umbrella each uniform in {0, 1} (as bsuite: has umbrella is noise until the first
 *   action sets it); t = 0.
 * - Episode end: terminated after exactly `chainLength` steps; time limit `chainLength`.
 * - Params: `chainLength`, `numDistractors` (sets the observation size).
 * - Difficulty ladder (v2, the default; written before measuring): 20 distractor bits at every level (observation
 *   and network fixed), chain 5 → 50 steps. `env.ladder: "v1"` (round one) also raised the distractors 20 → 50.
 *   The decisive signal is one ±1 at the end, but
 *   the return also carries `chainLength - 1` coin-flip rewards, whose variance (`chainLength - 1`) the gradient of the
 *   first action has to average out, and more distractor inputs add gradient directions that carry only noise:
 *   tr(Σ) grows roughly linearly with length while |G|² does not, so B_simple should rise.
 * - Version history: v0.
 */
import { defineEnv } from '../../src/core/env-spec.js';
import type { Rng } from '../../src/core/rng.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface UmbrellaChainParams {
  [key: string]: number;
  chainLength: number;
  numDistractors: number;
}

/** Fair coin flips into `target[from..to)`, 32 per random draw (every bit of an Alea `uint32` is uniform). */
function writeRandomBits(target: Float32Array, from: number, to: number, rng: Rng): void {
  for (let k = from; k < to; k += 32) {
    let word = rng.uint32();
    const end = Math.min(to, k + 32);
    for (let j = k; j < end; j++) {
      target[j] = word & 1;
      word >>>= 1;
    }
  }
}

class UmbrellaChain extends ArrayEnv<UmbrellaChainParams> {
  private readonly needUmbrella: Uint8Array;
  private readonly hasUmbrella: Uint8Array;
  private readonly time: Int32Array;

  constructor(numEnvs: number, params: Readonly<UmbrellaChainParams>, maxEpisodeSteps: number) {
    super({
      id: 'UmbrellaChain-v0',
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [3 + params.numDistractors]),
      actionSpace: new Discrete(2),
      maxEpisodeSteps,
    });
    this.needUmbrella = new Uint8Array(numEnvs);
    this.hasUmbrella = new Uint8Array(numEnvs);
    this.time = new Int32Array(numEnvs);
  }

  protected resetEnv(i: number): void {
    const distractors = this.params.numDistractors;
    const o = i * (3 + distractors);
    const rng = this.rng;
    this.time[i] = 0;
    this.needUmbrella[i] = rng.uniform() < 0.5 ? 1 : 0;
    this.hasUmbrella[i] = rng.uniform() < 0.5 ? 1 : 0;
    this.obs[o] = this.needUmbrella[i]!;
    this.obs[o + 1] = this.hasUmbrella[i]!;
    this.obs[o + 2] = 1;
    writeRandomBits(this.obs, o + 3, o + 3 + distractors, rng);
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { chainLength, numDistractors } = this.params;
    const size = 3 + numDistractors;
    const time = this.time;
    const need = this.needUmbrella;
    const has = this.hasUmbrella;
    const obs = this.obs;
    const rewards = this.rewards;
    const terminated = this.terminated;
    const rng = this.rng;
    for (let i = 0; i < this.numEnvs; i++) {
      const t = time[i]! + 1;
      time[i] = t;
      if (t === 1) has[i] = actions[i]!;
      if (t === chainLength) {
        rewards[i] = has[i] === need[i] ? 1 : -1;
        terminated[i] = 1;
      } else {
        rewards[i] = rng.uniform() < 0.5 ? 1 : -1;
        terminated[i] = 0;
      }
      const o = i * size;
      obs[o] = need[i]!;
      obs[o + 1] = has[i]!;
      obs[o + 2] = 1 - t / chainLength;
      if (numDistractors > 0) writeRandomBits(obs, o + 3, o + size, rng);
    }
  }
}

export const umbrellaChain = defineEnv<UmbrellaChainParams>({
  id: 'UmbrellaChain-v0',
  summary: "bsuite's umbrella chain: only the first action decides the final ±1; every other step pays a random ±1.",
  params: {
    chainLength: { default: 5, min: 1, max: 10000, integer: true, doc: 'steps per episode; the first one decides the final reward' },
    numDistractors: { default: 20, min: 0, max: 10000, integer: true, doc: 'random distractor bits in every observation' },
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  levels: [
    {},
    { chainLength: 10 },
    { chainLength: 20 },
    { chainLength: 30 },
    { chainLength: 50 },
  ],
  ladder:
    '20 distractor bits fixed; chain 5 → 50: the one ±1 the first action decides comes later, behind chainLength - 1 ' +
    'coin-flip rewards whose variance the gradient has to average out, so tr(Σ) grows with length while |G|² does not',
  ladderName: 'v2',
  variants: {
    v1: {
      levels: [
        {},
        { chainLength: 10 },
        { chainLength: 20, numDistractors: 30 },
        { chainLength: 30, numDistractors: 40 },
        { chainLength: 50, numDistractors: 50 },
      ],
      ladder:
        'chain 5 → 50 (return variance from coin-flip rewards grows with length, the ±1 signal does not) ' +
        'and 20 → 50 distractor bits (changes the observation size and so the network)',
    },
  },
  maxEpisodeSteps: (params) => params.chainLength,
  create: (numEnvs, params, maxEpisodeSteps) => new UmbrellaChain(numEnvs, params, maxEpisodeSteps),
});
