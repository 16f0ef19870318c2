/** Config wrappers (reward noise/scale, obs noise, sticky actions) and the output check around user envs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../src/run/registry.js';
import { EnvFaultError, InvalidActionError } from '../../src/core/errors.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';
import { applyWrappers, checkEnvOutputs, wrapperSchema, type WrapperConfig } from '../../src/core/wrappers.js';

const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: ArrayLike<number>) => {
  const m = mean(xs);
  return Math.sqrt(Array.from(xs).reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/** A noiseless bandit: arm 0 pays exactly 1, every other arm exactly 0, and every step ends an episode. */
function cleanBandit(numEnvs: number, wrappers: WrapperConfig[]) {
  return makeEnv('GaussianBandit-v0', { numEnvs, params: { arms: 2, gap: 1, noiseStd: 0, bestArm: 0 }, wrappers });
}

/** Rewards from `steps` steps of pulling arm 0 in every env, plus the returns the env's episode statistics report. */
function pullBest(numEnvs: number, steps: number, wrappers: WrapperConfig[], seed = 3) {
  const env = cleanBandit(numEnvs, wrappers);
  env.reset(seed);
  const rewards: number[] = [];
  const returns: number[] = [];
  const actions = new Int32Array(numEnvs);
  for (let s = 0; s < steps; s++) {
    rewards.push(...env.step(actions).rewards);
    returns.push(...env.drainEpisodes().map((e) => e.return));
  }
  return { rewards, returns };
}

describe('wrappers', () => {
  it('rewardScale multiplies every reward and leaves episode statistics unscaled', () => {
    const wrappers: WrapperConfig[] = [{ type: 'rewardScale', scale: -2.5 }];
    const env = makeEnv('GaussianBandit-v0', { numEnvs: 64, params: { noiseStd: 1 }, wrappers });
    const clean = makeEnv('GaussianBandit-v0', { numEnvs: 64, params: { noiseStd: 1 } });
    env.reset(7);
    clean.reset(7);
    const actions = Int32Array.from({ length: 64 }, (_, i) => i % 10);
    for (let s = 0; s < 5; s++) {
      const scaled = Array.from(env.step(actions).rewards);
      const base = Array.from(clean.step(actions).rewards);
      for (let i = 0; i < 64; i++) assert.ok(Math.abs(scaled[i]! - -2.5 * base[i]!) < 1e-12);
      const returns = env.drainEpisodes().map((e) => e.return);
      assert.deepEqual(returns, base);
      clean.drainEpisodes();
    }
  });

  it('rewardNoise adds zero-mean noise of the set std, while episode returns stay clean', () => {
    const { rewards, returns } = pullBest(500, 10, [{ type: 'rewardNoise', std: 0.7 }]);
    const n = rewards.length;
    assert.ok(Math.abs(mean(rewards) - 1) < 4 * (0.7 / Math.sqrt(n)), `mean ${mean(rewards)}`);
    assert.ok(Math.abs(std(rewards) - 0.7) < 4 * 0.7 * Math.sqrt(1 / (2 * (n - 1))), `std ${std(rewards)}`);
    assert.equal(returns.length, n);
    for (const r of returns) assert.equal(r, 1);
  });

  it('rewardNoise is reproducible for a seed', () => {
    const a = pullBest(4, 3, [{ type: 'rewardNoise', std: 1 }], 5).rewards;
    const b = pullBest(4, 3, [{ type: 'rewardNoise', std: 1 }], 5).rewards;
    const c = pullBest(4, 3, [{ type: 'rewardNoise', std: 1 }], 6).rewards;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('obsNoise perturbs observations (reset, step and finalObs) with the set std and independent draws', () => {
    const env = cleanBandit(2000, [{ type: 'obsNoise', std: 0.3 }]);
    const first = Array.from(env.reset(1), (x) => x - 1);
    assert.ok(Math.abs(std(first) - 0.3) < 0.03, `reset std ${std(first)}`);
    const result = env.step(new Int32Array(2000));
    // The bandit's observation is exactly 1 and every step ends an episode, so every finalObs is meaningful.
    const obsNoise = Array.from(result.obs, (x) => x - 1);
    const finalNoise = Array.from(result.finalObs, (x) => x - 1);
    for (const noise of [obsNoise, finalNoise]) {
      assert.ok(Math.abs(mean(noise)) < 0.03);
      assert.ok(Math.abs(std(noise) - 0.3) < 0.03, `std ${std(noise)}`);
    }
    const difference = obsNoise.map((x, i) => x - finalNoise[i]!);
    assert.ok(Math.abs(std(difference) - 0.3 * Math.SQRT2) < 0.04, 'obs and finalObs get separate noise');
    assert.ok(first.some((x, i) => x !== obsNoise[i]));
  });

  it('obsNoise writes its own buffer and leaves the wrapped env observation clean', () => {
    const inner = makeEnv('Catch-v0', { numEnvs: 3 });
    const env = applyWrappers(inner, [{ type: 'obsNoise', std: 0.5 }]);
    const noisy = env.reset(2);
    const clean = inner.reset(2);
    assert.ok(clean.every((x) => x === 0 || x === 1), 'the wrapped env keeps its own clean buffer');
    assert.notDeepEqual(Array.from(noisy), Array.from(clean));
  });

  it('stickyActions repeats the previous executed action with about the set probability, never at an episode start', () => {
    // Catch on a wide board: the paddle's move reveals the executed action. Each step asks for the opposite of the
    // action executed last, so an executed action equal to the last one means the wrapper repeated it.
    const rows = 22;
    const columns = 41;
    const numEnvs = 64;
    const prob = 0.25;
    const env = makeEnv('Catch-v0', { numEnvs, params: { rows, columns }, wrappers: [{ type: 'stickyActions', prob }] });
    const paddle = (obs: Float32Array, i: number) => {
      const base = i * rows * columns + (rows - 1) * columns;
      for (let c = 0; c < columns; c++) if (obs[base + c] === 1) return c;
      throw new Error('no paddle');
    };
    let obs = Float32Array.from(env.reset(8));
    const lastExecuted = new Int32Array(numEnvs).fill(-1);
    const requested = new Int32Array(numEnvs);
    let repeats = 0;
    let chances = 0;
    for (let step = 0; step < 5 * (rows - 1); step++) {
      for (let i = 0; i < numEnvs; i++) {
        // At an episode start ask for 'left' (0) or 'right' (2) alternately by env.
        requested[i] = lastExecuted[i] === -1 ? (i % 2 === 0 ? 0 : 2) : 2 - lastExecuted[i]!;
      }
      const before = Array.from({ length: numEnvs }, (_, i) => paddle(obs, i));
      const result = env.step(requested);
      for (let i = 0; i < numEnvs; i++) {
        if (result.terminated[i]) {
          lastExecuted[i] = -1;
          continue;
        }
        const executed = paddle(result.obs, i) - before[i]! + 1;
        if (lastExecuted[i] === -1) {
          assert.equal(executed, requested[i], 'the first action of an episode is never sticky');
        } else {
          chances++;
          if (executed !== requested[i]) {
            assert.equal(executed, lastExecuted[i]);
            repeats++;
          }
        }
        lastExecuted[i] = executed;
      }
      obs = Float32Array.from(result.obs);
    }
    const rate = repeats / chances;
    assert.ok(Math.abs(rate - prob) < 4 * Math.sqrt((prob * (1 - prob)) / chances), `sticky rate ${rate} over ${chances}`);
  });

  it('stickyActions with prob 0 passes actions through unchanged', () => {
    const env = cleanBandit(4, [{ type: 'stickyActions', prob: 0 }]);
    env.reset(0);
    assert.deepEqual(Array.from(env.step([0, 1, 0, 1]).rewards), [1, 0, 1, 0]);
    assert.deepEqual(Array.from(env.step([1, 0, 1, 0]).rewards), [0, 1, 0, 1]);
  });

  it('applies a config list in order, first listed innermost', () => {
    // Noise then scale: the noise is scaled too (std 3 × 0.5). Scale then noise: it is not (std 0.5).
    const noiseThenScale = pullBest(2000, 2, [
      { type: 'rewardNoise', std: 0.5 },
      { type: 'rewardScale', scale: 3 },
    ]).rewards;
    const scaleThenNoise = pullBest(2000, 2, [
      { type: 'rewardScale', scale: 3 },
      { type: 'rewardNoise', std: 0.5 },
    ]).rewards;
    assert.ok(Math.abs(mean(noiseThenScale) - 3) < 0.1);
    assert.ok(Math.abs(mean(scaleThenNoise) - 3) < 0.05);
    assert.ok(Math.abs(std(noiseThenScale) - 1.5) < 0.08, `noise→scale std ${std(noiseThenScale)}`);
    assert.ok(Math.abs(std(scaleThenNoise) - 0.5) < 0.03, `scale→noise std ${std(scaleThenNoise)}`);
  });

  it('validates wrapper configs', () => {
    assert.equal(wrapperSchema.safeParse({ type: 'rewardNoise', std: -1 }).success, false);
    assert.equal(wrapperSchema.safeParse({ type: 'stickyActions', prob: 1.5 }).success, false);
    assert.equal(wrapperSchema.safeParse({ type: 'rewardScale', scale: 2, extra: 1 }).success, false);
    assert.equal(wrapperSchema.safeParse({ type: 'obsNoise', std: 0.1 }).success, true);
  });
});

/** A user-style struct-of-arrays env whose outputs turn bad at step `badAt`, in the way `fault` says. */
class FaultyEnv extends ArrayEnv {
  private t = 0;
  constructor(
    numEnvs: number,
    private readonly fault: 'nanReward' | 'infObs' | 'throw',
    private readonly badAt: number,
  ) {
    super({ id: 'Faulty-v0', numEnvs, params: {}, observationSpace: new Box(-1, 1, [2]), actionSpace: new Discrete(2), maxEpisodeSteps: 1000 });
  }
  protected resetEnv(i: number): void {
    this.obs[i * 2] = 0;
    this.obs[i * 2 + 1] = 0;
  }
  protected stepEnvs(): void {
    this.t++;
    for (let i = 0; i < this.numEnvs; i++) {
      this.rewards[i] = this.t >= this.badAt && this.fault === 'nanReward' && i === 1 ? NaN : 1;
      this.obs[i * 2 + 1] = this.t >= this.badAt && this.fault === 'infObs' && i === 2 ? -Infinity : 0.5;
    }
    if (this.t >= this.badAt && this.fault === 'throw') throw new RangeError('index out of range in my physics');
  }
}

function faultOf(run: () => void): EnvFaultError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof EnvFaultError, String(error));
    return error;
  }
  assert.fail('expected an EnvFaultError');
}

describe('checkEnvOutputs: the boundary to a user env', () => {
  const stepUntilFault = (env: ReturnType<typeof checkEnvOutputs>) => () => {
    env.reset(1);
    for (let s = 0; s < 10; s++) env.step(new Int32Array(env.numEnvs));
  };

  it('names the env, the step, the copy and the bad reward or observation', () => {
    let fault = faultOf(stepUntilFault(checkEnvOutputs(new FaultyEnv(3, 'nanReward', 4))));
    assert.equal(fault.message, 'Faulty-v0: step 4, copy 1: reward is not a finite number (got NaN)');
    assert.equal(fault.step, 4);
    fault = faultOf(stepUntilFault(checkEnvOutputs(new FaultyEnv(3, 'infObs', 2))));
    assert.equal(fault.message, 'Faulty-v0: step 2, copy 2: observation[1] is not a finite number (got -Infinity)');
  });

  it('turns a throw inside the env into one line naming the env and the step', () => {
    const fault = faultOf(stepUntilFault(checkEnvOutputs(new FaultyEnv(2, 'throw', 3))));
    assert.equal(fault.message, 'Faulty-v0: step 3: step() threw RangeError: index out of range in my physics');
    assert.ok(!fault.message.includes('\n'));
  });

  it('passes good steps through unchanged, and our own typed errors too', () => {
    const env = checkEnvOutputs(new FaultyEnv(2, 'nanReward', 1000));
    env.reset(1);
    const result = env.step([0, 1]);
    assert.deepEqual(Array.from(result.rewards), [1, 1]);
    assert.throws(() => env.step([0, 7]), InvalidActionError);
  });
});
