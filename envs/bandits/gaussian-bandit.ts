/**
 * # GaussianBandit-v0
 *
 * A K-armed bandit with Gaussian rewards: every episode is one pull. The observation never changes, so the policy
 * gradient has a closed form, which makes this the calibration env for the noise monitor (see `banditArmMeans`).
 *
 * | obs | meaning                   | range  |
 * |-----|---------------------------|--------|
 * | 0   | constant input, always 1  | [0, 1] |
 *
 * - Actions: `Discrete(arms)`: pull arm a.
 * - Reward: `mean[a] + noiseStd · N(0, 1)`, with `mean[bestArm] = gap` and `mean[k] = 0` for every other arm, so
 *   `gap` is exactly the suboptimality gap of every other arm (`banditArmMeans` returns these means).
 * - Start: the observation `[1]` (there is no state).
 * - Episode end: terminated after every step (episodes last exactly one step); time limit 1.
 * - Params: `arms`, `gap`, `noiseStd`, `bestArm` (which arm is best; fixed rather than drawn from the seed so the
 *   expected reward of a policy is a closed-form function of the params alone).
 * - Difficulty ladder: the noise-to-signal ratio `noiseStd / gap` doubles at every level (1, 2, 4, 8, 16).
 *   For a softmax policy the per-sample gradient is `r·∇log π(a)`: its covariance grows with E[r²] ≈ noiseStd² while
 *   the true gradient grows with gap², so B_simple ≈ ∝ (noiseStd / gap)² should roughly quadruple per level.
 * - Version history: v0.
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface GaussianBanditParams {
  [key: string]: number;
  arms: number;
  gap: number;
  noiseStd: number;
  bestArm: number;
}

/** The expected reward of each arm: `gap` for `bestArm`, 0 for the rest. */
export function banditArmMeans(params: Pick<Readonly<GaussianBanditParams>, 'arms' | 'gap' | 'bestArm'>): number[] {
  const means = new Array<number>(params.arms).fill(0);
  means[params.bestArm] = params.gap;
  return means;
}

class GaussianBandit extends ArrayEnv<GaussianBanditParams> {
  private readonly means: Float64Array;

  constructor(numEnvs: number, params: Readonly<GaussianBanditParams>, maxEpisodeSteps: number) {
    super({
      id: 'GaussianBandit-v0',
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [1]),
      actionSpace: new Discrete(params.arms),
      maxEpisodeSteps,
    });
    this.means = Float64Array.from(banditArmMeans(params));
  }

  protected resetEnv(i: number): void {
    this.obs[i] = 1;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const means = this.means;
    const noiseStd = this.params.noiseStd;
    const rewards = this.rewards;
    const terminated = this.terminated;
    const obs = this.obs;
    const rng = this.rng;
    for (let i = 0; i < this.numEnvs; i++) {
      const mean = means[actions[i]!]!;
      rewards[i] = noiseStd > 0 ? mean + noiseStd * rng.normal() : mean;
      terminated[i] = 1;
      obs[i] = 1;
    }
  }
}

export const gaussianBandit = ladderKeptFromV1(
  defineEnv<GaussianBanditParams>({
    id: 'GaussianBandit-v0',
    summary: 'One-step K-armed bandit with Gaussian rewards and a constant observation (closed-form gradient noise).',
    params: {
      arms: { default: 10, min: 2, max: 1000, integer: true, doc: 'number of arms (actions)' },
      gap: { default: 1, min: 0, doc: 'mean reward of the best arm; every other arm has mean 0' },
      noiseStd: { default: 1, min: 0, doc: 'std of the Gaussian noise added to every reward' },
      bestArm: { default: 0, min: 0, integer: true, doc: 'index of the arm with mean `gap` (must be < arms)' },
    },
    levels: [{}, { gap: 0.5 }, { gap: 0.5, noiseStd: 2 }, { gap: 0.25, noiseStd: 2 }, { gap: 0.25, noiseStd: 4 }],
    ladder: 'noiseStd / gap doubles per level (1, 2, 4, 8, 16): reward noise swamps the arm gap, B_simple ∝ (noiseStd/gap)²',
    maxEpisodeSteps: () => 1,
    validate(params) {
      if (params.bestArm >= params.arms) {
        throw new InvalidValueError('env.params.bestArm', params.bestArm, `bestArm must be less than arms (${params.arms})`);
      }
    },
    create: (numEnvs, params, maxEpisodeSteps) => new GaussianBandit(numEnvs, params, maxEpisodeSteps),
  }),
);
