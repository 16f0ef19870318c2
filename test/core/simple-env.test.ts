/** The simple single-env API: the RandomWalk-v0 example through the registry, and faults of user envs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinEnvs } from '../../envs/index.js';
import { EnvFaultError, InvalidValueError } from '../../src/core/errors.js';
import { fixtureEnv } from '../helpers/fixture-envs.js';
import { describeLevels, envIds, loadEnvModule, makeEnv } from '../../src/run/registry.js';
import type { VectorEnv } from '../../src/core/vector-env.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = 'envs/examples/random-walk.ts';

/** Index of the one-hot position in env i's observation. */
function position(obs: Float32Array, i: number, length: number): number {
  const slice = obs.subarray(i * length, (i + 1) * length);
  assert.equal(slice.reduce((a, b) => a + b, 0), 1, 'one-hot observation');
  return slice.indexOf(1);
}

/** Step a fixed action sequence; returns everything observed, for determinism checks. */
function trajectory(env: VectorEnv, seed: number, steps: number): number[] {
  const out: number[] = [];
  out.push(...env.reset(seed));
  for (let s = 0; s < steps; s++) {
    const actions = Array.from({ length: env.numEnvs }, (_, i) => (s + i) % 3 === 0 ? 0 : 1);
    const result = env.step(actions);
    out.push(...result.obs, ...result.rewards, ...result.terminated, ...result.truncated);
  }
  return out;
}

describe('simple single-env API: the RandomWalk-v0 example module', () => {
  it('loads through loadEnvModule and is not a built-in', async () => {
    assert.ok(!builtinEnvs.some((spec) => spec.id === 'RandomWalk-v0'));
    const spec = await loadEnvModule(EXAMPLE, repoRoot);
    assert.equal(spec.id, 'RandomWalk-v0');
    assert.ok(envIds().includes('RandomWalk-v0'));
    assert.equal(spec.levels.length, 5);
    const levels = describeLevels(spec).map(({ params }) => params.length);
    assert.deepEqual(levels, [7, 11, 15, 21, 31]);
  });

  it('steps, terminates at the ends with the right rewards, and auto-resets keeping finalObs', async () => {
    await loadEnvModule(EXAMPLE, repoRoot);
    const length = 7;
    const env = makeEnv('RandomWalk-v0', { numEnvs: 2, params: { length, slip: 0 } });
    assert.equal(env.obsSize, length);
    assert.equal(env.maxEpisodeSteps, 2 * 36);
    const obs = env.reset(0);
    assert.equal(position(obs, 0, length), 3);
    assert.equal(position(obs, 1, length), 3);
    // Env 0 always goes right (reaches cell 6 after 3 steps), env 1 always left (cell 0 after 3 steps).
    for (let s = 1; s <= 3; s++) {
      const result = env.step([1, 0]);
      if (s < 3) {
        assert.equal(position(result.obs, 0, length), 3 + s);
        assert.equal(position(result.obs, 1, length), 3 - s);
        assert.deepEqual(Array.from(result.terminated), [0, 0]);
        assert.deepEqual(Array.from(result.rewards), [0, 0]);
      } else {
        assert.deepEqual(Array.from(result.terminated), [1, 1]);
        assert.deepEqual(Array.from(result.truncated), [0, 0]);
        assert.deepEqual(Array.from(result.rewards), [1, 0]);
        assert.equal(position(result.finalObs, 0, length), 6);
        assert.equal(position(result.finalObs, 1, length), 0);
        assert.equal(position(result.obs, 0, length), 3, 'auto-reset to the middle');
        assert.equal(position(result.obs, 1, length), 3);
      }
    }
    const episodes = env.drainEpisodes();
    assert.deepEqual(
      episodes.map(({ env: i, return: r, length: n, terminated }) => [i, r, n, terminated]),
      [
        [0, 1, 3, true],
        [1, 0, 3, true],
      ],
    );
  });

  it('truncates at the time limit when the walker dawdles', async () => {
    await loadEnvModule(EXAMPLE, repoRoot);
    const env = makeEnv('RandomWalk-v0', { numEnvs: 1, params: { length: 5, slip: 0 }, maxEpisodeSteps: 4 });
    env.reset(0);
    const actions = [1, 0, 1, 0];
    let last = env.step([actions[0]!]);
    for (const a of actions.slice(1)) last = env.step([a]);
    assert.equal(last.terminated[0], 0);
    assert.equal(last.truncated[0], 1);
    assert.equal(position(last.finalObs, 0, 5), 2);
  });

  it('is deterministic for the same seed and differs for another (slip draws from the seeded stream)', async () => {
    await loadEnvModule(EXAMPLE, repoRoot);
    const make = () => makeEnv('RandomWalk-v0', { numEnvs: 4, level: 1 });
    assert.equal(make().params.slip, 0.1);
    assert.deepEqual(trajectory(make(), 42, 200), trajectory(make(), 42, 200));
    assert.notDeepEqual(trajectory(make(), 42, 200), trajectory(make(), 43, 200));
  });

  it('checks params against their bounds', async () => {
    await loadEnvModule(EXAMPLE, repoRoot);
    assert.throws(() => makeEnv('RandomWalk-v0', { params: { length: 2 } }), InvalidValueError);
    assert.throws(() => makeEnv('RandomWalk-v0', { params: { slip: 1.5 } }), InvalidValueError);
  });
});

/** A simple env whose copies return `bad` (as reward or as an observation value) from step `at` on. */
function badSimpleEnv(where: 'reward' | 'obs' | 'obsLength', bad: unknown, at = 3) {
  return fixtureEnv('BadSimple-v0', 2, (t) => {
    const late = t >= at;
    const obs = late && where === 'obs' ? [0, bad] : late && where === 'obsLength' ? [0] : [0, 0];
    return { obs: obs as number[], reward: (late && where === 'reward' ? bad : 1) as number, terminated: false };
  });
}

describe('simple single-env API: faults of the user env', () => {
  const run = (spec: ReturnType<typeof badSimpleEnv>) => () => {
    const env = spec.create(2, {}, 100);
    env.reset(1);
    for (let s = 0; s < 5; s++) env.step([0, 0]);
  };

  it('names a non-number or non-finite reward or observation as returned, with the step and copy', () => {
    assert.throws(run(badSimpleEnv('reward', 'x')), (e: unknown) => e instanceof EnvFaultError && e.message === "BadSimple-v0: step 3, copy 0: reward is not a finite number (got 'x')");
    assert.throws(run(badSimpleEnv('reward', Infinity)), /step 3, copy 0: reward is not a finite number \(got Infinity\)/);
    assert.throws(run(badSimpleEnv('obs', NaN, 4)), /BadSimple-v0: step 4, copy 0: observation\[1\] is not a finite number \(got NaN\)/);
    assert.throws(run(badSimpleEnv('obs', '0.5')), /observation\[1\] is not a finite number \(got '0\.5'\)/);
    assert.throws(run(badSimpleEnv('obsLength', null)), (e: unknown) => e instanceof EnvFaultError && /step 3, copy 0: observation has 1 values, expected 2/.test(e.message));
  });
});
