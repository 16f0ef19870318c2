/**
 * Difficulty ladders v2 (the default) and the named round-one ladders (`env.ladder: "v1"`): every built-in keeps its
 * observation and action spaces (so the network) across the default ladder, every level moves a param, `v1` selects
 * the round-one levels, and observed reward noise leaves the task itself (its dynamics and its episode returns)
 * exactly as it was while the rewards the agent sees spread by the set std.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultLadderName, ladderNames, NUM_LEVELS } from '../../src/core/env-spec.js';
import { InputError, UnknownIdError } from '../../src/core/errors.js';
import { describeLevels, envIds, getEnvSpec, makeEnv } from '../../src/run/registry.js';
import { rolloutStats } from '../../src/run/rollout.js';
import { Rng } from '../../src/core/rng.js';

/** Built-ins whose round-one ladder changed the observation size (and so the network). */
const V1_CHANGES_OBS = new Set(['Catch-v0', 'DeepSea-v0', 'MemoryChain-v0', 'UmbrellaChain-v0']);
/** Built-ins whose v2 ladder is observed reward noise on top of the standard task. */
const OBSERVED_NOISE = ['CartPole-v1', 'Acrobot-v1', 'Pendulum-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Catch-v0'];

const builtins = () => envIds().filter((id) => getEnvSpec(id).ladderName !== undefined);

describe('difficulty ladders v2', () => {
  it('every built-in has a default ladder named v2 and a v1 ladder', () => {
    assert.ok(builtins().length === 16, `built-ins with named ladders: ${builtins().join(', ')}`);
    for (const id of builtins()) {
      const spec = getEnvSpec(id);
      assert.equal(defaultLadderName(spec), 'v2', id);
      assert.deepEqual(ladderNames(spec), ['v2', 'v1'], id);
      assert.equal(spec.variants!.v1!.levels.length, NUM_LEVELS, id);
      assert.ok(spec.variants!.v1!.ladder.length > 20, `${id}: v1 has its reason`);
    }
  });

  it('v2 keeps the observation and action spaces at every level, and every level moves a param', () => {
    for (const id of builtins()) {
      const base = makeEnv(id);
      const levels = describeLevels(getEnvSpec(id));
      for (let level = 1; level < NUM_LEVELS; level++) {
        const env = makeEnv(id, { level });
        assert.deepEqual(env.observationSpace.describe(), base.observationSpace.describe(), `${id} level ${level}: observation space`);
        assert.deepEqual(env.actionSpace.describe(), base.actionSpace.describe(), `${id} level ${level}: action space`);
        assert.notDeepEqual(levels[level]!.params, levels[level - 1]!.params, `${id}: level ${level} differs from level ${level - 1}`);
      }
    }
  });

  it('v1 selects the round-one levels; the four that grew the observation are the ones v2 replaced', () => {
    for (const id of builtins()) {
      const spec = getEnvSpec(id);
      const v1 = describeLevels(spec, 'v1');
      v1.forEach(({ sets }, level) => assert.deepEqual(sets, spec.variants!.v1!.levels[level], `${id} v1 level ${level}`));
      const grows = makeEnv(id, { level: 4, ladder: 'v1' }).obsSize !== makeEnv(id, { ladder: 'v1' }).obsSize;
      assert.equal(grows, V1_CHANGES_OBS.has(id), `${id}: v1 changes the observation size`);
    }
  });

  it('an unknown ladder is refused naming env.ladder and the known names', () => {
    assert.throws(
      () => makeEnv('Catch-v0', { ladder: 'v9' }),
      (e: unknown) => e instanceof UnknownIdError && e.path === 'env.ladder' && /Known: v2, v1/.test(e.message),
    );
    assert.throws(() => rolloutStats({ envId: 'Catch-v0', ladder: 'v9', episodes: 2 }), (e: unknown) => e instanceof InputError && e.path === '--ladder' && /Known: v2, v1/.test(e.message));
  });

  for (const id of OBSERVED_NOISE) {
    it(`${id}: observed reward noise changes the rewards by its std, not the dynamics or the returns`, () => {
      const n = 8;
      const clean = makeEnv(id, { numEnvs: n });
      const noisy = makeEnv(id, { numEnvs: n, level: 4 });
      const std = noisy.params.rewardNoise as number;
      assert.ok(std > 0);
      const rng = new Rng('ladder-actions');
      const actions = new Float32Array(n * clean.actionSize);
      const cleanObs = clean.reset(3);
      const noisyObs = noisy.reset(3);
      assert.deepEqual(Array.from(noisyObs), Array.from(cleanObs));
      const diffs: number[] = [];
      for (let t = 0; t < 600; t++) {
        for (let k = 0; k < actions.length; k++) actions[k] = clean.actionSpace.type === 'Discrete' ? rng.int(clean.actionSpace.n) : rng.range(-1, 1);
        const a = clean.step(actions);
        const b = noisy.step(actions);
        assert.deepEqual(Array.from(b.obs), Array.from(a.obs), `${id} step ${t}: same observations`);
        assert.deepEqual(Array.from(b.terminated), Array.from(a.terminated), `${id} step ${t}: same ends`);
        for (let i = 0; i < n; i++) diffs.push(b.rewards[i]! - a.rewards[i]!);
      }
      assert.deepEqual(noisy.drainEpisodes(), clean.drainEpisodes(), `${id}: the recorded episodes (returns) are the task's`);
      const mean = diffs.reduce((s, d) => s + d, 0) / diffs.length;
      const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean) ** 2, 0) / (diffs.length - 1));
      assert.ok(Math.abs(mean) < (4 * std) / Math.sqrt(diffs.length), `${id}: noise mean ${mean}`);
      assert.ok(Math.abs(sd / std - 1) < 0.06, `${id}: noise std ${sd} vs ${std}`);
    });
  }
});
