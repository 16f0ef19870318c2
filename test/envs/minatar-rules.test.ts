/**
 * The MinAtar games' rules one at a time (from envs/minatar/*.ts, after the original's source): each scenario puts a
 * copy into a chosen state through its public state fields, steps it with chosen actions (sticky actions off unless
 * said) and checks the state, the frame, the reward and the end flag.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../src/run/registry.js';
import type { StepResult, VectorEnv } from '../../src/core/vector-env.js';
import type { Asterix } from '../../envs/minatar/asterix.js';
import type { Breakout } from '../../envs/minatar/breakout.js';
import type { Freeway } from '../../envs/minatar/freeway.js';
import type { Seaquest } from '../../envs/minatar/seaquest.js';
import type { SpaceInvaders } from '../../envs/minatar/space-invaders.js';
import { ScriptedRng, setRng } from '../helpers/minatar.js';

/** One copy with sticky actions off, reset with `seed`. */
function game<T>(id: string, params: Record<string, number> = {}, seed = 0): T & VectorEnv {
  const env = makeEnv(id, { params: { stickyProb: 0, ...params } });
  env.reset(seed);
  return env as unknown as T & VectorEnv;
}

/** The frame value of (row, col, channel) in copy 0's observation. */
function at(env: VectorEnv & { channels: number }, obs: Float32Array, row: number, col: number, channel: number): number {
  return obs[(row * 10 + col) * env.channels + channel]!;
}

function steps(env: VectorEnv, actions: number[]): StepResult[] {
  return actions.map((a) => {
    const out = env.step([a]);
    return { ...out, obs: out.obs.slice(), finalObs: out.finalObs.slice(), rewards: out.rewards.slice(), terminated: out.terminated.slice(), truncated: out.truncated.slice() };
  });
}

describe('Breakout-MinAtar-v0 rules', () => {
  // Minimal actions: 0 no-op, 1 left, 2 right. Ball directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
  type B = Breakout & VectorEnv;
  const place = (env: B, x: number, y: number, dir: number) => {
    env.ballX[0] = x;
    env.ballY[0] = y;
    env.ballDir[0] = dir;
    env.redraw(0);
  };

  it('starts with 30 bricks, the paddle at column 4 and the ball in row 3 at a corner heading down', () => {
    const starts = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const env = game<Breakout>('Breakout-MinAtar-v0', {}, seed);
      assert.equal(env.brickCount[0], 30);
      assert.equal(env.paddle[0], 4);
      assert.equal(env.ballY[0], 3);
      starts.add(`${env.ballX[0]}/${env.ballDir[0]}`);
      const obs = env.reset(seed);
      assert.equal(at(env, obs, 9, 4, 0), 1, 'paddle channel');
      assert.equal(at(env, obs, 3, env.ballX[0]!, 1), 1, 'ball channel');
      assert.equal(at(env, obs, 3, env.ballX[0]!, 2), 1, 'trail on the ball at the start');
      for (let col = 0; col < 10; col++) for (const row of [1, 2, 3]) assert.equal(at(env, obs, row, col, 3), 1);
    }
    assert.deepEqual([...starts].sort(), ['0/2', '9/3']);
  });

  it('reflects off a side wall, breaks a brick (+1, ball keeps its row, vertical flip), and breaks one brick per contact run', () => {
    const env = game<Breakout>('Breakout-MinAtar-v0');
    env.bricks.fill(0);
    env.bricks[3 * 10 + 1] = 1;
    env.bricks[5 * 10 + 3] = 1;
    env.brickCount[0] = 2;
    place(env, 0, 5, 0); // at the left wall heading up-left
    let [out] = steps(env, [0]);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.ballDir[0]], [0, 4, 1], 'clamped to the wall, now up-right');
    [out] = steps(env, [0]);
    assert.equal(out!.rewards[0], 1, 'the brick at (3, 1)');
    assert.equal(env.bricks[31], 0);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.ballDir[0]], [1, 4, 2], 'stays in row 4, now down-right');
    assert.equal(at(env, out!.obs, 3, 1, 3), 0, 'brick gone from the frame');
    assert.equal(at(env, out!.obs, 4, 0, 2), 1, 'trail at the previous cell');
    // A brick the ball meets on the very next step: no reward, the ball passes into the brick's cell.
    env.bricks[5 * 10 + 2] = 1;
    [out] = steps(env, [0]);
    assert.equal(out!.rewards[0], 0);
    assert.equal(env.bricks[52], 1);
    assert.deepEqual([env.ballX[0], env.ballY[0]], [2, 5]);
    [out] = steps(env, [0]);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.strike[0]], [3, 6, 0], 'the contact run is over');
    assert.equal(env.bricks[53], 1, 'the brick at (5, 3) was never entered');
  });

  it('reflects off the ceiling', () => {
    const env = game<Breakout>('Breakout-MinAtar-v0');
    env.bricks.fill(0);
    env.brickCount[0] = 0;
    place(env, 5, 0, 1);
    steps(env, [0]);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.ballDir[0]], [6, 0, 2]);
  });

  it('at the bottom: paddle under the ball → straight bounce; paddle at the target column → reversal; else the episode ends', () => {
    let env = game<Breakout>('Breakout-MinAtar-v0');
    place(env, 4, 8, 2);
    let [out] = steps(env, [0]);
    assert.equal(out!.terminated[0], 0);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.ballDir[0]], [5, 8, 1], 'up-right, keeping its horizontal direction');

    env = game<Breakout>('Breakout-MinAtar-v0');
    place(env, 3, 8, 2);
    [out] = steps(env, [0]);
    assert.equal(out!.terminated[0], 0);
    assert.deepEqual([env.ballX[0], env.ballY[0], env.ballDir[0]], [4, 8, 0], 'up-left: both directions reversed');

    env = game<Breakout>('Breakout-MinAtar-v0');
    place(env, 3, 8, 2);
    env.paddle[0] = 0;
    [out] = steps(env, [0]);
    assert.equal(out!.terminated[0], 1);
    assert.equal(at(env, out!.finalObs, 9, 4, 1), 1, 'the final frame shows the ball in row 9');
  });

  it('refills rows 1–3 when the ball reaches the bottom with no bricks left', () => {
    const env = game<Breakout>('Breakout-MinAtar-v0');
    env.bricks.fill(0);
    env.brickCount[0] = 0;
    place(env, 4, 8, 2);
    const [out] = steps(env, [0]);
    assert.equal(env.brickCount[0], 30);
    assert.equal(at(env, out!.obs, 1, 0, 3) + at(env, out!.obs, 3, 9, 3), 2);
  });

  it('a paddle that never moves misses a ball from the left corner at step 6; the paddle moves one column per action', () => {
    for (let seed = 0; seed < 10; seed++) {
      const env = game<Breakout>('Breakout-MinAtar-v0', {}, seed);
      if (env.ballX[0] !== 0) continue;
      const outs = steps(env, [0, 0, 0, 0, 0, 0]);
      assert.deepEqual(outs.map((o) => o.terminated[0]), [0, 0, 0, 0, 0, 1]);
    }
    const env = game<Breakout>('Breakout-MinAtar-v0');
    env.bricks.fill(0);
    place(env, 0, 0, 2); // 8 steps before the ball reaches row 8
    steps(env, [1, 1, 2]);
    assert.equal(env.paddle[0], 3);
    steps(env, [1, 1, 1, 1, 1]);
    assert.equal(env.paddle[0], 0, 'clamped at the wall');
  });

  it('bounceNoise 1 sends every paddle bounce the other horizontal way', () => {
    const env = game<Breakout>('Breakout-MinAtar-v0', { bounceNoise: 1 });
    place(env, 4, 8, 2);
    steps(env, [0]);
    assert.deepEqual([env.ballX[0], env.ballDir[0]], [5, 0], 'up-left instead of up-right');
  });
});

describe('Freeway-MinAtar-v0 rules', () => {
  // Minimal actions: 0 no-op, 1 up, 2 down.
  type F = Freeway & VectorEnv;
  /** Park every car at column 9 with a long wait, so none comes near the chicken's column 4. */
  const parkCars = (env: F) => {
    env.carX.fill(9);
    env.carTimer.fill(1000);
    env.carSpeed.fill(5);
  };

  it('the chicken moves one row when its cooldown is 0, then waits 3 steps (first move at step 4)', () => {
    const env = game<Freeway>('Freeway-MinAtar-v0');
    parkCars(env);
    const rows: number[] = [];
    for (let t = 0; t < 10; t++) {
      steps(env, [1]);
      rows.push(env.pos[0]!);
    }
    assert.deepEqual(rows, [9, 9, 9, 8, 8, 8, 7, 7, 7, 6]);
  });

  it('reaching row 0 gives +1, puts the chicken back in row 9 and draws new speeds, keeping positions', () => {
    const env = game<Freeway>('Freeway-MinAtar-v0', {}, 3);
    parkCars(env);
    env.carX.set([0, 1, 2, 3, 5, 6, 7, 8]);
    env.pos[0] = 1;
    env.moveTimer[0] = 0;
    const [out] = steps(env, [1]);
    assert.equal(out!.rewards[0], 1);
    assert.equal(env.pos[0], 9);
    assert.deepEqual([...env.carX], [0, 1, 2, 3, 5, 6, 7, 8], 'no car moved: all have new timers of |speed|');
    for (let k = 0; k < 8; k++) {
      const speed = Math.abs(env.carSpeed[k]!);
      assert.ok(speed >= 1 && speed <= 5);
      assert.equal(env.carTimer[k], speed - 1, 'timer reset to |speed|, then counted down once');
    }
    assert.ok(env.carSpeed.some((s) => s !== 5), 'speeds were redrawn');
  });

  it('a car on the chicken, before or after its move, sends it back to row 9 without ending the episode', () => {
    const env = game<Freeway>('Freeway-MinAtar-v0');
    parkCars(env);
    env.pos[0] = 5;
    env.carX[4] = 3; // the car of row 5
    env.carSpeed[4] = 2;
    env.carTimer[4] = 0; // moves now, onto column 4
    let [out] = steps(env, [0]);
    assert.equal(env.pos[0], 9);
    assert.equal(out!.terminated[0], 0);
    assert.equal(out!.rewards[0], 0);
    env.pos[0] = 6;
    env.carX[5] = 4; // already on the chicken's cell in row 6
    [out] = steps(env, [0]);
    assert.equal(env.pos[0], 9);
  });

  it('cars wrap around and show their speed class and direction in the trail channels', () => {
    const env = game<Freeway>('Freeway-MinAtar-v0');
    parkCars(env);
    env.carX[0] = 9;
    env.carSpeed[0] = 1; // row 1, speed class 1, moving right
    env.carTimer[0] = 0;
    env.carX[1] = 0;
    env.carSpeed[1] = -3; // row 2, speed class 3, moving left
    env.carTimer[1] = 0;
    const [out] = steps(env, [0]);
    assert.deepEqual([env.carX[0], env.carX[1]], [0, 9]);
    assert.equal(at(env, out!.obs, 1, 0, 1), 1);
    assert.equal(at(env, out!.obs, 1, 9, 2), 1, 'speed1 trail behind (wrapped)');
    assert.equal(at(env, out!.obs, 2, 9, 1), 1);
    assert.equal(at(env, out!.obs, 2, 0, 4), 1, 'speed3 trail behind (wrapped)');
    assert.deepEqual([env.carTimer[0], env.carTimer[1]], [1, 3]);
  });

  it('the 2,500-frame timer ends every episode at step 2,501, as a termination', () => {
    const env = game<Freeway>('Freeway-MinAtar-v0');
    for (let t = 1; t <= 2500; t++) {
      const out = env.step([t % 3]);
      assert.equal(out.terminated[0], 0, `step ${t}`);
    }
    const out = env.step([0]);
    assert.equal(out.terminated[0], 1);
    assert.equal(out.truncated[0], 0);
    assert.equal(env.drainEpisodes()[0]!.length, 2501);
  });

  it('slowestCar limits the speed classes drawn', () => {
    for (let seed = 0; seed < 5; seed++) {
      const env = game<Freeway>('Freeway-MinAtar-v0', { slowestCar: 2 }, seed);
      for (const s of env.carSpeed) assert.ok(Math.abs(s) === 1 || Math.abs(s) === 2);
    }
  });
});

describe('Asterix-MinAtar-v0 rules', () => {
  // Minimal actions: 0 no-op, 1 left, 2 up, 3 right, 4 down. Slot k holds the entity of row k + 1.
  type A = Asterix & VectorEnv;
  const alive = (env: A) => env.entityAlive.reduce((a, b) => a + b, 0);
  const put = (env: A, slot: number, x: number, right: number, gold: number) => {
    env.entityAlive[slot] = 1;
    env.entityX[slot] = x;
    env.entityRight[slot] = right;
    env.entityGold[slot] = gold;
  };

  it('the first entity spawns at step 11 (and moves at once: moves come at steps 6, 11, 16, ...), then one every 10 steps', () => {
    const env = game<Asterix>('Asterix-MinAtar-v0');
    const counts: number[] = [];
    for (let t = 1; t <= 21; t++) {
      steps(env, [0]);
      counts.push(alive(env));
      if (t === 11) {
        const slot = env.entityAlive.indexOf(1);
        assert.equal(env.entityX[slot], env.entityRight[slot] ? 1 : 8, 'from an edge, one cell in');
      }
    }
    assert.equal(counts.indexOf(1), 10, 'step 11');
    assert.equal(counts.indexOf(2), 20, 'step 21');
  });

  it('the player stays in rows 1..8 and columns 0..9', () => {
    const env = game<Asterix>('Asterix-MinAtar-v0');
    for (const action of [2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]) {
      env.entityAlive.fill(0);
      steps(env, [action]);
    }
    assert.deepEqual([env.playerX[0], env.playerY[0]], [0, 1]);
  });

  it('gold on the player gives +1 and disappears, before or after the move; an enemy ends the episode', () => {
    let env = game<Asterix>('Asterix-MinAtar-v0');
    put(env, 4, 5, 1, 1); // gold on the player's cell (row 5, column 5)
    let [out] = steps(env, [0]);
    assert.equal(out!.rewards[0], 1);
    assert.equal(env.entityAlive[4], 0);

    env = game<Asterix>('Asterix-MinAtar-v0');
    put(env, 4, 4, 1, 1); // gold one cell left of the player, moving right
    env.moveTimer[0] = 0;
    [out] = steps(env, [0]);
    assert.equal(out!.rewards[0], 1, 'collected after the move');

    env = game<Asterix>('Asterix-MinAtar-v0');
    put(env, 4, 6, 0, 0); // an enemy one cell right of the player, moving left
    env.moveTimer[0] = 0;
    [out] = steps(env, [0]);
    assert.equal(out!.terminated[0], 1);
    assert.equal(at(env, out!.finalObs, 5, 5, 1), 1, 'the enemy is on the player in the final frame');
    assert.equal(at(env, out!.finalObs, 5, 6, 2), 1, 'its trail behind it');
  });

  it('entities move every move_speed steps and leave the grid at the far edge', () => {
    const env = game<Asterix>('Asterix-MinAtar-v0');
    put(env, 0, 9, 1, 0); // row 1, moving right, at the right edge
    put(env, 1, 3, 0, 1); // row 2, moving left
    env.moveTimer[0] = 0;
    steps(env, [0]);
    assert.equal(env.entityAlive[0], 0);
    assert.equal(env.entityX[1], 2);
    assert.equal(env.moveTimer[0], 4, 'reset to move_speed 5, counted down once');
  });

  it('ramping: every rampInterval + 2 steps spawn_speed drops by 1, move_speed on every second ramp; none with ramping 0', () => {
    for (const [params, firstRamp] of [[{}, 102], [{ rampInterval: 40 }, 42]] as const) {
      const env = game<Asterix>('Asterix-MinAtar-v0', params);
      const trace: string[] = [];
      for (let t = 1; t <= 4 * firstRamp; t++) {
        env.entityAlive.fill(0); // keep the player safe: the ramp does not depend on entities
        steps(env, [0]);
        if (t % firstRamp === 0) trace.push(`${env.rampIndex[0]}:${env.spawnSpeed[0]}/${env.moveSpeed[0]}`);
        if (t === firstRamp - 1) assert.equal(env.rampIndex[0], 0);
      }
      assert.deepEqual(trace, ['1:9/5', '2:8/4', '3:7/4', '4:6/3']);
    }
    const env = game<Asterix>('Asterix-MinAtar-v0', { ramping: 0 });
    for (let t = 0; t < 300; t++) {
      env.entityAlive.fill(0);
      steps(env, [0]);
    }
    assert.deepEqual([env.rampIndex[0], env.spawnSpeed[0], env.moveSpeed[0]], [0, 10, 5]);
  });
});

describe('SpaceInvaders-MinAtar-v0 rules', () => {
  // Minimal actions: 0 no-op, 1 left, 2 right, 3 fire.
  const count = (map: Uint8Array) => map.reduce((a, b) => a + b, 0);

  it('fire puts a bullet above the cannon that climbs a row per step, with a 5-step cooldown, and kills the first alien (+1)', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    const outs = steps(env, [3, 3, 0, 0, 0, 0]);
    assert.equal(at(env, outs[0]!.obs, 8, 5, 4), 1);
    assert.equal(count(env.friendlyBullets), 0, 'the bullet is gone');
    assert.equal(at(env, outs[1]!.obs, 7, 5, 4), 1);
    assert.equal(outs[1]!.obs.filter((v, k) => v === 1 && k % 6 === 4).length, 1, 'one bullet: the second fire was on cooldown');
    assert.deepEqual(outs.map((o) => o.rewards[0]), [0, 0, 0, 0, 0, 1], 'the alien at (3, 5) at step 6');
    assert.equal(env.aliens[35], 0);
    assert.equal(count(env.aliens), 23);
    steps(env, [3]); // the cooldown ran out at step 6
    assert.equal(count(env.friendlyBullets), 1);
  });

  it('the block moves left at step 13 and every 12 steps; at the edge it reverses and drops a row', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    // Cannon to column 0, where the nearest alien column (2) fires past it.
    let outs = steps(env, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(at(env, outs[11]!.obs, 0, 2, 1), 1, 'not moved at step 12');
    assert.equal(at(env, outs[12]!.obs, 0, 1, 1), 1, 'moved left at step 13');
    assert.equal(at(env, outs[12]!.obs, 0, 1, 2), 1, 'alien_left channel');
    assert.equal(at(env, outs[12]!.obs, 0, 1, 3), 0);
    assert.equal(env.alienMoveTimer[0], 11);
    // Now at the left edge: the next move reverses and drops.
    env.aliens.fill(0);
    for (let row = 0; row < 4; row++) for (let col = 0; col < 6; col++) env.aliens[row * 10 + col] = 1;
    env.alienMoveTimer[0] = 0;
    env.alienShotTimer[0] = 5;
    env.enemyBullets.fill(0);
    env.pos[0] = 9;
    outs = steps(env, [0]);
    assert.equal(env.alienDir[0], 1);
    assert.equal(at(env, outs[0]!.obs, 0, 0, 1), 0, 'row 0 empty after the drop');
    assert.equal(at(env, outs[0]!.obs, 4, 0, 3), 1, 'row 4 now, alien_right channel');
  });

  it('the lowest alien of the column nearest the cannon fires at step 11 and every 10 steps; its bullet falls a row per step', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    const outs = steps(env, [2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0]); // cannon to column 9: nearest alien column 7
    assert.equal(at(env, outs[10]!.obs, 3, 7, 5), 1, 'fired from (3, 7) at step 11');
    assert.equal(count(env.enemyBullets), 1);
    steps(env, [0, 0]);
    assert.equal(env.enemyBullets[5 * 10 + 7], 1);
    // Tie: cannon at column 5 of a block spanning 4 and 6 only: the left column (4) fires.
    const tie = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    tie.aliens.fill(0);
    tie.aliens[2 * 10 + 4] = 1;
    tie.aliens[1 * 10 + 6] = 1;
    tie.alienShotTimer[0] = 0;
    steps(tie, [0]);
    assert.deepEqual([tie.enemyBullets[24], tie.enemyBullets[16]], [1, 0]);
  });

  it('an enemy bullet reaching the cannon ends the episode (at the earliest at step 17)', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    const outs = steps(env, new Array(17).fill(0));
    assert.deepEqual(outs.map((o) => o.terminated[0]).indexOf(1), 16);
  });

  it('the block dropping with an alien already in row 9 ends the episode', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    env.aliens.fill(0);
    env.aliens[9 * 10 + 0] = 1;
    env.aliens[8 * 10 + 1] = 1;
    env.pos[0] = 7;
    env.alienDir[0] = -1;
    env.alienMoveTimer[0] = 0;
    env.alienShotTimer[0] = 5;
    const [out] = steps(env, [0]);
    assert.equal(out!.terminated[0], 1);
  });

  it('a fresh wave after the last alien: with ramping the move interval drops by 1 (to 6), without it stays 12', () => {
    for (const [ramping, interval] of [[1, 11], [0, 12]] as const) {
      const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0', { ramping });
      env.aliens.fill(0);
      env.aliens[3 * 10 + 5] = 1;
      env.friendlyBullets[4 * 10 + 5] = 1;
      env.alienMoveTimer[0] = 5;
      env.alienShotTimer[0] = 5;
      const [out] = steps(env, [0]);
      assert.equal(out!.rewards[0], 1);
      assert.equal(count(env.aliens), 24);
      assert.equal(env.moveInterval[0], interval);
    }
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    env.moveInterval[0] = 6;
    env.aliens.fill(0);
    env.aliens[35] = 1;
    env.friendlyBullets[45] = 1;
    env.alienMoveTimer[0] = 5;
    steps(env, [0]);
    assert.equal(env.moveInterval[0], 6, 'never below 6');
  });

  it('the block moves every min(#aliens, interval) steps', () => {
    const env = game<SpaceInvaders>('SpaceInvaders-MinAtar-v0');
    env.aliens.fill(0);
    env.aliens.set([1, 1, 1], 4 * 10 + 4);
    env.alienMoveTimer[0] = 0;
    env.alienShotTimer[0] = 5;
    steps(env, [0]);
    assert.equal(env.alienMoveTimer[0], 2, 'set to 3, counted down once');
  });
});

describe('Seaquest-MinAtar-v0 rules', () => {
  // Minimal actions: 0 no-op, 1 left, 2 up, 3 right, 4 down, 5 fire.
  /** No enemies for 1,000 steps. */
  const calm = { enemySpawnInterval: 1000 };

  it('surfacing with no divers ends the episode: down, then up, at step 2', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0');
    const outs = steps(env, [4, 2]);
    assert.deepEqual(outs.map((o) => o.terminated[0]), [0, 1]);
  });

  it('staying on the surface costs no oxygen', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    steps(env, new Array(50).fill(0));
    assert.equal(env.oxygen[0], 200);
  });

  it('oxygen: −1 per step under water; 200 steps survive, the 201st ends the episode; the gauge shows oxygen·10 // 200', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    const outs = steps(env, [4, ...new Array(200).fill(0)]);
    const ends = outs.map((o) => o.terminated[0]);
    assert.equal(ends.indexOf(1), 200, 'ended at step 201');
    const gauge = (obs: Float32Array) => Array.from({ length: 10 }, (_, col) => at(env, obs, 9, col, 7)).reduce((a, b) => a + b, 0);
    assert.equal(gauge(outs[0]!.obs), 9, 'oxygen 199');
    assert.equal(gauge(outs[19]!.obs), 9, 'oxygen 180');
    assert.equal(gauge(outs[20]!.obs), 8, 'oxygen 179');
    assert.equal(gauge(outs[199]!.obs), 0, 'oxygen 0');
  });

  it('a diver on the sub is picked up (gauge from column 8 leftwards); at most 6', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    steps(env, [4]);
    env.divers.set([5, 1, 1, 3], 0);
    env.diverListCount[0] = 1;
    let [out] = steps(env, [0]);
    assert.equal(env.diverCount[0], 1);
    assert.equal(env.diverListCount[0], 0);
    assert.equal(at(env, out!.obs, 9, 8, 8), 1);
    assert.equal(at(env, out!.obs, 9, 7, 8), 0);
    env.diverCount[0] = 6;
    env.divers.set([5, 1, 1, 3], 0);
    env.diverListCount[0] = 1;
    [out] = steps(env, [0]);
    assert.equal(env.diverCount[0], 6);
    assert.equal(env.diverListCount[0], 1, 'left where it was');
    for (let col = 3; col < 9; col++) assert.equal(at(env, out!.obs, 9, col, 8), 1);
  });

  it('surfacing with divers refills oxygen and drops one diver; with ramping the spawn interval and (every second time) the move speed drop', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    steps(env, [4, 0, 0]);
    env.diverCount[0] = 3;
    let [out] = steps(env, [2]);
    assert.equal(out!.terminated[0], 0);
    assert.deepEqual([env.oxygen[0], env.diverCount[0], env.enemySpawnSpeed[0], env.moveSpeed[0], env.rampIndex[0]], [200, 2, 999, 5, 1]);
    [out] = steps(env, [2]);
    assert.equal(env.diverCount[0], 2, 'still on the surface: no second surfacing');
    steps(env, [4, 2]);
    assert.deepEqual([env.diverCount[0], env.enemySpawnSpeed[0], env.moveSpeed[0], env.rampIndex[0]], [1, 998, 4, 2]);
    const flat = game<Seaquest>('Seaquest-MinAtar-v0', { ...calm, ramping: 0 });
    flat.diverCount[0] = 3;
    steps(flat, [4, 2]);
    assert.deepEqual([flat.enemySpawnSpeed[0], flat.moveSpeed[0], flat.rampIndex[0]], [1000, 5, 0]);
  });

  it('surfacing with 6 divers pays oxygen·10 // 200 and leaves the count at −1, so the next surfacing does not end the episode', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    steps(env, [4]);
    env.diverCount[0] = 6;
    env.oxygen[0] = 121;
    let [out] = steps(env, [2]);
    assert.equal(out!.rewards[0], 6, '121·10 // 200');
    assert.equal(env.diverCount[0], -1);
    for (let col = 0; col < 10; col++) assert.equal(at(env, out!.obs, 9, col, 8), 0, 'no diver shown');
    const outs = steps(env, [4, 2]);
    assert.equal(outs[1]!.terminated[0], 0);
    assert.equal(env.diverCount[0], -2);
    const more = steps(env, [4, 2]);
    assert.equal(more[1]!.terminated[0], 0);
  });

  it('a friendly bullet flies along the facing and destroys the fish it meets (+1); fire has a 5-step cooldown', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    steps(env, [4, 4, 3]); // row 2, column 6, facing right
    env.fish.set([8, 2, 0, 50], 0); // a fish at column 8 moving left, not due to move
    env.fishCount[0] = 1;
    const outs = steps(env, [5, 5, 0]);
    assert.equal(at(env, outs[0]!.obs, 2, 7, 2), 1, 'the bullet flew from the sub to column 7');
    assert.equal(env.subX[0], 6, 'fire on cooldown does nothing');
    assert.deepEqual(outs.map((o) => o.rewards[0]), [0, 1, 0], 'hit at column 8 on the second step');
    assert.equal(env.friendlyCount[0], 0);
    assert.equal(env.fishCount[0], 0);
  });

  it('contact with an enemy fish, sub or enemy bullet ends the episode', () => {
    for (const setup of ['fish', 'sub', 'bullet'] as const) {
      const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
      steps(env, [4]);
      if (setup === 'fish') {
        env.fish.set([5, 1, 0, 3], 0);
        env.fishCount[0] = 1;
      } else if (setup === 'sub') {
        env.subs.set([5, 1, 0, 3, 4], 0);
        env.subCount[0] = 1;
      } else {
        env.enemyBullets.set([6, 1, 0], 0);
        env.enemyBulletCount[0] = 1;
      }
      const [out] = steps(env, [0]);
      assert.equal(out!.terminated[0], 1, setup);
    }
  });

  it('enemy subs fire every 11 steps, a bullet that moves a cell per step along the sub\'s direction', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', calm);
    env.subs.set([0, 5, 1, 1000, 0], 0);
    env.subCount[0] = 1;
    steps(env, [0]);
    assert.equal(env.enemyBulletCount[0], 1);
    assert.deepEqual([...env.enemyBullets.subarray(0, 3)], [1, 5, 1], 'fired at column 0, moved to 1');
    assert.equal(env.subs[4], 10);
    steps(env, new Array(10).fill(0));
    assert.equal(env.enemyBulletCount[0], 0, 'after 10 moves the bullet left the grid; no new shot yet');
    steps(env, [0]);
    assert.equal(env.enemyBulletCount[0], 1, 'the next shot, 11 steps after the first');
  });

  it('no enemy spawns into a row where one moves the other way', () => {
    const env = game<Seaquest>('Seaquest-MinAtar-v0', { enemySpawnInterval: 1 });
    env.fish.set([3, 4, 1, 50], 0); // row 4 moving right
    env.fishCount[0] = 1;
    // Draws per step: the sticky draw, then side (≥ ½: from the right, moving left), sub (≥ ⅓: a fish), row - 1.
    setRng(env, new ScriptedRng([['u', 0.5], ['u', 0.9], ['u', 0.9], ['i', 8, 3], ['u', 0.5], ['u', 0.1], ['u', 0.9], ['i', 8, 3]]));
    env.enemySpawnTimer[0] = 0;
    steps(env, [0]);
    assert.equal(env.fishCount[0], 1, 'skipped');
    env.enemySpawnTimer[0] = 0;
    steps(env, [0]);
    assert.equal(env.fishCount[0], 2, 'same direction: spawned at column 0');
    assert.deepEqual([...env.fish.subarray(4, 8)], [0, 4, 1, 4], 'its move timer counted down once');
  });
});
