/**
 * # Seaquest-MinAtar-v0
 *
 * MinAtar's Seaquest (kenjyoung/MinAtar @4241f24, `seaquest.py`): a submarine shoots enemy fish and subs, rescues
 * divers and must surface for oxygen. Shared machinery (frame, sticky actions, time limit) in `./base.ts`.
 *
 * | channel | meaning                                                               |
 * |---------|-----------------------------------------------------------------------|
 * | 0       | sub_front: the player's submarine, front cell                         |
 * | 1       | sub_back: its back cell (gives the facing)                            |
 * | 2       | friendly bullet                                                       |
 * | 3       | trail: the cell behind each enemy fish, enemy sub and diver           |
 * | 4       | enemy bullet                                                          |
 * | 5       | enemy fish                                                            |
 * | 6       | enemy sub                                                             |
 * | 7       | oxygen gauge: row 9, columns 0..(oxygen·10 // 200 − 1)                |
 * | 8       | diver gauge: row 9, columns 9 − divers..8                             |
 * | 9       | diver                                                                 |
 *
 * Observation `Box(0, 1, [10, 10, 10])`, flattened as `(row * 10 + col) * 10 + channel`.
 *
 * - Actions: `Discrete(6)` → the original's [0 no-op, 1 left, 2 up, 3 right, 4 down, 5 fire]. Fire (cooldown 5)
 *   launches a bullet from the sub's cell along its facing; left/right move and set the facing; up/down move (rows
 *   0..8; row 0 is the surface).
 * - Enemies: every `enemySpawnInterval` steps at first (the first at step `enemySpawnInterval` + 1) a fish, or with
 *   probability ⅓ a sub, enters from the left or right edge (½ each) in a uniform row 1..8, unless an enemy in that row
 *   moves the opposite way. Each moves one cell every move_speed + 1 steps (move_speed 5 at first); subs fire every 11
 *   steps a bullet that moves one cell per step. Divers: one every 30 steps (first at step 31), moving one cell every
 *   6 steps; picked up on contact while fewer than 6 are aboard. All leave the grid at the far edge.
 * - Reward: +1 per enemy hit by a friendly bullet; surfacing with 6 divers: + oxygen·10 // 200 (0..10).
 * - Oxygen: 200 at the start; −1 per step below the surface; the episode ends on the step after it reaches 0.
 * - Surfacing (arriving in row 0 from below): with no divers the episode ends; otherwise oxygen refills, and with 6
 *   divers the count becomes 0 and then −1 (the original's quirk, kept: the next surfacing does not end the episode
 *   even with no divers shown; counts below 0 keep falling by one per surfacing), else one diver is removed. With
 *   `ramping`, each surfacing lowers the enemy spawn interval by 1 (to at least 1) and every second one move_speed by
 *   1 (to at least 2).
 * - Start: sub at column 5 on the surface, facing left; oxygen 200; no divers, enemies or bullets.
 * - Episode end: terminated on contact with an enemy fish, sub or bullet, when oxygen runs out, or when surfacing with
 *   no divers (at the earliest at step 2: down, then up); no time limit of its own, truncated at 10,000 steps (see
 *   `./base.ts`; a sub that idles at the surface never dies).
 * - Entity lists keep the original's order and Python semantics (iteration from the back, removal of the first equal
 *   record), so which of two simultaneous hits counts matches the original.
 * - Params: `stickyProb` (0.1), `ramping` (1), `enemySpawnInterval` (20, the original's constant).
 * - Difficulty ladder: `stickyProb` 0.1 → 0.3 and `enemySpawnInterval` 20 → 12. Denser traffic means more chance
 *   encounters (deaths and kills the policy did not aim for) and sticky actions make the dodges and surfacing less
 *   reliable: the same policy's returns spread more (tr(Σ) up) while what there is to learn stays: B_simple should
 *   rise.
 * - Version history: v0 (MinAtar v1.0.15 rules).
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { GradnoiseError } from '../../src/core/errors.js';
import { ACTIONS, MINATAR_MAX_EPISODE_STEPS, MinAtarEnv, minatarParams, type MinAtarParams, STICKY_LADDER } from './base.js';

const { LEFT, UP, RIGHT, DOWN, FIRE } = ACTIONS;

export interface SeaquestParams extends MinAtarParams {
  enemySpawnInterval: number;
}

const CHANNELS = 10;
const SUB_FRONT = 0;
const SUB_BACK = 1;
const FRIENDLY_BULLET = 2;
const TRAIL = 3;
const ENEMY_BULLET = 4;
const ENEMY_FISH = 5;
const ENEMY_SUB = 6;
const OXYGEN_GAUGE = 7;
const DIVER_GAUGE = 8;
const DIVER = 9;

const MAX_OXYGEN = 200;
const DIVER_SPAWN_SPEED = 30;
const INIT_MOVE_SPEED = 5;
const SHOT_COOL_DOWN = 5;
const ENEMY_SHOT_INTERVAL = 10;
const DIVER_MOVE_INTERVAL = 5;
const MAX_DIVERS = 6;

/** Record fields: column, row, direction (1 = right), move timer, shot timer (subs only). */
const X = 0;
const Y = 1;
const DIR = 2;
const TIMER = 3;
const SHOT = 4;
const BULLET_FIELDS = 3;
const FISH_FIELDS = 4;
const SUB_FIELDS = 5;
const DIVER_FIELDS = 4;

/**
 * List capacities per copy, from the rules: one shot per 5 steps, each alive ≤ 9 steps (≤ 2); one diver per 30 steps,
 * each alive ≤ 60 (≤ 3); one enemy per step at most, each alive ≤ 61 steps (≤ 62 fish + subs); each sub fires once per
 * 11 steps and a bullet lives ≤ 10 steps, from ≤ 72 subs seen in that window.
 */
const FRIENDLY_CAP = 4;
const DIVER_CAP = 8;
const ENEMY_CAP = 64;
const ENEMY_BULLET_CAP = 128;

/** Start of record `j` of copy `i`'s list. */
function recordAt(i: number, cap: number, fields: number, j: number): number {
  return (i * cap + j) * fields;
}

/** Python's `list.remove(list[j])`: removes the first record equal to record j (all fields); returns its position. */
function removeFirstEqual(data: Int32Array, counts: Int32Array, i: number, cap: number, fields: number, j: number): number {
  const target = recordAt(i, cap, fields, j);
  let m = 0;
  for (; m < j; m++) {
    const r = recordAt(i, cap, fields, m);
    let same = true;
    for (let f = 0; f < fields && same; f++) same = data[r + f] === data[target + f];
    if (same) break;
  }
  removeAt(data, counts, i, cap, fields, m);
  return m;
}

/** Remove record m, keeping the order of the rest. */
function removeAt(data: Int32Array, counts: Int32Array, i: number, cap: number, fields: number, m: number): void {
  const end = recordAt(i, cap, fields, counts[i]!);
  const start = recordAt(i, cap, fields, m);
  data.copyWithin(start, start + fields, end);
  counts[i] -= 1;
}

/** Append a record; returns its start. */
function append(counts: Int32Array, i: number, cap: number, fields: number, what: string): number {
  const j = counts[i]!;
  if (j >= cap) throw new GradnoiseError('runtime', `Seaquest-MinAtar-v0: more than ${cap} ${what} (cannot happen under the rules)`);
  counts[i] = j + 1;
  return recordAt(i, cap, fields, j);
}

/** Position of the first record at (x, y), or -1. */
function findAt(data: Int32Array, counts: Int32Array, i: number, cap: number, fields: number, x: number, y: number): number {
  for (let j = 0; j < counts[i]!; j++) {
    const r = recordAt(i, cap, fields, j);
    if (data[r + X] === x && data[r + Y] === y) return j;
  }
  return -1;
}

export class Seaquest extends MinAtarEnv<SeaquestParams> {
  readonly oxygen: Int32Array;
  readonly diverCount: Int32Array;
  readonly subX: Int32Array;
  readonly subY: Int32Array;
  /** Facing: 1 right, 0 left. */
  readonly subRight: Uint8Array;
  readonly enemySpawnSpeed: Int32Array;
  readonly enemySpawnTimer: Int32Array;
  readonly diverSpawnTimer: Int32Array;
  readonly moveSpeed: Int32Array;
  readonly rampIndex: Int32Array;
  readonly shotTimer: Int32Array;
  /** 1 while the sub has been on the surface since its last surfacing (or the start). */
  readonly surface: Uint8Array;
  /** Entity lists: [numEnvs * cap * fields] records in the original's order, with a count per copy. */
  readonly friendlyBullets: Int32Array;
  readonly friendlyCount: Int32Array;
  readonly enemyBullets: Int32Array;
  readonly enemyBulletCount: Int32Array;
  readonly fish: Int32Array;
  readonly fishCount: Int32Array;
  readonly subs: Int32Array;
  readonly subCount: Int32Array;
  readonly divers: Int32Array;
  readonly diverListCount: Int32Array;
  /** Scratch for the step in progress: the sub was hit by an enemy or its bullet. */
  private hit = false;

  constructor(numEnvs: number, params: Readonly<SeaquestParams>, maxEpisodeSteps: number) {
    super('Seaquest-MinAtar-v0', numEnvs, params, maxEpisodeSteps, CHANNELS, [0, LEFT, UP, RIGHT, DOWN, FIRE]);
    const perCopy = () => new Int32Array(numEnvs);
    this.oxygen = perCopy();
    this.diverCount = perCopy();
    this.subX = perCopy();
    this.subY = perCopy();
    this.subRight = new Uint8Array(numEnvs);
    this.enemySpawnSpeed = perCopy();
    this.enemySpawnTimer = perCopy();
    this.diverSpawnTimer = perCopy();
    this.moveSpeed = perCopy();
    this.rampIndex = perCopy();
    this.shotTimer = perCopy();
    this.surface = new Uint8Array(numEnvs);
    this.friendlyBullets = new Int32Array(numEnvs * FRIENDLY_CAP * BULLET_FIELDS);
    this.friendlyCount = perCopy();
    this.enemyBullets = new Int32Array(numEnvs * ENEMY_BULLET_CAP * BULLET_FIELDS);
    this.enemyBulletCount = perCopy();
    this.fish = new Int32Array(numEnvs * ENEMY_CAP * FISH_FIELDS);
    this.fishCount = perCopy();
    this.subs = new Int32Array(numEnvs * ENEMY_CAP * SUB_FIELDS);
    this.subCount = perCopy();
    this.divers = new Int32Array(numEnvs * DIVER_CAP * DIVER_FIELDS);
    this.diverListCount = perCopy();
  }

  protected startGame(i: number): void {
    this.oxygen[i] = MAX_OXYGEN;
    this.diverCount[i] = 0;
    this.subX[i] = 5;
    this.subY[i] = 0;
    this.subRight[i] = 0;
    this.friendlyCount[i] = 0;
    this.enemyBulletCount[i] = 0;
    this.fishCount[i] = 0;
    this.subCount[i] = 0;
    this.diverListCount[i] = 0;
    this.enemySpawnSpeed[i] = this.params.enemySpawnInterval;
    this.enemySpawnTimer[i] = this.params.enemySpawnInterval;
    this.diverSpawnTimer[i] = DIVER_SPAWN_SPEED;
    this.moveSpeed[i] = INIT_MOVE_SPEED;
    this.rampIndex[i] = 0;
    this.shotTimer[i] = 0;
    this.surface[i] = 1;
  }

  protected act(i: number, action: number): number {
    if (this.enemySpawnTimer[i] === 0) {
      this.spawnEnemy(i);
      this.enemySpawnTimer[i] = this.enemySpawnSpeed[i]!;
    }
    if (this.diverSpawnTimer[i] === 0) {
      this.spawnDiver(i);
      this.diverSpawnTimer[i] = DIVER_SPAWN_SPEED;
    }
    if (action === FIRE && this.shotTimer[i] === 0) {
      const b = append(this.friendlyCount, i, FRIENDLY_CAP, BULLET_FIELDS, 'friendly bullets');
      this.friendlyBullets[b + X] = this.subX[i]!;
      this.friendlyBullets[b + Y] = this.subY[i]!;
      this.friendlyBullets[b + DIR] = this.subRight[i]!;
      this.shotTimer[i] = SHOT_COOL_DOWN;
    } else if (action === LEFT) {
      this.subX[i] = Math.max(0, this.subX[i]! - 1);
      this.subRight[i] = 0;
    } else if (action === RIGHT) {
      this.subX[i] = Math.min(9, this.subX[i]! + 1);
      this.subRight[i] = 1;
    } else if (action === UP) {
      this.subY[i] = Math.max(0, this.subY[i]! - 1);
    } else if (action === DOWN) {
      this.subY[i] = Math.min(8, this.subY[i]! + 1);
    }

    this.hit = false;
    let reward = this.moveFriendlyBullets(i);
    this.moveDivers(i);
    reward += this.moveSubs(i);
    this.moveEnemyBullets(i);
    reward += this.moveFish(i);
    let terminal = this.hit;

    if (this.enemySpawnTimer[i]! > 0) this.enemySpawnTimer[i] -= 1;
    if (this.diverSpawnTimer[i]! > 0) this.diverSpawnTimer[i] -= 1;
    if (this.shotTimer[i]! > 0) this.shotTimer[i] -= 1;
    if (this.oxygen[i]! <= 0) terminal = true;
    if (this.subY[i]! > 0) {
      this.oxygen[i] -= 1;
      this.surface[i] = 0;
    } else if (this.surface[i] === 0) {
      if (this.diverCount[i] === 0) terminal = true;
      else reward += this.surfaceSub(i);
    }
    if (terminal) this.terminated[i] = 1;
    return reward;
  }

  /** Friendly bullets move along their direction and hit the first fish, else the first sub, on their new cell. */
  private moveFriendlyBullets(i: number): number {
    const data = this.friendlyBullets;
    const counts = this.friendlyCount;
    let kills = 0;
    for (let j = counts[i]! - 1; j >= 0; j--) {
      const b = recordAt(i, FRIENDLY_CAP, BULLET_FIELDS, j);
      const x = data[b + X]! + (data[b + DIR] === 1 ? 1 : -1);
      data[b + X] = x;
      if (x < 0 || x > 9) {
        removeFirstEqual(data, counts, i, FRIENDLY_CAP, BULLET_FIELDS, j);
        continue;
      }
      const y = data[b + Y]!;
      const fish = findAt(this.fish, this.fishCount, i, ENEMY_CAP, FISH_FIELDS, x, y);
      if (fish >= 0) {
        removeAt(this.fish, this.fishCount, i, ENEMY_CAP, FISH_FIELDS, fish);
      } else {
        const sub = findAt(this.subs, this.subCount, i, ENEMY_CAP, SUB_FIELDS, x, y);
        if (sub < 0) continue;
        removeAt(this.subs, this.subCount, i, ENEMY_CAP, SUB_FIELDS, sub);
      }
      removeFirstEqual(data, counts, i, FRIENDLY_CAP, BULLET_FIELDS, j);
      kills += 1;
    }
    return kills;
  }

  private moveDivers(i: number): void {
    const data = this.divers;
    const counts = this.diverListCount;
    const sx = this.subX[i]!;
    const sy = this.subY[i]!;
    for (let j = counts[i]! - 1; j >= 0; j--) {
      const d = recordAt(i, DIVER_CAP, DIVER_FIELDS, j);
      if (data[d + X] === sx && data[d + Y] === sy && this.diverCount[i]! < MAX_DIVERS) {
        removeFirstEqual(data, counts, i, DIVER_CAP, DIVER_FIELDS, j);
        this.diverCount[i] += 1;
      } else if (data[d + TIMER] === 0) {
        data[d + TIMER] = DIVER_MOVE_INTERVAL;
        const x = data[d + X]! + (data[d + DIR] === 1 ? 1 : -1);
        data[d + X] = x;
        if (x < 0 || x > 9) {
          removeFirstEqual(data, counts, i, DIVER_CAP, DIVER_FIELDS, j);
        } else if (x === sx && data[d + Y] === sy && this.diverCount[i]! < MAX_DIVERS) {
          removeFirstEqual(data, counts, i, DIVER_CAP, DIVER_FIELDS, j);
          this.diverCount[i] += 1;
        }
      } else {
        data[d + TIMER] -= 1;
      }
    }
  }

  /**
   * Enemy subs: contact before and after the move ends the episode; a sub moving onto a friendly bullet is destroyed
   * with it (+1). Every sub's shot timer runs on even in the step it is removed (the original fires from a sub it has
   * just dropped from the list: such a bullet starts off the grid or where the sub died).
   */
  private moveSubs(i: number): number {
    const data = this.subs;
    const counts = this.subCount;
    const sx = this.subX[i]!;
    const sy = this.subY[i]!;
    let kills = 0;
    for (let j = counts[i]! - 1; j >= 0; j--) {
      const s = recordAt(i, ENEMY_CAP, SUB_FIELDS, j);
      let x = data[s + X]!;
      const y = data[s + Y]!;
      const right = data[s + DIR]!;
      let shot = data[s + SHOT]!;
      /** Where this sub's record now is, or -1 once removed. */
      let current = j;
      if (x === sx && y === sy) this.hit = true;
      if (data[s + TIMER] === 0) {
        data[s + TIMER] = this.moveSpeed[i]!;
        x += right === 1 ? 1 : -1;
        data[s + X] = x;
        if (x < 0 || x > 9) {
          current = this.removeSub(i, j);
        } else if (x === sx && y === sy) {
          this.hit = true;
        } else {
          const bullet = findAt(this.friendlyBullets, this.friendlyCount, i, FRIENDLY_CAP, BULLET_FIELDS, x, y);
          if (bullet >= 0) {
            current = this.removeSub(i, j);
            removeAt(this.friendlyBullets, this.friendlyCount, i, FRIENDLY_CAP, BULLET_FIELDS, bullet);
            kills += 1;
          }
        }
      } else {
        data[s + TIMER] -= 1;
      }
      if (shot === 0) {
        shot = ENEMY_SHOT_INTERVAL;
        const b = append(this.enemyBulletCount, i, ENEMY_BULLET_CAP, BULLET_FIELDS, 'enemy bullets');
        this.enemyBullets[b + X] = x;
        this.enemyBullets[b + Y] = y;
        this.enemyBullets[b + DIR] = right;
      } else {
        shot -= 1;
      }
      if (current >= 0) data[recordAt(i, ENEMY_CAP, SUB_FIELDS, current) + SHOT] = shot;
    }
    return kills;
  }

  /** Remove the sub iterated at j; returns where that sub's record now is (-1: it was the one removed). */
  private removeSub(i: number, j: number): number {
    const removed = removeFirstEqual(this.subs, this.subCount, i, ENEMY_CAP, SUB_FIELDS, j);
    return removed === j ? -1 : j - 1;
  }

  private moveEnemyBullets(i: number): void {
    const data = this.enemyBullets;
    const counts = this.enemyBulletCount;
    const sx = this.subX[i]!;
    const sy = this.subY[i]!;
    for (let j = counts[i]! - 1; j >= 0; j--) {
      const b = recordAt(i, ENEMY_BULLET_CAP, BULLET_FIELDS, j);
      const y = data[b + Y]!;
      if (data[b + X] === sx && y === sy) this.hit = true;
      const x = data[b + X]! + (data[b + DIR] === 1 ? 1 : -1);
      data[b + X] = x;
      if (x < 0 || x > 9) removeFirstEqual(data, counts, i, ENEMY_BULLET_CAP, BULLET_FIELDS, j);
      else if (x === sx && y === sy) this.hit = true;
    }
  }

  private moveFish(i: number): number {
    const data = this.fish;
    const counts = this.fishCount;
    const sx = this.subX[i]!;
    const sy = this.subY[i]!;
    let kills = 0;
    for (let j = counts[i]! - 1; j >= 0; j--) {
      const f = recordAt(i, ENEMY_CAP, FISH_FIELDS, j);
      const y = data[f + Y]!;
      if (data[f + X] === sx && y === sy) this.hit = true;
      if (data[f + TIMER] !== 0) {
        data[f + TIMER] -= 1;
        continue;
      }
      data[f + TIMER] = this.moveSpeed[i]!;
      const x = data[f + X]! + (data[f + DIR] === 1 ? 1 : -1);
      data[f + X] = x;
      if (x < 0 || x > 9) {
        removeFirstEqual(data, counts, i, ENEMY_CAP, FISH_FIELDS, j);
      } else if (x === sx && y === sy) {
        this.hit = true;
      } else {
        const bullet = findAt(this.friendlyBullets, this.friendlyCount, i, FRIENDLY_CAP, BULLET_FIELDS, x, y);
        if (bullet >= 0) {
          removeFirstEqual(data, counts, i, ENEMY_CAP, FISH_FIELDS, j);
          removeAt(this.friendlyBullets, this.friendlyCount, i, FRIENDLY_CAP, BULLET_FIELDS, bullet);
          kills += 1;
        }
      }
    }
    return kills;
  }

  /** The sub arrives at the surface with at least one diver (or a count below 0, the original's quirk). */
  private surfaceSub(i: number): number {
    this.surface[i] = 1;
    let reward = 0;
    if (this.diverCount[i] === MAX_DIVERS) {
      this.diverCount[i] = 0;
      reward = Math.floor((this.oxygen[i]! * 10) / MAX_OXYGEN);
    }
    this.oxygen[i] = MAX_OXYGEN;
    this.diverCount[i] -= 1;
    if (this.params.ramping === 1 && (this.enemySpawnSpeed[i]! > 1 || this.moveSpeed[i]! > 2)) {
      if (this.moveSpeed[i]! > 2 && this.rampIndex[i]! % 2 === 1) this.moveSpeed[i] -= 1;
      if (this.enemySpawnSpeed[i]! > 1) this.enemySpawnSpeed[i] -= 1;
      this.rampIndex[i] += 1;
    }
    return reward;
  }

  private spawnEnemy(i: number): void {
    const right = this.rng.uniform() < 1 / 2 ? 1 : 0;
    const isSub = this.rng.uniform() < 1 / 3;
    const x = right === 1 ? 0 : 9;
    const y = 1 + this.rng.int(8);
    if (this.opposingInRow(this.subs, this.subCount[i]!, i, SUB_FIELDS, y, right)) return;
    if (this.opposingInRow(this.fish, this.fishCount[i]!, i, FISH_FIELDS, y, right)) return;
    const speed = this.moveSpeed[i]!;
    if (isSub) {
      const s = append(this.subCount, i, ENEMY_CAP, SUB_FIELDS, 'enemy subs');
      this.subs.set([x, y, right, speed, ENEMY_SHOT_INTERVAL], s);
    } else {
      const f = append(this.fishCount, i, ENEMY_CAP, FISH_FIELDS, 'enemy fish');
      this.fish.set([x, y, right, speed], f);
    }
  }

  private opposingInRow(data: Int32Array, count: number, i: number, fields: number, y: number, right: number): boolean {
    for (let j = 0; j < count; j++) {
      const r = recordAt(i, ENEMY_CAP, fields, j);
      if (data[r + Y] === y && data[r + DIR] !== right) return true;
    }
    return false;
  }

  private spawnDiver(i: number): void {
    const right = this.rng.uniform() < 1 / 2 ? 1 : 0;
    const y = 1 + this.rng.int(8);
    const d = append(this.diverListCount, i, DIVER_CAP, DIVER_FIELDS, 'divers');
    this.divers.set([right === 1 ? 0 : 9, y, right, DIVER_MOVE_INTERVAL], d);
  }

  protected draw(i: number, obs: Float32Array, offset: number): void {
    const sx = this.subX[i]!;
    const sy = this.subY[i]!;
    this.mark(obs, offset, sy, sx, SUB_FRONT);
    // Facing right at column 0 (or left at 9) cannot happen: only moving sets the facing.
    this.mark(obs, offset, sy, this.subRight[i] === 1 ? sx - 1 : sx + 1, SUB_BACK);
    const oxygenCells = Math.floor((Math.max(0, this.oxygen[i]!) * 10) / MAX_OXYGEN);
    for (let col = 0; col < oxygenCells; col++) this.mark(obs, offset, 9, col, OXYGEN_GAUGE);
    for (let col = 9 - this.diverCount[i]!; col < 9; col++) this.mark(obs, offset, 9, col, DIVER_GAUGE);
    this.drawList(obs, offset, this.friendlyBullets, this.friendlyCount[i]!, i, FRIENDLY_CAP, BULLET_FIELDS, FRIENDLY_BULLET, false);
    this.drawList(obs, offset, this.enemyBullets, this.enemyBulletCount[i]!, i, ENEMY_BULLET_CAP, BULLET_FIELDS, ENEMY_BULLET, false);
    this.drawList(obs, offset, this.fish, this.fishCount[i]!, i, ENEMY_CAP, FISH_FIELDS, ENEMY_FISH, true);
    this.drawList(obs, offset, this.subs, this.subCount[i]!, i, ENEMY_CAP, SUB_FIELDS, ENEMY_SUB, true);
    this.drawList(obs, offset, this.divers, this.diverListCount[i]!, i, DIVER_CAP, DIVER_FIELDS, DIVER, true);
  }

  private drawList(obs: Float32Array, offset: number, data: Int32Array, count: number, i: number, cap: number, fields: number, channel: number, trail: boolean): void {
    for (let j = 0; j < count; j++) {
      const r = recordAt(i, cap, fields, j);
      const x = data[r + X]!;
      const y = data[r + Y]!;
      this.mark(obs, offset, y, x, channel);
      if (!trail) continue;
      const back = data[r + DIR] === 1 ? x - 1 : x + 1;
      if (back >= 0 && back <= 9) this.mark(obs, offset, y, back, TRAIL);
    }
  }
}

export const seaquest = ladderKeptFromV1(
  defineEnv<SeaquestParams>({
    id: 'Seaquest-MinAtar-v0',
    summary: "MinAtar's Seaquest: shoot fish and subs (+1), rescue divers, surface for oxygen; 10×10×10 frames.",
    params: {
      ...minatarParams('difficulty ramping: enemies spawn and move faster after each surfacing (1 = on, as in the original)'),
      enemySpawnInterval: { default: 20, min: 1, max: 1000, integer: true, doc: 'initial steps between enemy spawns (the original: 20)' },
    },
    levels: [
      {},
      { stickyProb: STICKY_LADDER[1], enemySpawnInterval: 18 },
      { stickyProb: STICKY_LADDER[2], enemySpawnInterval: 16 },
      { stickyProb: STICKY_LADDER[3], enemySpawnInterval: 14 },
      { stickyProb: STICKY_LADDER[4], enemySpawnInterval: 12 },
    ],
    ladder: 'stickyProb 0.1 → 0.3 and enemySpawnInterval 20 → 12: denser traffic, more chance encounters, less reliable dodges and surfacing',
    maxEpisodeSteps: () => MINATAR_MAX_EPISODE_STEPS,
    create: (numEnvs, params, maxEpisodeSteps) => new Seaquest(numEnvs, params, maxEpisodeSteps),
  }),
);
