/**
 * # Freeway-MinAtar-v0
 *
 * MinAtar's Freeway (kenjyoung/MinAtar @4241f24, `freeway.py`): lead a chicken from the bottom to the top across
 * eight lanes of traffic, as often as possible in 2,500 frames. Shared machinery (frame, sticky actions) in
 * `./base.ts`.
 *
 * | channel | meaning                                                                   |
 * |---------|---------------------------------------------------------------------------|
 * | 0       | chicken (always in column 4)                                              |
 * | 1       | car                                                                       |
 * | 2–6     | speed1..speed5: the cell behind each car (its direction), in the channel of its speed class |
 *
 * Observation `Box(0, 1, [10, 10, 7])`, flattened as `(row * 10 + col) * 7 + channel`.
 *
 * - Actions: `Discrete(3)` → the original's [0 no-op, 2 up, 4 down]. The chicken moves one row only when its
 *   cooldown is 0, which then becomes 3 (so the first move can happen at step 4, then every 3rd step at most).
 * - Cars: one per row 1..8; a car of speed class k moves one cell every k + 1 steps in its direction, wrapping around
 *   the edges. A car on the chicken's cell (before or after its move) sends the chicken back to row 9; no penalty.
 * - Reward: +1 each time the chicken reaches row 0; it is put back in row 9 and every car gets a new speed class and
 *   direction (positions kept).
 * - Start: chicken in row 9; all cars in column 0, speed class uniform in 1..`slowestCar`, direction ±1 with
 *   probability ½ each.
 * - Episode end: the 2,500-frame timer: terminated at step 2,501, every episode (the original reports it as terminal,
 *   and so do we; the timer is not in the frame). `maxEpisodeSteps` is 2,501 too, so the timer, not a truncation,
 *   ends the episode. `ramping` is accepted and has no effect, as in the original.
 * - Params: `stickyProb` (0.1), `ramping` (no effect), `slowestCar` (5, the original: speed classes 1..5).
 * - Difficulty ladder: `stickyProb` 0.1 → 0.3 and `slowestCar` 5, 5, 4, 4, 3 (the slow cars drop out, traffic gets
 *   faster on average, the channels stay). With faster cars and more repeated actions a crossing is cut short by a
 *   hit more often and at less predictable moments, so the number of crossings of the same policy varies more (tr(Σ)
 *   up), while the signal, "go up when the lane ahead is clear", is unchanged: B_simple should rise.
 * - Version history: v0 (MinAtar v1.0.15 rules).
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { ACTIONS, MinAtarEnv, minatarParams, type MinAtarParams, STICKY_LADDER } from './base.js';

const { UP, DOWN } = ACTIONS;

export interface FreewayParams extends MinAtarParams {
  slowestCar: number;
}

const CHANNELS = 7;
const CHICKEN = 0;
const CAR = 1;
const SPEED1 = 2;
const CARS = 8;
const PLAYER_SPEED = 3;
export const FREEWAY_TIME_LIMIT = 2500;
const CHICKEN_COLUMN = 4;

export class Freeway extends MinAtarEnv<FreewayParams> {
  /** The chicken's row. */
  readonly pos: Int32Array;
  readonly moveTimer: Int32Array;
  readonly terminateTimer: Int32Array;
  /** [numEnvs * 8] car in row k + 1: column, steps until its next move, signed speed class (sign = direction). */
  readonly carX: Int32Array;
  readonly carTimer: Int32Array;
  readonly carSpeed: Int32Array;

  constructor(numEnvs: number, params: Readonly<FreewayParams>, maxEpisodeSteps: number) {
    super('Freeway-MinAtar-v0', numEnvs, params, maxEpisodeSteps, CHANNELS, [0, UP, DOWN]);
    this.pos = new Int32Array(numEnvs);
    this.moveTimer = new Int32Array(numEnvs);
    this.terminateTimer = new Int32Array(numEnvs);
    this.carX = new Int32Array(numEnvs * CARS);
    this.carTimer = new Int32Array(numEnvs * CARS);
    this.carSpeed = new Int32Array(numEnvs * CARS);
  }

  protected startGame(i: number): void {
    this.carX.fill(0, i * CARS, (i + 1) * CARS);
    this.randomizeCars(i);
    this.pos[i] = 9;
    this.moveTimer[i] = PLAYER_SPEED;
    this.terminateTimer[i] = FREEWAY_TIME_LIMIT;
  }

  /** New speed classes for all eight cars, then new directions (the original's draw order). */
  private randomizeCars(i: number): void {
    const base = i * CARS;
    const classes = this.params.slowestCar;
    for (let k = base; k < base + CARS; k++) this.carSpeed[k] = 1 + this.rng.int(classes);
    for (let k = base; k < base + CARS; k++) {
      if (this.rng.uniform() < 0.5) this.carSpeed[k] = -this.carSpeed[k]!;
      this.carTimer[k] = Math.abs(this.carSpeed[k]!);
    }
  }

  protected act(i: number, action: number): number {
    let reward = 0;
    let pos = this.pos[i]!;
    if (this.moveTimer[i] === 0 && (action === UP || action === DOWN)) {
      this.moveTimer[i] = PLAYER_SPEED;
      pos = action === UP ? Math.max(0, pos - 1) : Math.min(9, pos + 1);
    }
    if (pos === 0) {
      reward += 1;
      this.randomizeCars(i);
      pos = 9;
    }
    const base = i * CARS;
    for (let car = 0; car < CARS; car++) {
      const k = base + car;
      const row = car + 1;
      if (this.carX[k] === CHICKEN_COLUMN && row === pos) pos = 9;
      if (this.carTimer[k] === 0) {
        const speed = this.carSpeed[k]!;
        this.carTimer[k] = Math.abs(speed);
        let x = this.carX[k]! + (speed > 0 ? 1 : -1);
        if (x < 0) x = 9;
        else if (x > 9) x = 0;
        this.carX[k] = x;
        if (x === CHICKEN_COLUMN && row === pos) pos = 9;
      } else {
        this.carTimer[k] -= 1;
      }
    }
    this.pos[i] = pos;
    if (this.moveTimer[i]! > 0) this.moveTimer[i] -= 1;
    this.terminateTimer[i] -= 1;
    if (this.terminateTimer[i]! < 0) this.terminated[i] = 1;
    return reward;
  }

  protected draw(i: number, obs: Float32Array, offset: number): void {
    this.mark(obs, offset, this.pos[i]!, CHICKEN_COLUMN, CHICKEN);
    const base = i * CARS;
    for (let car = 0; car < CARS; car++) {
      const k = base + car;
      const x = this.carX[k]!;
      const speed = this.carSpeed[k]!;
      this.mark(obs, offset, car + 1, x, CAR);
      let back = speed > 0 ? x - 1 : x + 1;
      if (back < 0) back = 9;
      else if (back > 9) back = 0;
      this.mark(obs, offset, car + 1, back, SPEED1 + Math.abs(speed) - 1);
    }
  }
}

export const freeway = ladderKeptFromV1(
  defineEnv<FreewayParams>({
    id: 'Freeway-MinAtar-v0',
    summary: "MinAtar's Freeway: cross eight lanes of traffic (+1 per crossing) within 2,500 frames; 10×10×7 frames.",
    params: {
      ...minatarParams('difficulty ramping (no effect in Freeway, as in the original)'),
      slowestCar: { default: 5, min: 1, max: 5, integer: true, doc: 'car speed classes are drawn from 1..slowestCar (class k moves every k + 1 steps; the original: 5)' },
    },
    levels: [
      {},
      { stickyProb: STICKY_LADDER[1] },
      { stickyProb: STICKY_LADDER[2], slowestCar: 4 },
      { stickyProb: STICKY_LADDER[3], slowestCar: 4 },
      { stickyProb: STICKY_LADDER[4], slowestCar: 3 },
    ],
    ladder: 'stickyProb 0.1 → 0.3 and slowestCar 5 → 3: faster traffic and more repeated actions cut crossings short at less predictable moments',
    // The timer's own end: at step 2,501 the episode terminates, which takes precedence over truncation.
    maxEpisodeSteps: () => FREEWAY_TIME_LIMIT + 1,
    create: (numEnvs, params, maxEpisodeSteps) => new Freeway(numEnvs, params, maxEpisodeSteps),
  }),
);
