/**
 * # SpaceInvaders-MinAtar-v0
 *
 * MinAtar's Space Invaders (kenjyoung/MinAtar @4241f24, `space_invaders.py`): shoot down a block of aliens that
 * marches sideways and down while it fires back. Shared machinery (frame, sticky actions, time limit) in `./base.ts`.
 *
 * | channel | meaning                                                              |
 * |---------|----------------------------------------------------------------------|
 * | 0       | cannon (always in row 9)                                             |
 * | 1       | alien                                                                |
 * | 2       | alien_left: the alien map while the block moves left, else empty     |
 * | 3       | alien_right: the alien map while the block moves right, else empty   |
 * | 4       | friendly bullet                                                      |
 * | 5       | enemy bullet                                                         |
 *
 * Observation `Box(0, 1, [10, 10, 6])`, flattened as `(row * 10 + col) * 6 + channel`.
 *
 * - Actions: `Discrete(4)` → the original's [0 no-op, 1 left, 3 right, 5 fire]. Fire (when the cooldown is 0) puts a
 *   bullet at the cannon's cell and sets the cooldown to 5; left/right move the cannon one column.
 * - Per step: friendly bullets move up a row and enemy bullets down a row (leaving the grid at the edge); an enemy
 *   bullet or an alien on the cannon's cell ends the episode. The alien block moves every `min(#aliens, interval)`
 *   steps (interval 12 at first; the first move at step 13): one column sideways, or, when it touches the edge in its
 *   direction, it reverses and drops a row (ending the episode if an alien was already in row 9). Every
 *   `enemyShotInterval` steps (first at step 11) the lowest alien of the column nearest the cannon (ties: the left
 *   column) fires. An alien on a cell with a friendly bullet is destroyed with it: +1.
 * - Waves: when every alien is gone a new 24-alien block appears in rows 0–3, columns 2–7; with `ramping` the
 *   interval drops by 1 per wave (to at least 6).
 * - Reward: +1 per alien.
 * - Start: cannon at column 5; aliens in rows 0–3, columns 2–7, moving left.
 * - Episode end: terminated as above (at the earliest at step 17, the first enemy bullet reaching row 9); no time
 *   limit of its own, truncated at 10,000 steps (see `./base.ts`). The game has no randomness besides sticky actions.
 * - Params: `stickyProb` (0.1), `ramping` (1), `enemyShotInterval` (10, the original's constant).
 * - Difficulty ladder: `stickyProb` 0.1 → 0.3 and `enemyShotInterval` 10 → 6. The game is deterministic given the
 *   executed actions, so its transition noise is the sticky action alone; more of it, and more bullets to dodge
 *   (where one repeated move is fatal), make the same policy's survival time and score spread more (tr(Σ) up) with
 *   the same thing to learn: B_simple should rise.
 * - Version history: v0 (MinAtar v1.0.15 rules).
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { ACTIONS, GRID as GRID_SIDE, MINATAR_MAX_EPISODE_STEPS, MinAtarEnv, minatarParams, type MinAtarParams, STICKY_LADDER } from './base.js';

const { LEFT, RIGHT, FIRE } = ACTIONS;
const GRID = GRID_SIDE; // a module constant, not the import (see ACTIONS in ./base.ts)

export interface SpaceInvadersParams extends MinAtarParams {
  enemyShotInterval: number;
}

const CHANNELS = 6;
const CANNON = 0;
const ALIEN = 1;
const ALIEN_LEFT = 2;
const ALIEN_RIGHT = 3;
const FRIENDLY_BULLET = 4;
const ENEMY_BULLET = 5;
const CELLS = GRID * GRID;
const SHOT_COOL_DOWN = 5;
const ENEMY_MOVE_INTERVAL = 12;
const MIN_MOVE_INTERVAL = 6;

export class SpaceInvaders extends MinAtarEnv<SpaceInvadersParams> {
  readonly pos: Int32Array;
  /** -1 left, +1 right. */
  readonly alienDir: Int32Array;
  readonly moveInterval: Int32Array;
  readonly alienMoveTimer: Int32Array;
  readonly alienShotTimer: Int32Array;
  readonly rampIndex: Int32Array;
  readonly shotTimer: Int32Array;
  /** [numEnvs * 100] maps, row-major. */
  readonly aliens: Uint8Array;
  readonly friendlyBullets: Uint8Array;
  readonly enemyBullets: Uint8Array;

  constructor(numEnvs: number, params: Readonly<SpaceInvadersParams>, maxEpisodeSteps: number) {
    super('SpaceInvaders-MinAtar-v0', numEnvs, params, maxEpisodeSteps, CHANNELS, [0, LEFT, RIGHT, FIRE]);
    this.pos = new Int32Array(numEnvs);
    this.alienDir = new Int32Array(numEnvs);
    this.moveInterval = new Int32Array(numEnvs);
    this.alienMoveTimer = new Int32Array(numEnvs);
    this.alienShotTimer = new Int32Array(numEnvs);
    this.rampIndex = new Int32Array(numEnvs);
    this.shotTimer = new Int32Array(numEnvs);
    this.aliens = new Uint8Array(numEnvs * CELLS);
    this.friendlyBullets = new Uint8Array(numEnvs * CELLS);
    this.enemyBullets = new Uint8Array(numEnvs * CELLS);
  }

  protected startGame(i: number): void {
    const o = i * CELLS;
    this.pos[i] = 5;
    this.friendlyBullets.fill(0, o, o + CELLS);
    this.enemyBullets.fill(0, o, o + CELLS);
    this.aliens.fill(0, o, o + CELLS);
    this.newWave(o);
    this.alienDir[i] = -1;
    this.moveInterval[i] = ENEMY_MOVE_INTERVAL;
    this.alienMoveTimer[i] = ENEMY_MOVE_INTERVAL;
    this.alienShotTimer[i] = this.params.enemyShotInterval;
    this.rampIndex[i] = 0;
    this.shotTimer[i] = 0;
  }

  private newWave(o: number): void {
    for (let row = 0; row < 4; row++) this.aliens.fill(1, o + row * GRID + 2, o + row * GRID + 8);
  }

  protected act(i: number, action: number): number {
    const o = i * CELLS;
    const aliens = this.aliens;
    const friendly = this.friendlyBullets;
    const enemy = this.enemyBullets;
    let pos = this.pos[i]!;
    let terminal = false;
    if (action === FIRE && this.shotTimer[i] === 0) {
      friendly[o + 9 * GRID + pos] = 1;
      this.shotTimer[i] = SHOT_COOL_DOWN;
    } else if (action === LEFT) {
      pos = Math.max(0, pos - 1);
    } else if (action === RIGHT) {
      pos = Math.min(9, pos + 1);
    }
    this.pos[i] = pos;

    // Bullets: friendly up, enemy down; rows pushed off the grid vanish.
    friendly.copyWithin(o, o + GRID, o + CELLS);
    friendly.fill(0, o + 9 * GRID, o + CELLS);
    enemy.copyWithin(o + GRID, o, o + 9 * GRID);
    enemy.fill(0, o, o + GRID);
    if (enemy[o + 9 * GRID + pos] === 1) terminal = true;

    if (aliens[o + 9 * GRID + pos] === 1) terminal = true;
    if (this.alienMoveTimer[i] === 0) {
      this.alienMoveTimer[i] = Math.min(this.count(aliens, o), this.moveInterval[i]!);
      const dir = this.alienDir[i]!;
      if ((dir < 0 && this.columnHasAlien(o, 0)) || (dir > 0 && this.columnHasAlien(o, 9))) {
        this.alienDir[i] = -dir;
        if (this.rowHasAlien(o, 9)) terminal = true;
        this.dropAliens(o);
      } else {
        this.shiftAliens(o, dir);
      }
      if (aliens[o + 9 * GRID + pos] === 1) terminal = true;
    }
    if (this.alienShotTimer[i] === 0) {
      this.alienShotTimer[i] = this.params.enemyShotInterval;
      this.alienFires(o, pos);
    }

    // Kills, counting the aliens left in the same pass.
    let reward = 0;
    let left = 0;
    for (let k = o; k < o + CELLS; k++) {
      if (aliens[k] !== 1) continue;
      if (friendly[k] === 1) {
        reward += 1;
        aliens[k] = 0;
        friendly[k] = 0;
      } else {
        left += 1;
      }
    }

    if (this.shotTimer[i]! > 0) this.shotTimer[i] -= 1;
    this.alienMoveTimer[i] -= 1;
    this.alienShotTimer[i] -= 1;
    if (left === 0) {
      if (this.moveInterval[i]! > MIN_MOVE_INTERVAL && this.params.ramping === 1) {
        this.moveInterval[i] -= 1;
        this.rampIndex[i] += 1;
      }
      this.newWave(o);
    }
    if (terminal) this.terminated[i] = 1;
    return reward;
  }

  private count(map: Uint8Array, o: number): number {
    let n = 0;
    for (let k = o; k < o + CELLS; k++) n += map[k]!;
    return n;
  }

  private columnHasAlien(o: number, col: number): boolean {
    for (let row = 0; row < GRID; row++) if (this.aliens[o + row * GRID + col] === 1) return true;
    return false;
  }

  private rowHasAlien(o: number, row: number): boolean {
    for (let col = 0; col < GRID; col++) if (this.aliens[o + row * GRID + col] === 1) return true;
    return false;
  }

  /** One row down, row 9 wrapping to row 0 like the original's `np.roll` (it only matters on the final frame). */
  private dropAliens(o: number): void {
    const a = this.aliens;
    for (let col = 0; col < GRID; col++) {
      const bottom = a[o + 9 * GRID + col]!;
      for (let row = 9; row > 0; row--) a[o + row * GRID + col] = a[o + (row - 1) * GRID + col]!;
      a[o + col] = bottom;
    }
  }

  /** One column sideways; the block never touches the edge it moves towards here, so nothing wraps. */
  private shiftAliens(o: number, dir: number): void {
    for (let row = 0; row < GRID; row++) {
      const start = o + row * GRID;
      if (dir < 0) this.aliens.copyWithin(start, start + 1, start + GRID);
      else this.aliens.copyWithin(start + 1, start, start + GRID - 1);
      this.aliens[dir < 0 ? start + GRID - 1 : start] = 0;
    }
  }

  /** The lowest alien of the nearest column with aliens (ties: the left one) drops an enemy bullet on its cell. */
  private alienFires(o: number, pos: number): void {
    for (let distance = 0; distance < GRID; distance++) {
      if (pos - distance >= 0 && this.fireFrom(o, pos - distance)) return;
      if (distance > 0 && pos + distance <= 9 && this.fireFrom(o, pos + distance)) return;
    }
  }

  private fireFrom(o: number, col: number): boolean {
    for (let row = 9; row >= 0; row--) {
      if (this.aliens[o + row * GRID + col] === 1) {
        this.enemyBullets[o + row * GRID + col] = 1;
        return true;
      }
    }
    return false;
  }

  protected draw(i: number, obs: Float32Array, offset: number): void {
    this.mark(obs, offset, 9, this.pos[i]!, CANNON);
    const o = i * CELLS;
    const direction = this.alienDir[i]! < 0 ? ALIEN_LEFT : ALIEN_RIGHT;
    for (let cell = 0; cell < CELLS; cell++) {
      const at = offset + cell * CHANNELS;
      if (this.aliens[o + cell] === 1) {
        obs[at + ALIEN] = 1;
        obs[at + direction] = 1;
      }
      if (this.friendlyBullets[o + cell] === 1) obs[at + FRIENDLY_BULLET] = 1;
      if (this.enemyBullets[o + cell] === 1) obs[at + ENEMY_BULLET] = 1;
    }
  }
}

export const spaceInvaders = ladderKeptFromV1(
  defineEnv<SpaceInvadersParams>({
    id: 'SpaceInvaders-MinAtar-v0',
    summary: "MinAtar's Space Invaders: shoot a marching, firing block of aliens (+1 each), faster every wave; 10×10×6 frames.",
    params: {
      ...minatarParams('difficulty ramping: each new wave of aliens moves faster (1 = on, as in the original)'),
      enemyShotInterval: { default: 10, min: 1, max: 1000, integer: true, doc: 'steps between alien shots (the original: 10)' },
    },
    levels: [
      {},
      { stickyProb: STICKY_LADDER[1], enemyShotInterval: 9 },
      { stickyProb: STICKY_LADDER[2], enemyShotInterval: 8 },
      { stickyProb: STICKY_LADDER[3], enemyShotInterval: 7 },
      { stickyProb: STICKY_LADDER[4], enemyShotInterval: 6 },
    ],
    ladder: 'stickyProb 0.1 → 0.3 and enemyShotInterval 10 → 6: more bullets to dodge, and a repeated move is fatal more often',
    maxEpisodeSteps: () => MINATAR_MAX_EPISODE_STEPS,
    create: (numEnvs, params, maxEpisodeSteps) => new SpaceInvaders(numEnvs, params, maxEpisodeSteps),
  }),
);
