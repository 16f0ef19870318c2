import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { banditArmMeans, gaussianBandit, type GaussianBanditParams } from '../../envs/bandits/gaussian-bandit.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { describeLevels, getEnvSpec, makeEnv } from '../../src/run/registry.js';

/** Pull arm `i % arms` in env i for `steps` steps; per-arm sums of rewards and squared rewards. */
function pullEveryArm(params: Record<string, number>, pullsPerArm: number, steps: number, seed = 1) {
  const arms = params.arms!;
  const env = makeEnv('GaussianBandit-v0', { numEnvs: arms * pullsPerArm, params });
  env.reset(seed);
  const actions = Int32Array.from({ length: env.numEnvs }, (_, i) => i % arms);
  const sum = new Float64Array(arms);
  const sumSq = new Float64Array(arms);
  for (let s = 0; s < steps; s++) {
    const { rewards } = env.step(actions);
    for (let i = 0; i < env.numEnvs; i++) {
      sum[i % arms]! += rewards[i]!;
      sumSq[i % arms]! += rewards[i]! ** 2;
    }
  }
  const n = pullsPerArm * steps;
  const mean = Array.from(sum, (s) => s / n);
  const variance = Array.from(sumSq, (s, a) => (s - n * mean[a]! ** 2) / (n - 1));
  return { n, mean, variance };
}

describe('GaussianBandit-v0', () => {
  it('arm means follow the documented scheme: gap on bestArm, 0 elsewhere', () => {
    assert.deepEqual(banditArmMeans({ arms: 4, gap: 0.7, bestArm: 2 }), [0, 0, 0.7, 0]);
    const defaults = makeEnv('GaussianBandit-v0').params;
    assert.deepEqual(banditArmMeans(defaults as GaussianBanditParams), [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('per-arm reward mean and variance match banditArmMeans and noiseStd within a few standard errors', () => {
    const params = { arms: 4, gap: 0.7, noiseStd: 1.5, bestArm: 2 };
    const { n, mean, variance } = pullEveryArm(params, 1000, 5);
    const means = banditArmMeans(params);
    const meanSe = params.noiseStd / Math.sqrt(n);
    const variance0 = params.noiseStd ** 2;
    const varianceSe = variance0 * Math.sqrt(2 / (n - 1));
    for (let a = 0; a < params.arms; a++) {
      assert.ok(Math.abs(mean[a]! - means[a]!) < 4 * meanSe, `arm ${a}: mean ${mean[a]} vs ${means[a]} (se ${meanSe})`);
      assert.ok(Math.abs(variance[a]! - variance0) < 4 * varianceSe, `arm ${a}: variance ${variance[a]} vs ${variance0}`);
    }
  });

  it('noiseStd = 0 gives exactly the arm means', () => {
    const params = { arms: 3, gap: 0.25, noiseStd: 0, bestArm: 1 };
    const { mean, variance } = pullEveryArm(params, 2, 3);
    assert.deepEqual(mean, [0, 0.25, 0]);
    assert.deepEqual(variance, [0, 0, 0]);
  });

  it('every step terminates (never truncates) and the observation is exactly the constant 1', () => {
    const env = makeEnv('GaussianBandit-v0', { numEnvs: 7 });
    assert.equal(env.obsSize, 1);
    assert.equal(env.maxEpisodeSteps, 1);
    assert.equal(env.actionSpace.type, 'Discrete');
    assert.deepEqual(Array.from(env.reset(3)), new Array(7).fill(1));
    for (let s = 0; s < 20; s++) {
      const actions = Array.from({ length: 7 }, (_, i) => (i + s) % 10);
      const result = env.step(actions);
      assert.deepEqual(Array.from(result.terminated), new Array(7).fill(1));
      assert.deepEqual(Array.from(result.truncated), new Array(7).fill(0));
      assert.deepEqual(Array.from(result.obs), new Array(7).fill(1));
      assert.deepEqual(Array.from(result.finalObs), new Array(7).fill(1));
      const episodes = env.drainEpisodes();
      assert.equal(episodes.length, 7);
      for (const episode of episodes) {
        assert.equal(episode.length, 1);
        assert.equal(episode.terminated, true);
        assert.equal(episode.return, result.rewards[episode.env]);
      }
    }
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const run = (seed: number) => {
      const env = makeEnv('GaussianBandit-v0', { numEnvs: 5 });
      env.reset(seed);
      return Array.from(env.step([0, 1, 2, 3, 4]).rewards);
    };
    assert.deepEqual(run(11), run(11));
    assert.notDeepEqual(run(11), run(12));
  });

  it('rejects bestArm outside the arms', () => {
    assert.throws(
      () => makeEnv('GaussianBandit-v0', { params: { arms: 3, bestArm: 3 } }),
      (error: unknown) => error instanceof InvalidValueError && error.path === 'env.params.bestArm',
    );
    assert.throws(() => makeEnv('GaussianBandit-v0', { params: { arms: 1 } }), InvalidValueError);
  });

  it('ladder doubles noiseStd / gap at every level', () => {
    const levels = describeLevels(getEnvSpec('GaussianBandit-v0'));
    assert.equal(gaussianBandit.levels.length, 5);
    assert.deepEqual(
      levels.map(({ params }) => [params.gap, params.noiseStd]),
      [
        [1, 1],
        [0.5, 1],
        [0.5, 2],
        [0.25, 2],
        [0.25, 4],
      ],
    );
    assert.deepEqual(
      levels.map(({ params }) => (params.noiseStd as number) / (params.gap as number)),
      [1, 2, 4, 8, 16],
    );
    for (const { params } of levels) assert.equal(params.arms, 10);
  });
});
