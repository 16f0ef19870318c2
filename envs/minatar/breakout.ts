/**
 * # Breakout-MinAtar-v0
 *
 * MinAtar's Breakout (kenjyoung/MinAtar @4241f24, `breakout.py`): bounce a ball off a paddle on the bottom row to
 * break three rows of bricks. Shared machinery (frame, sticky actions, time limit) in `./base.ts`.
 *
 * | channel | meaning                                  |
 * |---------|------------------------------------------|
 * | 0       | paddle (always in row 9)                 |
 * | 1       | ball                                     |
 * | 2       | trail: the ball's cell one step earlier  |
 * | 3       | brick                                    |
 *
 * Observation `Box(0, 1, [10, 10, 4])`, flattened as `(row * 10 + col) * 4 + channel`.
 *
 * - Actions: `Discrete(3)` → the original's [0 no-op, 1 left, 3 right]; the paddle moves one cell (clamped 0..9).
 * - Dynamics per step: the paddle moves, then the ball moves one diagonal cell. It reflects off the side walls
 *   (clamped to the wall column, horizontal direction flipped) and the ceiling. Entering a brick cell gives +1, removes
 *   the brick, keeps the ball in its row and flips its vertical direction; only one brick per run of consecutive
 *   brick contacts (the original's `strike` flag: on the next step the ball passes into a brick without breaking it).
 *   When the ball would enter row 9: if no bricks are left, rows 1–3 refill; if the paddle is under the ball's
 *   current column the ball bounces straight back up, else if the paddle is at the column the ball is heading to the
 *   ball reverses both directions; otherwise the episode ends.
 * - Reward: +1 per brick.
 * - Start: bricks fill rows 1–3; paddle at column 4; ball in row 3, with probability ½ at column 0 heading down-right,
 *   else at column 9 heading down-left.
 * - Episode end: terminated when the ball reaches the bottom row past the paddle (at the earliest after 6 steps);
 *   no time limit of its own, truncated at 10,000 steps (see `./base.ts`).
 * - Params: `stickyProb` (0.1), `ramping` (accepted, no effect: the original's Breakout does not ramp),
 *   `bounceNoise` (not in the original, 0 there): probability that a paddle bounce leaves in the other horizontal
 *   direction (one draw per paddle bounce, only when `bounceNoise` > 0).
 * - Difficulty ladder: `stickyProb` 0.1 → 0.3 and `bounceNoise` 0 → 0.2. The game itself is deterministic after the
 *   start column, so its only transition noise is the sticky action; more of it means the paddle is late more often
 *   for the same policy. `bounceNoise` puts randomness exactly where the credit lies: after a catch, where the ball
 *   goes next (and so which bricks, and whether the next catch is reachable) varies. Both spread the returns of one
 *   policy (tr(Σ) up) while the learnable part, "be under the ball", stays the same size, so B_simple should rise.
 * - Version history: v0 (MinAtar v1.0.15 rules).
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { ACTIONS, GRID as GRID_SIDE, MINATAR_MAX_EPISODE_STEPS, MinAtarEnv, minatarParams, type MinAtarParams, STICKY_LADDER } from './base.js';

const { LEFT, RIGHT } = ACTIONS;
const GRID = GRID_SIDE; // a module constant, not the import (see ACTIONS in ./base.ts)

export interface BreakoutParams extends MinAtarParams {
  bounceNoise: number;
}

const CHANNELS = 4;
const PADDLE = 0;
const BALL = 1;
const TRAIL = 2;
const BRICK = 3;
const CELLS = GRID * GRID;
/** Ball directions as in the original: 0 up-left, 1 up-right, 2 down-right, 3 down-left. */
const DX = Int32Array.of(-1, 1, 1, -1);
const DY = Int32Array.of(-1, -1, 1, 1);

export class Breakout extends MinAtarEnv<BreakoutParams> {
  readonly ballX: Int32Array;
  readonly ballY: Int32Array;
  readonly ballDir: Int32Array;
  readonly lastX: Int32Array;
  readonly lastY: Int32Array;
  readonly paddle: Int32Array;
  /** 1 while the ball is in contact with bricks on consecutive steps. */
  readonly strike: Uint8Array;
  /** [numEnvs * 100] brick map, row-major. */
  readonly bricks: Uint8Array;
  readonly brickCount: Int32Array;

  constructor(numEnvs: number, params: Readonly<BreakoutParams>, maxEpisodeSteps: number) {
    super('Breakout-MinAtar-v0', numEnvs, params, maxEpisodeSteps, CHANNELS, [0, LEFT, RIGHT]);
    this.ballX = new Int32Array(numEnvs);
    this.ballY = new Int32Array(numEnvs);
    this.ballDir = new Int32Array(numEnvs);
    this.lastX = new Int32Array(numEnvs);
    this.lastY = new Int32Array(numEnvs);
    this.paddle = new Int32Array(numEnvs);
    this.strike = new Uint8Array(numEnvs);
    this.bricks = new Uint8Array(numEnvs * CELLS);
    this.brickCount = new Int32Array(numEnvs);
  }

  protected startGame(i: number): void {
    const right = this.rng.int(2) === 1;
    this.ballY[i] = 3;
    this.ballX[i] = right ? 9 : 0;
    this.ballDir[i] = right ? 3 : 2;
    this.paddle[i] = 4;
    this.fillBricks(i);
    this.strike[i] = 0;
    this.lastX[i] = this.ballX[i]!;
    this.lastY[i] = this.ballY[i]!;
  }

  private fillBricks(i: number): void {
    const o = i * CELLS;
    this.bricks.fill(0, o, o + CELLS);
    this.bricks.fill(1, o + GRID, o + 4 * GRID);
    this.brickCount[i] = 3 * GRID;
  }

  protected act(i: number, action: number): number {
    let reward = 0;
    let pos = this.paddle[i]!;
    if (action === LEFT) pos = Math.max(0, pos - 1);
    else if (action === RIGHT) pos = Math.min(9, pos + 1);
    this.paddle[i] = pos;

    const x = this.ballX[i]!;
    const y = this.ballY[i]!;
    this.lastX[i] = x;
    this.lastY[i] = y;
    let dir = this.ballDir[i]!;
    let nx = x + DX[dir]!;
    let ny = y + DY[dir]!;
    let strikeToggle = false;
    if (nx < 0 || nx > 9) {
      nx = nx < 0 ? 0 : 9;
      dir ^= 1; // flip horizontal: 0↔1, 2↔3
    }
    const brick = i * CELLS + ny * GRID + nx;
    if (ny < 0) {
      ny = 0;
      dir = 3 - dir; // flip vertical
    } else if (this.bricks[brick] === 1) {
      strikeToggle = true;
      if (this.strike[i] === 0) {
        reward += 1;
        this.strike[i] = 1;
        this.bricks[brick] = 0;
        this.brickCount[i] -= 1;
        ny = y;
        dir = 3 - dir;
      }
    } else if (ny === 9) {
      if (this.brickCount[i] === 0) this.fillBricks(i);
      if (x === pos) {
        dir = this.paddleBounce(3 - dir);
        ny = y;
      } else if (nx === pos) {
        dir = this.paddleBounce(dir ^ 2); // reverse both directions
        ny = y;
      } else {
        this.terminated[i] = 1;
      }
    }
    if (!strikeToggle) this.strike[i] = 0;
    this.ballDir[i] = dir;
    this.ballX[i] = nx;
    this.ballY[i] = ny;
    return reward;
  }

  /** With probability `bounceNoise` the ball leaves the paddle in the other horizontal direction. */
  private paddleBounce(dir: number): number {
    const noise = this.params.bounceNoise;
    return noise > 0 && this.rng.uniform() < noise ? dir ^ 1 : dir;
  }

  protected draw(i: number, obs: Float32Array, offset: number): void {
    this.mark(obs, offset, this.ballY[i]!, this.ballX[i]!, BALL);
    this.mark(obs, offset, 9, this.paddle[i]!, PADDLE);
    this.mark(obs, offset, this.lastY[i]!, this.lastX[i]!, TRAIL);
    const o = i * CELLS;
    for (let cell = 0; cell < CELLS; cell++) {
      if (this.bricks[o + cell] === 1) obs[offset + cell * CHANNELS + BRICK] = 1;
    }
  }
}

export const breakout = ladderKeptFromV1(
  defineEnv<BreakoutParams>({
    id: 'Breakout-MinAtar-v0',
    summary: "MinAtar's Breakout: a paddle bounces a ball into three rows of bricks (+1 per brick); 10×10×4 frames.",
    params: {
      ...minatarParams('difficulty ramping (no effect in Breakout, as in the original)'),
      bounceNoise: { default: 0, min: 0, max: 1, doc: 'probability that a paddle bounce leaves in the other horizontal direction (not in the original)' },
    },
    levels: [
      {},
      { stickyProb: STICKY_LADDER[1], bounceNoise: 0.05 },
      { stickyProb: STICKY_LADDER[2], bounceNoise: 0.1 },
      { stickyProb: STICKY_LADDER[3], bounceNoise: 0.15 },
      { stickyProb: STICKY_LADDER[4], bounceNoise: 0.2 },
    ],
    ladder: 'stickyProb 0.1 → 0.3 and bounceNoise 0 → 0.2: the same policy misses more often and where a caught ball goes next varies',
    maxEpisodeSteps: () => MINATAR_MAX_EPISODE_STEPS,
    create: (numEnvs, params, maxEpisodeSteps) => new Breakout(numEnvs, params, maxEpisodeSteps),
  }),
);
