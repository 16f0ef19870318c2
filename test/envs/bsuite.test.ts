import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepSeaActionMapping } from '../../envs/bsuite/deep-sea.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { describeLevels, envIds, getEnvSpec, makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';
import type { VectorEnv } from '../../src/core/vector-env.js';

interface Episode {
  env: number;
  return: number;
  length: number;
  /** The reward of the terminating step. */
  finalReward: number;
  /** The episode's first observation. */
  firstObs: Float32Array;
}

/**
 * Run `numEnvs` copies until `episodes` episodes have finished, choosing each action from the env's current
 * observation (`obs`), its episode's first observation, the step index within the episode and the env index. Asserts that no
 * episode is ever truncated and that the env's episode statistics agree with the step rewards.
 */
function runEpisodes(
  env: VectorEnv,
  episodes: number,
  policy: (obs: Float32Array, first: Float32Array, t: number, i: number) => number,
  seed = 0,
): Episode[] {
  const n = env.numEnvs;
  const size = env.obsSize;
  const observedNoise = env.id === 'Catch-v0' && env.params.rewardNoise !== 0;
  let obs = Float32Array.from(env.reset(seed));
  const first = obs.slice();
  const t = new Int32Array(n);
  const returns = new Float64Array(n);
  const done: Episode[] = [];
  const actions = new Int32Array(n);
  for (let guard = 0; done.length < episodes; guard++) {
    assert.ok(guard < 100_000, 'runEpisodes did not finish');
    for (let i = 0; i < n; i++) {
      actions[i] = policy(obs.subarray(i * size, (i + 1) * size), first.subarray(i * size, (i + 1) * size), t[i]!, i);
    }
    const result = env.step(actions);
    obs = Float32Array.from(result.obs);
    const stats = env.drainEpisodes();
    for (let i = 0; i < n; i++) {
      assert.equal(result.truncated[i], 0, 'no episode should reach the time limit');
      returns[i]! += result.rewards[i]!;
      t[i]! += 1;
      if (result.terminated[i]) {
        const record = stats.find((s) => s.env === i);
        assert.ok(record, `episode statistics for env ${i}`);
        // Observed reward noise (Catch's v2 ladder) is added after the return is counted: returns stay the task's.
        if (!observedNoise) assert.ok(Math.abs(record.return - returns[i]!) < 1e-9);
        assert.equal(record.length, t[i]);
        done.push({
          env: i,
          return: returns[i]!,
          length: t[i]!,
          finalReward: result.rewards[i]!,
          firstObs: first.slice(i * size, (i + 1) * size),
        });
        first.set(obs.subarray(i * size, (i + 1) * size), i * size);
        returns[i] = 0;
        t[i] = 0;
      }
    }
  }
  return done;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function levelParams(id: string, ladder?: string): Record<string, unknown>[] {
  return describeLevels(getEnvSpec(id), ladder).map(({ params }) => ({ ...params }));
}

const PROBES = ['GaussianBandit-v0', 'Catch-v0', 'DeepSea-v0', 'MemoryChain-v0', 'UmbrellaChain-v0'];

describe('bsuite-style probes: registration and generic behaviour', () => {
  it('registers the probes after CartPole, in order', () => {
    const ids = envIds();
    const positions = PROBES.map((id) => ids.indexOf(id));
    assert.ok(positions.every((p) => p > ids.indexOf('CartPole-v1')), `ids: ${ids.join(', ')}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions);
  });

  for (const id of PROBES) {
    it(`${id}: every level keeps observations in the space and ends episodes by termination at the fixed length`, () => {
      const expectedLength: Record<string, (p: Record<string, number>) => number> = {
        'GaussianBandit-v0': () => 1,
        'Catch-v0': (p) => p.rows! - 1,
        'DeepSea-v0': (p) => p.size!,
        'MemoryChain-v0': (p) => p.memoryLength! + 1,
        'UmbrellaChain-v0': (p) => p.chainLength!,
      };
      for (let level = 0; level < 5; level++) {
        const env = makeEnv(id, { numEnvs: 3, level });
        const params = env.params as Record<string, number>;
        const rng = new Rng(`random-policy/${level}`);
        const n = env.actionSpace.type === 'Discrete' ? env.actionSpace.n : 0;
        const episodes = runEpisodes(env, 6, (obs) => {
          assert.ok(env.observationSpace.contains(obs), `${id} level ${level}: obs ${Array.from(obs)} outside the space`);
          return rng.int(n);
        });
        for (const episode of episodes) assert.equal(episode.length, expectedLength[id]!(params));
        assert.ok(env.maxEpisodeSteps >= expectedLength[id]!(params));
      }
    });
  }
});

/** Column of the first 1 in `row` of a Catch board, or -1. */
function findInRow(obs: Float32Array, columns: number, row: number): number {
  for (let c = 0; c < columns; c++) if (obs[row * columns + c] === 1) return c;
  return -1;
}

/** Catch's ball: the only 1 above the bottom row (the paddle is in the bottom row). */
function catchBall(obs: Float32Array, rows: number, columns: number): { row: number; column: number } {
  for (let r = 0; r < rows - 1; r++) {
    const c = findInRow(obs, columns, r);
    if (c >= 0) return { row: r, column: c };
  }
  throw new Error('no ball above the bottom row');
}

function catchPolicy(rows: number, columns: number, kind: 'track' | 'stay') {
  return (obs: Float32Array) => {
    if (kind === 'stay') return 1;
    const ball = catchBall(obs, rows, columns).column;
    const paddle = findInRow(obs, columns, rows - 1);
    return Math.sign(ball - paddle) + 1;
  };
}

describe('Catch-v0', () => {
  it('observes a flattened rows × columns board: ball in the top row, paddle at the bottom centre', () => {
    const env = makeEnv('Catch-v0', { numEnvs: 50, params: { rows: 8, columns: 7 } });
    assert.equal(env.obsSize, 56);
    assert.deepEqual(env.observationSpace.shape, [8, 7]);
    const obs = env.reset(4);
    const starts = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const board = obs.subarray(i * 56, (i + 1) * 56);
      assert.equal(board.reduce((a, b) => a + b, 0), 2);
      assert.equal(findInRow(board, 7, 7), 3);
      starts.add(findInRow(board, 7, 0));
    }
    assert.equal(starts.size, 7, 'the ball starts in every column');
  });

  it('a policy that tracks the ball always catches it (+1); staying catches only balls dropped in the centre', () => {
    for (const level of [0, 1, 2]) {
      // The v1 ladder: the board grows (v2 adds reward noise, which this policy check would count).
      const env = makeEnv('Catch-v0', { numEnvs: 16, level, ladder: 'v1' });
      const { rows, columns } = env.params as Record<string, number>;
      const tracked = runEpisodes(env, 200, catchPolicy(rows!, columns!, 'track'));
      for (const episode of tracked) {
        assert.equal(episode.return, 1);
        assert.equal(episode.length, rows! - 1);
      }
      const stayed = runEpisodes(env, 400, catchPolicy(rows!, columns!, 'stay'));
      for (const episode of stayed) {
        const start = catchBall(episode.firstObs, rows!, columns!).column;
        assert.equal(episode.return, start === columns! >> 1 ? 1 : -1);
      }
      const expected = 2 / columns! - 1;
      assert.ok(Math.abs(mean(stayed.map((e) => e.return)) - expected) < 0.2, `level ${level}: stay mean`);
    }
  });

  it('ball drift moves the ball sideways at about the set rate', () => {
    const env = makeEnv('Catch-v0', { numEnvs: 32, params: { rows: 22, columns: 41, ballDrift: 0.2 } });
    const previous = new Int32Array(32);
    let moves = 0;
    let chances = 0;
    const track = catchPolicy(22, 41, 'track');
    runEpisodes(env, 300, (obs, _first, t, i) => {
      const column = catchBall(obs, 22, 41).column;
      // A drift into a wall is clipped away, so only count steps that started away from the walls.
      if (t > 0 && previous[i]! > 0 && previous[i]! < 40) {
        chances++;
        if (column !== previous[i]) moves++;
        assert.ok(Math.abs(column - previous[i]!) <= 1);
      }
      previous[i] = column;
      return track(obs);
    });
    const rate = moves / chances;
    assert.ok(Math.abs(rate - 0.2) < 0.03, `drift rate ${rate} over ${chances} steps`);
  });

  it('tracking under drift wins less than always and more than staying', () => {
    const env = makeEnv('Catch-v0', { numEnvs: 32, level: 4, ladder: 'v1' });
    const { rows, columns, ballDrift } = env.params as Record<string, number>;
    assert.equal(ballDrift, 0.1);
    const tracked = mean(runEpisodes(env, 2000, catchPolicy(rows!, columns!, 'track')).map((e) => e.return));
    assert.ok(tracked < 0.99 && tracked > 0.5, `tracked mean ${tracked}`);
  });

  it('rejects boards where the paddle cannot reach every ball', () => {
    assert.throws(
      () => makeEnv('Catch-v0', { params: { rows: 3, columns: 9 } }),
      (error: unknown) => error instanceof InvalidValueError && error.path === 'env.params.rows',
    );
    assert.doesNotThrow(() => makeEnv('Catch-v0', { params: { rows: 5, columns: 9 } }));
  });

  it('ladders resolve as documented: v2 keeps the board and adds reward noise, v1 grows the board', () => {
    assert.deepEqual(
      levelParams('Catch-v0').map(({ rows, columns, ballDrift, rewardNoise }) => [rows, columns, ballDrift, rewardNoise]),
      [
        [10, 5, 0, 0],
        [10, 5, 0, 0.25],
        [10, 5, 0, 0.5],
        [10, 5, 0, 1],
        [10, 5, 0, 2],
      ],
    );
    assert.deepEqual(
      levelParams('Catch-v0', 'v1').map(({ rows, columns, ballDrift }) => [rows, columns, ballDrift]),
      [
        [10, 5, 0],
        [15, 7, 0],
        [20, 9, 0],
        [25, 11, 0.05],
        [30, 13, 0.1],
      ],
    );
    assert.equal(makeEnv('Catch-v0', { level: 4, ladder: 'v1' }).obsSize, 30 * 13);
  });
});

/** The (row, column) of DeepSea's one-hot observation, or null for the all-zero terminal observation. */
function deepSeaCell(obs: Float32Array, size: number): { row: number; column: number } | null {
  const k = obs.indexOf(1);
  return k < 0 ? null : { row: Math.floor(k / size), column: k % size };
}

describe('DeepSea-v0', () => {
  const size = 10;
  const mapping = deepSeaActionMapping(size, 0);

  it('the action map is fixed by mappingSeed, mixed, and differs across mapping seeds', () => {
    assert.deepEqual(deepSeaActionMapping(size, 0), mapping);
    const ones = mapping.reduce((a, b) => a + b, 0);
    assert.ok(ones > 20 && ones < 80, `ones: ${ones}`);
    assert.notDeepEqual(deepSeaActionMapping(size, 1), mapping);
  });

  it('starts one-hot in the top-left cell of an N × N grid', () => {
    const env = makeEnv('DeepSea-v0', { numEnvs: 2, params: { size: 6 } });
    assert.equal(env.obsSize, 36);
    const obs = env.reset(0);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(deepSeaCell(obs.subarray(i * 36, (i + 1) * 36), 6), { row: 0, column: 0 });
      assert.equal(obs.subarray(i * 36, (i + 1) * 36).reduce((a, b) => a + b, 0), 1);
    }
  });

  it('the optimal action sequence (from the map) earns 1 - moveCost in exactly N steps, for any env seed', () => {
    for (const seed of [0, 1, 2]) {
      const env = makeEnv('DeepSea-v0', { numEnvs: 4 });
      const episodes = runEpisodes(env, 12, (_obs, _first, t) => mapping[t * size + t]!, seed);
      for (const episode of episodes) {
        assert.ok(Math.abs(episode.return - 0.99) < 1e-12, `return ${episode.return}`);
        assert.equal(episode.length, size);
        assert.ok(Math.abs(episode.finalReward - (1 - 0.01 / size)) < 1e-12);
      }
    }
  });

  it("always 'left' (from the map at the observed cell) earns exactly 0; a constant raw action misses the +1", () => {
    const env = makeEnv('DeepSea-v0', { numEnvs: 4 });
    const left = runEpisodes(env, 12, (obs) => {
      const cell = deepSeaCell(obs, size)!;
      assert.equal(cell.column, 0);
      return 1 - mapping[cell.row * size + cell.column]!;
    });
    for (const episode of left) assert.equal(episode.return, 0);
    for (const action of [0, 1]) {
      const constant = runEpisodes(env, 4, () => action);
      for (const episode of constant) assert.ok(episode.return <= 0, `constant ${action}: ${episode.return}`);
    }
  });

  it("observations follow the moves: 'right' goes down-right, 'left' down-left (clipped), terminal obs is all zeros", () => {
    const env = makeEnv('DeepSea-v0', { numEnvs: 1 });
    env.reset(0);
    let row = 0;
    let column = 0;
    const rng = new Rng('moves');
    for (let t = 0; t < size; t++) {
      const goRight = rng.uniform() < 0.5;
      const action = goRight ? mapping[row * size + column]! : 1 - mapping[row * size + column]!;
      const result = env.step([action]);
      column = goRight ? Math.min(column + 1, size - 1) : Math.max(column - 1, 0);
      row += 1;
      if (row < size) {
        assert.deepEqual(deepSeaCell(result.obs, size), { row, column });
      } else {
        assert.equal(result.terminated[0], 1);
        assert.equal(result.finalObs.reduce((a, b) => a + b, 0), 0);
        assert.deepEqual(deepSeaCell(result.obs, size), { row: 0, column: 0 });
      }
    }
  });

  it("slip makes 'right' fail at about the set rate; rewardNoise adds unit-variance noise at the end cells", () => {
    const slipping = makeEnv('DeepSea-v0', { numEnvs: 32, params: { slip: 0.3 } });
    let rights = 0;
    let stays = 0;
    const lastColumn = new Int32Array(32);
    runEpisodes(slipping, 400, (obs, _first, t, i) => {
      const cell = deepSeaCell(obs, size)!;
      if (t > 0) {
        rights++;
        if (cell.column === lastColumn[i]) stays++;
      }
      lastColumn[i] = cell.column;
      return mapping[cell.row * size + cell.column]!;
    });
    const rate = stays / rights;
    assert.ok(Math.abs(rate - 0.3) < 0.03, `slip rate ${rate}`);

    const noisy = makeEnv('DeepSea-v0', { numEnvs: 32, params: { rewardNoise: 1 } });
    const returns = runEpisodes(noisy, 3000, (obs) => {
      const cell = deepSeaCell(obs, size)!;
      return 1 - mapping[cell.row * size + cell.column]!;
    }).map((e) => e.return);
    const m = mean(returns);
    const sd = Math.sqrt(mean(returns.map((r) => (r - m) ** 2)));
    assert.ok(Math.abs(m) < 0.08, `mean ${m}`);
    assert.ok(Math.abs(sd - 1) < 0.06, `sd ${sd}`);
  });

  it('ladders resolve as documented: v2 keeps the grid and adds slip and reward noise, v1 grows the grid', () => {
    assert.deepEqual(
      levelParams('DeepSea-v0').map(({ size: n, slip, rewardNoise }) => [n, slip, rewardNoise]),
      [
        [10, 0, 0],
        [10, 0.05, 0.5],
        [10, 0.1, 1],
        [10, 0.15, 1.5],
        [10, 0.2, 2],
      ],
    );
    assert.deepEqual(
      levelParams('DeepSea-v0', 'v1').map(({ size: n, slip, rewardNoise }) => [n, slip, rewardNoise]),
      [
        [10, 0, 0],
        [12, 0, 0],
        [14, 0, 0],
        [16, 1 / 16, 1],
        [20, 1 / 20, 1],
      ],
    );
    assert.equal(makeEnv('DeepSea-v0', { level: 4, ladder: 'v1' }).obsSize, 400);
  });
});

describe('MemoryChain-v0', () => {
  /** Answers the queried context bit from the first observation; `wrong` answers the other bit. */
  const recall = (wrong: boolean) => (obs: Float32Array, first: Float32Array) => {
    if (obs[0] !== 0) return 0;
    const query = obs[1]!;
    const bit = first[2 + query]! > 0 ? 1 : 0;
    return wrong ? 1 - bit : bit;
  };

  it('observation is [time remaining, query, context ±1] sized numBits + 2', () => {
    const env = makeEnv('MemoryChain-v0', { numEnvs: 1, params: { memoryLength: 4, numBits: 3 } });
    assert.equal(env.obsSize, 5);
    const first = Float32Array.from(env.reset(2));
    assert.equal(first[0], 1);
    assert.equal(first[1], 0);
    for (const bit of first.subarray(2)) assert.ok(bit === 1 || bit === -1);
    for (let t = 1; t <= 4; t++) {
      const { obs, rewards, terminated } = env.step([0]);
      assert.equal(rewards[0], 0);
      assert.equal(terminated[0], 0);
      assert.equal(obs[0], 1 - t / 4);
      assert.deepEqual(Array.from(obs.subarray(2)), [0, 0, 0], 'context only at t = 0');
      if (t < 4) assert.equal(obs[1], 0, 'query only on the last observation');
      else assert.ok(obs[1]! >= 0 && obs[1]! <= 2 && Number.isInteger(obs[1]));
    }
    const last = env.step([0]);
    assert.equal(last.terminated[0], 1);
    assert.ok(last.rewards[0] === 1 || last.rewards[0] === -1);
    assert.deepEqual(Array.from(last.finalObs), [0, 0, 0, 0, 0]);
  });

  it('answering the remembered bit earns +1, the other bit -1, after memoryLength + 1 steps', () => {
    for (const level of [0, 2, 4]) {
      const env = makeEnv('MemoryChain-v0', { numEnvs: 8, level });
      const { memoryLength } = env.params as Record<string, number>;
      for (const episode of runEpisodes(env, 80, recall(false))) {
        assert.equal(episode.return, 1);
        assert.equal(episode.length, memoryLength! + 1);
      }
      for (const episode of runEpisodes(env, 80, recall(true))) assert.equal(episode.return, -1);
    }
  });

  it('queries every bit and draws both bit values', () => {
    const env = makeEnv('MemoryChain-v0', { numEnvs: 16, params: { memoryLength: 1, numBits: 4 } });
    const queries = new Set<number>();
    const returns: number[] = [];
    runEpisodes(env, 400, (obs) => {
      if (obs[0] === 0) queries.add(obs[1]!);
      return 0;
    }).forEach((e) => returns.push(e.return));
    assert.deepEqual([...queries].sort(), [0, 1, 2, 3]);
    assert.ok(Math.abs(mean(returns)) < 0.2, 'a constant answer is right half the time');
  });

  it('ladders resolve as documented: v2 keeps one bit, v1 adds bits', () => {
    assert.deepEqual(
      levelParams('MemoryChain-v0').map(({ memoryLength, numBits }) => [memoryLength, numBits]),
      [
        [5, 1],
        [10, 1],
        [20, 1],
        [30, 1],
        [50, 1],
      ],
    );
    assert.deepEqual(
      levelParams('MemoryChain-v0', 'v1').map(({ memoryLength, numBits }) => [memoryLength, numBits]),
      [
        [5, 1],
        [10, 1],
        [20, 2],
        [30, 3],
        [50, 4],
      ],
    );
    assert.equal(makeEnv('MemoryChain-v0', { level: 4 }).maxEpisodeSteps, 51);
  });
});

describe('UmbrellaChain-v0', () => {
  const umbrella = (wrong: boolean) => (obs: Float32Array, _first: Float32Array, t: number) =>
    t === 0 ? (wrong ? 1 - obs[0]! : obs[0]!) : 0;

  it('observation is [need, has, time remaining, distractors...]; the first action sets has-umbrella', () => {
    const env = makeEnv('UmbrellaChain-v0', { numEnvs: 64, params: { chainLength: 4, numDistractors: 6 } });
    assert.equal(env.obsSize, 9);
    const obs0 = Float32Array.from(env.reset(5));
    const actions = Array.from({ length: 64 }, (_, i) => i % 2);
    const { obs } = env.step(actions);
    let hasAtStart = 0;
    let distractorOnes = 0;
    for (let i = 0; i < 64; i++) {
      assert.equal(obs0[i * 9 + 2], 1);
      hasAtStart += obs0[i * 9 + 1]!;
      assert.equal(obs[i * 9], obs0[i * 9], 'need umbrella is fixed');
      assert.equal(obs[i * 9 + 1], i % 2, 'has umbrella = first action');
      assert.equal(obs[i * 9 + 2], 0.75);
      for (let k = 3; k < 9; k++) distractorOnes += obs[i * 9 + k]!;
    }
    assert.ok(hasAtStart > 10 && hasAtStart < 54, 'has umbrella starts random');
    assert.ok(distractorOnes > 140 && distractorOnes < 244, `distractor ones: ${distractorOnes}`);
    const later = env.step(actions.map((a) => 1 - a));
    for (let i = 0; i < 64; i++) assert.equal(later.obs[i * 9 + 1], i % 2, 'later actions have no effect');
  });

  it('taking the umbrella exactly when needed earns the final +1; the wrong choice -1; other steps pay ±1 coin flips', () => {
    for (const level of [0, 2, 4]) {
      const env = makeEnv('UmbrellaChain-v0', { numEnvs: 16, level });
      const { chainLength } = env.params as Record<string, number>;
      const right = runEpisodes(env, 200, umbrella(false));
      for (const episode of right) {
        assert.equal(episode.finalReward, 1);
        assert.equal(episode.length, chainLength);
      }
      for (const episode of runEpisodes(env, 200, umbrella(true))) assert.equal(episode.finalReward, -1);
      // The distractor part of the return: chainLength - 1 independent ±1 rewards, mean 0, variance chainLength - 1.
      const distractors = right.map((e) => e.return - e.finalReward);
      for (const d of distractors) assert.equal(Math.abs(d) % 2, (chainLength! - 1) % 2);
      const m = mean(distractors);
      const variance = mean(distractors.map((d) => (d - m) ** 2));
      assert.ok(Math.abs(m) < 4 * Math.sqrt((chainLength! - 1 || 1) / 200), `level ${level}: mean ${m}`);
      if (chainLength! > 1) assert.ok(Math.abs(variance / (chainLength! - 1) - 1) < 0.35, `level ${level}: var ${variance}`);
    }
  });

  it('ladders resolve as documented: v2 keeps the distractors, v1 adds more', () => {
    assert.deepEqual(
      levelParams('UmbrellaChain-v0').map(({ chainLength, numDistractors }) => [chainLength, numDistractors]),
      [
        [5, 20],
        [10, 20],
        [20, 20],
        [30, 20],
        [50, 20],
      ],
    );
    assert.deepEqual(
      levelParams('UmbrellaChain-v0', 'v1').map(({ chainLength, numDistractors }) => [chainLength, numDistractors]),
      [
        [5, 20],
        [10, 20],
        [20, 30],
        [30, 40],
        [50, 50],
      ],
    );
    assert.equal(makeEnv('UmbrellaChain-v0', { level: 4, ladder: 'v1' }).obsSize, 53);
    assert.equal(makeEnv('UmbrellaChain-v0', { level: 4 }).obsSize, 23);
  });
});
