/**
 * # Asterix-MinAtar-v0
 *
 * MinAtar's Asterix (kenjyoung/MinAtar @4241f24, `asterix.py`): move in four directions, pick up gold and avoid the
 * enemies that cross the screen from the sides. Shared machinery (frame, sticky actions, time limit) in `./base.ts`.
 *
 * | channel | meaning                                                  |
 * |---------|----------------------------------------------------------|
 * | 0       | player                                                   |
 * | 1       | enemy                                                    |
 * | 2       | trail: the cell behind each enemy or gold (its direction) |
 * | 3       | gold                                                     |
 *
 * Observation `Box(0, 1, [10, 10, 4])`, flattened as `(row * 10 + col) * 4 + channel`.
 *
 * - Actions: `Discrete(5)` → the original's [0 no-op, 1 left, 2 up, 3 right, 4 down]; the player stays in columns
 *   0..9 and rows 1..8.
 * - Entities: eight slots, one per row 1..8. Every `spawn_speed` steps (first at step 11) one spawns into a
 *   uniformly chosen free row (none if all are taken): from the left or right edge with probability ½ each, gold with
 *   probability ⅓, else an enemy. Every `move_speed` steps (first at step 6) all move one cell sideways; those that
 *   leave the grid are gone. Contact is checked before and after that move: gold gives +1 and disappears, an enemy
 *   ends the episode.
 * - Ramping (`ramping` = 1): every `rampInterval + 2` steps (102 by default: the original's timer counts down through
 *   −1) `spawn_speed` drops by 1 (from 10, to at least 1) and, on every second ramp, `move_speed` drops by 1 (from 5, to
 *   at least 1), until both are 1.
 * - Reward: +1 per gold.
 * - Start: player at column 5, row 5; no entities; spawn_speed 10, move_speed 5.
 * - Episode end: terminated on contact with an enemy (at the earliest at step 11); no time limit of its own, truncated
 *   at 10,000 steps (see `./base.ts`).
 * - Params: `stickyProb` (0.1), `ramping` (1), `rampInterval` (100, the original's constant).
 * - Difficulty ladder: `stickyProb` 0.1 → 0.3 and `rampInterval` 100 → 40. Sticky actions make the dodge come late
 *   more often; faster ramping brings the fast, dense traffic (where a late dodge is fatal) earlier in the episode.
 *   Both make episode lengths and gold counts of the same policy spread more (tr(Σ) up) while what there is to learn,
 *   "step out of an enemy's row, into gold's", stays the same: B_simple should rise.
 * - Version history: v0 (MinAtar v1.0.15 rules).
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { ACTIONS, MINATAR_MAX_EPISODE_STEPS, MinAtarEnv, minatarParams, type MinAtarParams, STICKY_LADDER } from './base.js';

const { LEFT, UP, RIGHT, DOWN } = ACTIONS;

export interface AsterixParams extends MinAtarParams {
  rampInterval: number;
}

const CHANNELS = 4;
const PLAYER = 0;
const ENEMY = 1;
const TRAIL = 2;
const GOLD = 3;
const SLOTS = 8;
const INIT_SPAWN_SPEED = 10;
const INIT_MOVE_SPEED = 5;

export class Asterix extends MinAtarEnv<AsterixParams> {
  readonly playerX: Int32Array;
  readonly playerY: Int32Array;
  readonly spawnSpeed: Int32Array;
  readonly spawnTimer: Int32Array;
  readonly moveSpeed: Int32Array;
  readonly moveTimer: Int32Array;
  readonly rampTimer: Int32Array;
  readonly rampIndex: Int32Array;
  /** [numEnvs * 8] per row slot (row = slot + 1): 1 while an entity is there. */
  readonly entityAlive: Uint8Array;
  readonly entityX: Int32Array;
  /** 1 = moving right (spawned at column 0). */
  readonly entityRight: Uint8Array;
  readonly entityGold: Uint8Array;
  private readonly freeSlots = new Int32Array(SLOTS);

  constructor(numEnvs: number, params: Readonly<AsterixParams>, maxEpisodeSteps: number) {
    super('Asterix-MinAtar-v0', numEnvs, params, maxEpisodeSteps, CHANNELS, [0, LEFT, UP, RIGHT, DOWN]);
    this.playerX = new Int32Array(numEnvs);
    this.playerY = new Int32Array(numEnvs);
    this.spawnSpeed = new Int32Array(numEnvs);
    this.spawnTimer = new Int32Array(numEnvs);
    this.moveSpeed = new Int32Array(numEnvs);
    this.moveTimer = new Int32Array(numEnvs);
    this.rampTimer = new Int32Array(numEnvs);
    this.rampIndex = new Int32Array(numEnvs);
    this.entityAlive = new Uint8Array(numEnvs * SLOTS);
    this.entityX = new Int32Array(numEnvs * SLOTS);
    this.entityRight = new Uint8Array(numEnvs * SLOTS);
    this.entityGold = new Uint8Array(numEnvs * SLOTS);
  }

  protected startGame(i: number): void {
    this.playerX[i] = 5;
    this.playerY[i] = 5;
    this.entityAlive.fill(0, i * SLOTS, (i + 1) * SLOTS);
    this.spawnSpeed[i] = INIT_SPAWN_SPEED;
    this.spawnTimer[i] = INIT_SPAWN_SPEED;
    this.moveSpeed[i] = INIT_MOVE_SPEED;
    this.moveTimer[i] = INIT_MOVE_SPEED;
    this.rampTimer[i] = this.params.rampInterval;
    this.rampIndex[i] = 0;
  }

  protected act(i: number, action: number): number {
    let reward = 0;
    if (this.spawnTimer[i] === 0) {
      this.spawn(i);
      this.spawnTimer[i] = this.spawnSpeed[i]!;
    }
    let px = this.playerX[i]!;
    let py = this.playerY[i]!;
    if (action === LEFT) px = Math.max(0, px - 1);
    else if (action === RIGHT) px = Math.min(9, px + 1);
    else if (action === UP) py = Math.max(1, py - 1);
    else if (action === DOWN) py = Math.min(8, py + 1);
    this.playerX[i] = px;
    this.playerY[i] = py;

    const alive = this.entityAlive;
    const xs = this.entityX;
    const base = i * SLOTS;
    // The player's row holds at most one entity: slot py - 1.
    const mine = base + py - 1;
    if (alive[mine] === 1 && xs[mine] === px) reward += this.touch(i, mine);
    if (this.moveTimer[i] === 0) {
      this.moveTimer[i] = this.moveSpeed[i]!;
      for (let k = base; k < base + SLOTS; k++) {
        if (alive[k] !== 1) continue;
        const x = xs[k]! + (this.entityRight[k] === 1 ? 1 : -1);
        xs[k] = x;
        if (x < 0 || x > 9) alive[k] = 0;
        else if (k === mine && x === px) reward += this.touch(i, k);
      }
    }
    this.spawnTimer[i] -= 1;
    this.moveTimer[i] -= 1;

    if (this.params.ramping === 1 && (this.spawnSpeed[i]! > 1 || this.moveSpeed[i]! > 1)) {
      if (this.rampTimer[i]! >= 0) {
        this.rampTimer[i] -= 1;
      } else {
        if (this.moveSpeed[i]! > 1 && this.rampIndex[i]! % 2 === 1) this.moveSpeed[i] -= 1;
        if (this.spawnSpeed[i]! > 1) this.spawnSpeed[i] -= 1;
        this.rampIndex[i] += 1;
        this.rampTimer[i] = this.params.rampInterval;
      }
    }
    return reward;
  }

  /** The player meets the entity in slot `k`: gold is collected (+1), an enemy ends the episode (and stays). */
  private touch(i: number, k: number): number {
    if (this.entityGold[k] === 1) {
      this.entityAlive[k] = 0;
      return 1;
    }
    this.terminated[i] = 1;
    return 0;
  }

  private spawn(i: number): void {
    const right = this.rng.uniform() < 1 / 2;
    const isGold = this.rng.uniform() < 1 / 3;
    const base = i * SLOTS;
    let free = 0;
    for (let slot = 0; slot < SLOTS; slot++) if (this.entityAlive[base + slot] === 0) this.freeSlots[free++] = slot;
    if (free === 0) return;
    const k = base + this.freeSlots[this.rng.int(free)]!;
    this.entityAlive[k] = 1;
    this.entityX[k] = right ? 0 : 9;
    this.entityRight[k] = right ? 1 : 0;
    this.entityGold[k] = isGold ? 1 : 0;
  }

  protected draw(i: number, obs: Float32Array, offset: number): void {
    this.mark(obs, offset, this.playerY[i]!, this.playerX[i]!, PLAYER);
    const base = i * SLOTS;
    for (let slot = 0; slot < SLOTS; slot++) {
      const k = base + slot;
      if (this.entityAlive[k] !== 1) continue;
      const x = this.entityX[k]!;
      this.mark(obs, offset, slot + 1, x, this.entityGold[k] === 1 ? GOLD : ENEMY);
      const back = this.entityRight[k] === 1 ? x - 1 : x + 1;
      if (back >= 0 && back <= 9) this.mark(obs, offset, slot + 1, back, TRAIL);
    }
  }
}

export const asterix = ladderKeptFromV1(
  defineEnv<AsterixParams>({
    id: 'Asterix-MinAtar-v0',
    summary: "MinAtar's Asterix: collect gold (+1) and dodge enemies crossing from the sides, faster over time; 10×10×4 frames.",
    params: {
      ...minatarParams('difficulty ramping: entities spawn and move faster over time (1 = on, as in the original)'),
      rampInterval: { default: 100, min: 0, max: 100_000, integer: true, doc: 'ramp timer reset value: a ramp every rampInterval + 2 steps (the original: 100)' },
    },
    levels: [
      {},
      { stickyProb: STICKY_LADDER[1], rampInterval: 85 },
      { stickyProb: STICKY_LADDER[2], rampInterval: 70 },
      { stickyProb: STICKY_LADDER[3], rampInterval: 55 },
      { stickyProb: STICKY_LADDER[4], rampInterval: 40 },
    ],
    ladder: 'stickyProb 0.1 → 0.3 and rampInterval 100 → 40: late dodges more often, and the fast dense traffic arrives sooner',
    maxEpisodeSteps: () => MINATAR_MAX_EPISODE_STEPS,
    create: (numEnvs, params, maxEpisodeSteps) => new Asterix(numEnvs, params, maxEpisodeSteps),
  }),
);
