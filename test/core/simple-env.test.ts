import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinEnvs } from '../../envs/index.js';
import { InvalidValueError } from '../../src/core/errors.js';
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
