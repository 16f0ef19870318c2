/**
 * # Catch-v0
 *
 * bsuite's `catch`: a ball falls one row per step down a `rows × columns` board; move the paddle along the bottom
 * row to be under it when it lands.
 *
 * | obs                   | meaning                                                       | range  |
 * |-----------------------|---------------------------------------------------------------|--------|
 * | r · columns + c       | 1 where cell (row r, column c) holds the ball or the paddle   | {0, 1} |
 *
 * The board is flattened row-major (row 0 at the top), `rows × columns` values in all.
 *
 * - Actions: `Discrete(3)`: 0 moves the paddle one column left, 1 stays, 2 moves right (clipped at the walls).
 * - Reward: 0 while the ball falls; on the step it reaches the bottom row +1 if the paddle is in its column, else -1.
 * - Start: ball in row 0 at a uniformly random column; paddle in the bottom row at column `floor(columns / 2)`.
 * - Dynamics per step: the paddle moves, then the ball drops one row; with probability `ballDrift` the ball also
 *   shifts one column left or right (equally likely, clipped at the walls). bsuite's Catch is `ballDrift = 0`.
 * - Episode end: terminated when the ball reaches the bottom row, i.e. after exactly `rows - 1` steps; time limit `rows`.
 * - Params: `rows`, `columns` (they set the observation size), `ballDrift`. `rows - 1 >= floor(columns / 2)` is
 *   required so that every ball can be caught.
 * - Difficulty ladder (v2, the default; written before measuring): observed reward noise, std
 *   0 / 0.25 / 0.5 / 1 / 2 per step, the board fixed at 10×5. The noise is
 *   zero-mean and independent of the actions, so the expected gradient, the optimum and the (noiseless) episode
 *   returns are those of the standard task, while every advantage gains variance ∝ σ²: tr(Σ), and so B_simple, should
 *   rise with σ² and the task should need more samples. Observation and network are the same at every level.
 *   `env.ladder: "v1"` selects the round-one ladder:
 *   the board grows (10×5 → 30×13) and, from level 3, the ball drifts. A taller board means a longer horizon before
 *   the only reward, so more irrelevant actions share its credit; a wider one means more start columns to
 *   distinguish; drift makes the same actions end in different returns, and a drift on the last step can no longer
 *   be answered. All three spread the returns of a fixed policy (tr(Σ) up) without adding signal.
 * - Version history: v0.
 */
import { defineEnv, REWARD_NOISE_PARAM, rewardNoiseLadder } from '../../src/core/env-spec.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface CatchParams {
  [key: string]: number;
  rows: number;
  columns: number;
  ballDrift: number;
  rewardNoise: number;
}

class Catch extends ArrayEnv<CatchParams> {
  private readonly ballX: Int32Array;
  private readonly ballY: Int32Array;
  private readonly paddleX: Int32Array;

  constructor(numEnvs: number, params: Readonly<CatchParams>, maxEpisodeSteps: number) {
    super({
      id: 'Catch-v0',
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [params.rows, params.columns]),
      actionSpace: new Discrete(3),
      maxEpisodeSteps,
      rewardNoise: params.rewardNoise,
    });
    this.ballX = new Int32Array(numEnvs);
    this.ballY = new Int32Array(numEnvs);
    this.paddleX = new Int32Array(numEnvs);
  }

  protected resetEnv(i: number): void {
    const { rows, columns } = this.params;
    const size = rows * columns;
    const o = i * size;
    this.ballX[i] = this.rng.int(columns);
    this.ballY[i] = 0;
    this.paddleX[i] = columns >> 1;
    this.obs.fill(0, o, o + size);
    this.obs[o + this.ballX[i]!] = 1;
    this.obs[o + (rows - 1) * columns + this.paddleX[i]!] = 1;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { rows, columns, ballDrift } = this.params;
    const size = rows * columns;
    const bottom = rows - 1;
    const lastColumn = columns - 1;
    const ballX = this.ballX;
    const ballY = this.ballY;
    const paddleX = this.paddleX;
    const obs = this.obs;
    const rewards = this.rewards;
    const terminated = this.terminated;
    const drifts = ballDrift > 0;
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * size;
      const oldBall = o + ballY[i]! * columns + ballX[i]!;
      const oldPaddle = o + bottom * columns + paddleX[i]!;
      obs[oldBall] = 0;
      obs[oldPaddle] = 0;

      const px = Math.min(lastColumn, Math.max(0, paddleX[i]! + actions[i]! - 1));
      paddleX[i] = px;
      const by = ballY[i]! + 1;
      ballY[i] = by;
      let bx = ballX[i]!;
      if (drifts && this.rng.uniform() < ballDrift) {
        bx = Math.min(lastColumn, Math.max(0, bx + (this.rng.uniform() < 0.5 ? -1 : 1)));
        ballX[i] = bx;
      }

      obs[o + by * columns + bx] = 1;
      obs[o + bottom * columns + px] = 1;
      if (by === bottom) {
        rewards[i] = bx === px ? 1 : -1;
        terminated[i] = 1;
      } else {
        rewards[i] = 0;
        terminated[i] = 0;
      }
    }
  }
}

export const catchEnv = defineEnv<CatchParams>({
  id: 'Catch-v0',
  summary: "bsuite's Catch: move a paddle to catch a falling ball; +1 catch / -1 miss at the end.",
  params: {
    rows: { default: 10, min: 2, max: 1000, integer: true, doc: 'board height: the ball falls for rows - 1 steps' },
    columns: { default: 5, min: 1, max: 1000, integer: true, doc: 'board width' },
    ballDrift: { default: 0, min: 0, max: 1, doc: 'probability per step that the ball also shifts one column left or right' },
    rewardNoise: REWARD_NOISE_PARAM,
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  ...rewardNoiseLadder([0.25, 0.5, 1, 2], 'per step, board fixed at 10×5, on top of the one ±1 at the end'),
  variants: {
    v1: {
      levels: [
        {},
        { rows: 15, columns: 7 },
        { rows: 20, columns: 9 },
        { rows: 25, columns: 11, ballDrift: 0.05 },
        { rows: 30, columns: 13, ballDrift: 0.1 },
      ],
      ladder: 'board 10×5 → 30×13 (longer horizon, sparser credit) and ball drift 0 → 0.1 from level 3 (noisy transitions)',
    },
  },
  maxEpisodeSteps: (params) => params.rows,
  validate(params) {
    const reach = Math.floor(params.columns / 2);
    if (params.rows - 1 < reach) {
      throw new InvalidValueError(
        'env.params.rows',
        params.rows,
        `rows - 1 must be at least floor(columns / 2) = ${reach} so that the paddle can reach every ball`,
      );
    }
  },
  create: (numEnvs, params, maxEpisodeSteps) => new Catch(numEnvs, params, maxEpisodeSteps),
});
