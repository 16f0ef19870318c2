/**
 * Returns and advantages, and the statistics of them an update reports, in plain TypeScript (no tfjs):
 * - GAE(λ) over a fixed-length rollout (A2C, PPO). Layout: env-major, sample i = env * numSteps + t. Terminated and
 *   truncated steps are kept apart: a truncated step bootstraps from V(final observation), a terminated one does not;
 * - discounted Monte-Carlo returns of one episode (REINFORCE);
 * - advantage normalisation and explained variance.
 */

export interface AdvantageInput {
  numEnvs: number;
  numSteps: number;
  rewards: ArrayLike<number>;
  /** V(s_t) from the rollout. */
  values: ArrayLike<number>;
  terminated: ArrayLike<number>;
  truncated: ArrayLike<number>;
  /** V(final observation) at truncated steps (read only there). */
  finalValues: ArrayLike<number>;
  /** V(s) of the observation after each env's last step: the bootstrap at the end of the rollout. */
  lastValues: ArrayLike<number>;
  gamma: number;
  /** λ of GAE; 1 gives plain n-step returns (bootstrapped at the rollout's end). */
  lambda: number;
}

/**
 * Generalised advantage estimation. At an episode's end the recursion restarts: a terminated step's target is r,
 * a truncated step's is r + γ·V(final observation); at the rollout's end it is r + γ·V(next observation).
 * Writes advantages and returns (= advantages + values).
 */
export function computeGae(input: AdvantageInput, advantages: Float32Array, returns: Float32Array): void {
  const { numEnvs, numSteps, rewards, values, terminated, truncated, finalValues, lastValues, gamma, lambda } = input;
  for (let e = 0; e < numEnvs; e++) {
    let nextAdvantage = 0;
    let nextValue = lastValues[e]!;
    for (let t = numSteps - 1; t >= 0; t--) {
      const i = e * numSteps + t;
      let delta: number;
      if (terminated[i]) {
        delta = rewards[i]! - values[i]!;
        nextAdvantage = 0;
      } else if (truncated[i]) {
        delta = rewards[i]! + gamma * finalValues[i]! - values[i]!;
        nextAdvantage = 0;
      } else {
        delta = rewards[i]! + gamma * nextValue - values[i]!;
      }
      nextAdvantage = delta + gamma * lambda * nextAdvantage;
      advantages[i] = nextAdvantage;
      returns[i] = nextAdvantage + values[i]!;
      nextValue = values[i]!;
    }
  }
}

/** Discounted reward-to-go of one episode: G_t = r_t + γ G_{t+1}, with G_T = `bootstrap` (0 when terminated). */
export function discountedReturns(rewards: ArrayLike<number>, gamma: number, bootstrap = 0, out?: Float32Array): Float32Array {
  const returns = out ?? new Float32Array(rewards.length);
  let g = bootstrap;
  for (let t = rewards.length - 1; t >= 0; t--) {
    g = rewards[t]! + gamma * g;
    returns[t] = g;
  }
  return returns;
}

/** (x − mean) / (std + 1e-8) with the unbiased std, as CleanRL (torch.std). Fewer than two samples: centred only. */
export function normalizeAdvantages(values: Float32Array, out: Float32Array = values): Float32Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]!;
  mean /= Math.max(n, 1);
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (values[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(sq / (n - 1)) : 0;
  const scale = n > 1 ? 1 / (std + 1e-8) : 1;
  for (let i = 0; i < n; i++) out[i] = (values[i]! - mean) * scale;
  return out;
}

/** 1 − Var(y − ŷ)/Var(y); 0 when Var(y) = 0 or there are no samples (CleanRL gives NaN; the trainer treats any NaN stat as divergence). */
export function explainedVariance(predicted: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = target.length;
  if (n === 0) return 0;
  let meanY = 0;
  let meanD = 0;
  for (let i = 0; i < n; i++) {
    meanY += target[i]!;
    meanD += target[i]! - predicted[i]!;
  }
  meanY /= n;
  meanD /= n;
  let varY = 0;
  let varD = 0;
  for (let i = 0; i < n; i++) {
    varY += (target[i]! - meanY) ** 2;
    varD += (target[i]! - predicted[i]! - meanD) ** 2;
  }
  return varY === 0 ? 0 : 1 - varD / varY;
}
