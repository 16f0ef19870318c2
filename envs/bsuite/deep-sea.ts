/**
 * # DeepSea-v0
 *
 * bsuite's `deep_sea` (and, with `slip`/`rewardNoise`, `deep_sea_stochastic`): an `size × size` grid the agent
 * descends one row per step, moving one column left or right. Only the bottom-right cell pays, and every 'right' costs
 * a little, so a dithering agent learns to go left: the canonical deep-exploration probe.
 *
 * | obs               | meaning                                               | range  |
 * |-------------------|-------------------------------------------------------|--------|
 * | r · size + c      | 1 at the agent's cell (row r, column c), 0 elsewhere  | {0, 1} |
 *
 * The grid is flattened row-major; after the last step (row = size) the observation is all zeros, as in bsuite.
 *
 * - Actions: `Discrete(2)`. Which of 0/1 means 'right' differs per cell: `deepSeaActionMapping(size, mappingSeed)`
 *   gives, for each cell, the action that moves right (bsuite draws it the same way, from a fixed mapping seed, so
 *   the map is part of the task and not of the run's seed). The other action moves left.
 * - Transitions: 'right' moves one column right (clipped at the right wall), except that with probability `slip` it
 *   fails and the column stays; 'left' moves one column left (clipped at 0). The row always increases by one.
 * - Reward: +1 when 'right' is chosen in the rightmost column (only reachable on the bottom row); `-moveCost / size`
 *   for every 'right' (even a slipped one); N(0, rewardNoise²) added on the bottom row's two end cells.
 *   The optimal return is `1 - moveCost` when `slip = 0`; always going left returns exactly 0.
 * - Start: top-left cell (row 0, column 0).
 * - Episode end: terminated after exactly `size` steps (at the bottom); time limit `size`.
 * - Params: `size` (sets the observation size), `mappingSeed`, `moveCost` (bsuite's unscaled move cost),
 *   `slip`, `rewardNoise`. bsuite's stochastic variant is `slip = 1/size, rewardNoise = 1`.
 * - Difficulty ladder (v2, the default; written before measuring): the grid stays 10×10 (observation and network
 *   fixed); slip 0 → 0.2 and end-reward noise 0 → 2. A slipped 'right' makes the outcome depend on chance as well as
 *   on the policy (credit blurred, the expected gradient smaller) and the noise adds return variance that carries no
 *   information about the policy, so B_simple should rise. `env.ladder: "v1"` selects the round-one ladder:
 *   size 10 → 20, and from level 3 the stochastic variant. A uniformly random policy reaches the
 *   reward with probability 2^-(size-1), so every +2 in size quarters the rare episodes that carry all the signal:
 *   the expected gradient shrinks far faster than its variance. Slipping and noisy end rewards add return variance
 *   that carries no information about the policy.
 * - Version history: v0.
 */
import { defineEnv } from '../../src/core/env-spec.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface DeepSeaParams {
  [key: string]: number;
  size: number;
  mappingSeed: number;
  moveCost: number;
  slip: number;
  rewardNoise: number;
}

/**
 * For each cell `row * size + column`, the action (0 or 1) that means 'right' there. Fixed by `mappingSeed` alone,
 * so the same map holds for every run, seed and copy of the env.
 */
export function deepSeaActionMapping(size: number, mappingSeed: number): Uint8Array {
  const rng = new Rng(`DeepSea-v0/mapping/${mappingSeed}`);
  const mapping = new Uint8Array(size * size);
  for (let k = 0; k < mapping.length; k++) mapping[k] = rng.uniform() < 0.5 ? 1 : 0;
  return mapping;
}

class DeepSea extends ArrayEnv<DeepSeaParams> {
  private readonly row: Int32Array;
  private readonly column: Int32Array;
  private readonly mapping: Uint8Array;

  constructor(numEnvs: number, params: Readonly<DeepSeaParams>, maxEpisodeSteps: number) {
    super({
      id: 'DeepSea-v0',
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [params.size, params.size]),
      actionSpace: new Discrete(2),
      maxEpisodeSteps,
    });
    this.row = new Int32Array(numEnvs);
    this.column = new Int32Array(numEnvs);
    this.mapping = deepSeaActionMapping(params.size, params.mappingSeed);
  }

  protected resetEnv(i: number): void {
    const cells = this.params.size * this.params.size;
    this.row[i] = 0;
    this.column[i] = 0;
    this.obs.fill(0, i * cells, (i + 1) * cells);
    this.obs[i * cells] = 1;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { size, moveCost, slip, rewardNoise } = this.params;
    const cells = size * size;
    const last = size - 1;
    const cost = moveCost / size;
    const row = this.row;
    const column = this.column;
    const mapping = this.mapping;
    const obs = this.obs;
    const rewards = this.rewards;
    const terminated = this.terminated;
    const rng = this.rng;
    for (let i = 0; i < this.numEnvs; i++) {
      const r = row[i]!;
      let c = column[i]!;
      const o = i * cells;
      obs[o + r * size + c] = 0;
      const right = actions[i] === mapping[r * size + c];
      let reward = 0;
      if (right && c === last) reward += 1;
      if (rewardNoise > 0 && r === last && (c === 0 || c === last)) reward += rewardNoise * rng.normal();
      if (right) {
        if (slip === 0 || rng.uniform() >= slip) c = c < last ? c + 1 : last;
        reward -= cost;
      } else if (c > 0) {
        c -= 1;
      }
      const nr = r + 1;
      row[i] = nr;
      column[i] = c;
      rewards[i] = reward;
      if (nr === size) {
        terminated[i] = 1;
      } else {
        terminated[i] = 0;
        obs[o + nr * size + c] = 1;
      }
    }
  }
}

export const deepSea = defineEnv<DeepSeaParams>({
  id: 'DeepSea-v0',
  summary: "bsuite's Deep Sea: descend an N×N grid; only always-right (paid for) reaches the +1 (deep exploration).",
  params: {
    size: { default: 10, min: 2, max: 200, integer: true, doc: 'grid size N: N steps per episode, N² observation' },
    mappingSeed: { default: 0, min: 0, integer: true, doc: "seed of the per-cell map from action to 'right'/'left'" },
    moveCost: { default: 0.01, min: 0, doc: "total cost of going right all the way (each 'right' costs moveCost / size)" },
    slip: { default: 0, min: 0, max: 1, doc: "probability that 'right' fails and the column stays" },
    rewardNoise: { default: 0, min: 0, doc: "std of Gaussian reward noise on the bottom row's two end cells" },
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  levels: [
    {},
    { slip: 0.05, rewardNoise: 0.5 },
    { slip: 0.1, rewardNoise: 1 },
    { slip: 0.15, rewardNoise: 1.5 },
    { slip: 0.2, rewardNoise: 2 },
  ],
  ladder:
    'grid fixed at 10×10; slip 0 → 0.2 and end-reward noise 0 → 2: a slipped "right" makes the outcome depend on chance ' +
    'as well as on the policy (credit blurred, the expected gradient smaller), the noise adds return variance that carries no ' +
    'information, so B_simple should rise',
  ladderName: 'v2',
  variants: {
    v1: {
      levels: [
        {},
        { size: 12 },
        { size: 14 },
        { size: 16, slip: 0.0625, rewardNoise: 1 },
        { size: 20, slip: 0.05, rewardNoise: 1 },
      ],
      ladder:
        "size 10 → 20 (a random policy finds the reward with prob 2^-(N-1)); from level 3 bsuite's stochastic variant " +
        '(slip 1/N, end-reward noise 1); changes the observation size and so the network',
    },
  },
  maxEpisodeSteps: (params) => params.size,
  create: (numEnvs, params, maxEpisodeSteps) => new DeepSea(numEnvs, params, maxEpisodeSteps),
});
