/**
 * # QuadraticBandit-v0
 *
 * A one-step continuous bandit with a quadratic reward: the calibration env for B_noise. The observation never
 * changes and the expected reward of a Gaussian policy is a quadratic in its mean, so the policy gradient G, its
 * covariance Σ AND the Hessian H of the objective have closed forms (Gaussian moments; see
 * test/monitor/quadratic-bandit.test.ts), with H anisotropic by design.
 *
 * | obs | meaning                   | range  |
 * |-----|---------------------------|--------|
 * | 0   | constant input, always 1  | [0, 1] |
 *
 * - Actions: `Box(-100, 100, (dims,))`, bounds wide enough never to clip in practice.
 * - Reward: `−Σ_j c_j (a_j − target)² + noiseStd · N(0, 1)` with `c_j = curvatureRatio^(j/(dims−1))` (c_0 = 1,
 *   c_{dims−1} = curvatureRatio; c_0 = 1 when dims = 1), see `quadraticCurvatures`.
 * - Start: the observation `[1]` (there is no state).
 * - Episode end: terminated after every step; time limit 1.
 * - Params: `dims`, `curvatureRatio`, `target`, `noiseStd`.
 * - Difficulty ladder: more reward noise and more ill-conditioning. For a Gaussian policy N(μ, σ²) the expected
 *   reward is −Σ_j c_j((μ_j − target)² + σ_j²), whose Hessian in μ is 2·diag(c): `curvatureRatio` is its condition
 *   number. Reward noise adds σ_noise²·E|∇log π|² to tr(Σ) and nothing to G (B_simple and B_noise up); a larger
 *   condition number makes the stiff directions dominate both the signal and the noise, so B_noise and B_simple
 *   drift apart (H ∝ I only at curvatureRatio = 1). Levels: (noiseStd, curvatureRatio) = (0, 10), (1, 10),
 *   (1, 100), (4, 100), (4, 1000).
 * - Version history: v0.
 */
import { defineEnv, ladderKeptFromV1 } from '../../src/core/env-spec.js';
import { Box } from '../../src/core/spaces.js';
import { ArrayEnv } from '../../src/core/vector-env.js';

export interface QuadraticBanditParams {
  [key: string]: number;
  dims: number;
  curvatureRatio: number;
  target: number;
  noiseStd: number;
}

/** Action bound (both sides) of every dimension. */
export const QUADRATIC_BANDIT_BOUND = 100;

/** The curvatures c_j = curvatureRatio^(j/(dims−1)) of the reward's quadratic terms. */
export function quadraticCurvatures(params: Pick<Readonly<QuadraticBanditParams>, 'dims' | 'curvatureRatio'>): number[] {
  const { dims, curvatureRatio } = params;
  return Array.from({ length: dims }, (_, j) => (dims > 1 ? curvatureRatio ** (j / (dims - 1)) : 1));
}

class QuadraticBandit extends ArrayEnv<QuadraticBanditParams> {
  private readonly curvatures: Float64Array;

  constructor(numEnvs: number, params: Readonly<QuadraticBanditParams>, maxEpisodeSteps: number) {
    super({
      id: 'QuadraticBandit-v0',
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [1]),
      actionSpace: new Box(-QUADRATIC_BANDIT_BOUND, QUADRATIC_BANDIT_BOUND, [params.dims]),
      maxEpisodeSteps,
    });
    this.curvatures = Float64Array.from(quadraticCurvatures(params));
  }

  protected resetEnv(i: number): void {
    this.obs[i] = 1;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { dims, target, noiseStd } = this.params;
    const c = this.curvatures;
    for (let i = 0; i < this.numEnvs; i++) {
      let reward = 0;
      for (let j = 0; j < dims; j++) {
        const a = Math.min(QUADRATIC_BANDIT_BOUND, Math.max(-QUADRATIC_BANDIT_BOUND, actions[i * dims + j]!));
        reward -= c[j]! * (a - target) ** 2;
      }
      this.rewards[i] = noiseStd > 0 ? reward + noiseStd * this.rng.normal() : reward;
      this.terminated[i] = 1;
      this.obs[i] = 1;
    }
  }
}

export const quadraticBandit = ladderKeptFromV1(
  defineEnv<QuadraticBanditParams>({
    id: 'QuadraticBandit-v0',
    summary: 'One-step continuous bandit, reward −Σ c_j (a_j − target)² + noise: closed-form G, Σ and curvature H (B_noise calibration).',
    params: {
      dims: { default: 4, min: 1, max: 1000, integer: true, doc: 'action dimensions' },
      curvatureRatio: { default: 10, min: 1, doc: 'c_{dims−1}/c_0: the condition number of the reward’s Hessian (c_j = ratio^(j/(dims−1)))' },
      target: { default: 1, min: -50, max: 50, doc: 'the optimal action in every dimension' },
      noiseStd: { default: 0, min: 0, doc: 'std of the Gaussian noise added to every reward' },
    },
    levels: [{}, { noiseStd: 1 }, { noiseStd: 1, curvatureRatio: 100 }, { noiseStd: 4, curvatureRatio: 100 }, { noiseStd: 4, curvatureRatio: 1000 }],
    ladder: 'more reward noise (0 → 4) and a worse-conditioned reward Hessian (curvatureRatio 10 → 1000): tr(Σ) up, B_noise and B_simple apart',
    maxEpisodeSteps: () => 1,
    create: (numEnvs, params, maxEpisodeSteps) => new QuadraticBandit(numEnvs, params, maxEpisodeSteps),
  }),
);
