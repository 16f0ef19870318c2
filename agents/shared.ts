/**
 * The maths every agent shares, in one place:
 * - returns and advantages in plain TypeScript (GAE, n-step, Monte-Carlo), with terminated vs truncated kept apart:
 *   a truncated step bootstraps from V(final observation), a terminated one does not;
 * - acting: sampling actions and their log-probabilities from the plain-TS forward pass, and the fixed-length
 *   rollout A2C and PPO use;
 * - policy distributions (categorical, diagonal Gaussian) and the losses, in tfjs;
 * - advantage normalisation and explained variance (plain TS);
 * - the optimizers (sgd, momentum, adam, rmsprop) over one flat parameter vector, with global grad-norm clipping;
 * - NaN/Inf detection (`DivergedError`).
 * Losses are MEANS over samples of per-sample terms, which is what the noise monitor's per-sample algebra assumes.
 */
import * as tf from '@tensorflow/tfjs';
import type { OptimizerConfig } from '../src/config/schema.js';
import { DivergedError } from '../src/core/errors.js';
import type { Rng } from '../src/core/rng.js';
import { Box } from '../src/core/spaces.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { batchValues, policyOutputs, type ActorCritic, type ForwardResult, type PlainForward } from './networks.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

// ---------------------------------------------------------------------------------------------------------------
// Returns and advantages (plain TypeScript). Layout: env-major, sample i = env * numSteps + t.

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

// ---------------------------------------------------------------------------------------------------------------
// Acting (plain TypeScript over PlainForward, no tfjs call per env step, where that is faster: `policyOutputs`).

/** Samples actions for a batch of observations from the plain-TS policy and reports their log-probabilities. */
export class Sampler {
  readonly net: ActorCritic;
  private readonly forward: PlainForward;
  private readonly rng: Rng;
  private readonly low: Float64Array | null;
  private readonly high: Float64Array | null;
  private policyOut = new Float64Array(0);

  /** Where `bounds` (a Box action space) is finite, actions sent to the env are clipped to it (CleanRL's ClipAction). */
  constructor(forward: PlainForward, rng: Rng, bounds: Box | null = null) {
    this.forward = forward;
    this.net = forward.net;
    this.rng = rng;
    this.low = bounds ? bounds.low : null;
    this.high = bounds ? bounds.high : null;
  }

  /**
   * Sample one action per observation. `actions` gets the sampled actions (what the log-prob refers to; for
   * categorical the index), `envActions` what to send to the env (clipped to finite Box bounds), `logProbs` their
   * log-probabilities.
   */
  act(obs: ArrayLike<number>, n: number, actions: Float32Array, envActions: Float32Array, logProbs: Float32Array): void {
    const dim = this.net.actionDim;
    if (this.policyOut.length < n * dim) this.policyOut = new Float64Array(n * dim);
    policyOutputs(this.forward, obs, n, this.policyOut);
    const out = this.policyOut;
    if (this.net.kind === 'categorical') {
      for (let i = 0; i < n; i++) {
        const o = i * dim;
        let max = -Infinity;
        for (let j = 0; j < dim; j++) max = Math.max(max, out[o + j]!);
        let total = 0;
        for (let j = 0; j < dim; j++) total += Math.exp(out[o + j]! - max);
        let u = this.rng.uniform() * total;
        let action = dim - 1;
        for (let j = 0; j < dim; j++) {
          u -= Math.exp(out[o + j]! - max);
          if (u < 0) {
            action = j;
            break;
          }
        }
        actions[i] = action;
        envActions[i] = action;
        logProbs[i] = out[o + action]! - max - Math.log(total);
      }
    } else {
      const logStd = this.forward.logStd;
      for (let i = 0; i < n; i++) {
        let logProb = 0;
        for (let j = 0; j < dim; j++) {
          const noise = this.rng.normal();
          const a = out[i * dim + j]! + Math.exp(logStd[j]!) * noise;
          actions[i * dim + j] = a;
          logProb += -0.5 * noise * noise - logStd[j]! - HALF_LOG_2PI;
          let clipped = a;
          if (this.low && clipped < this.low[j]!) clipped = this.low[j]!;
          if (this.high && clipped > this.high[j]!) clipped = this.high[j]!;
          envActions[i * dim + j] = clipped;
        }
        logProbs[i] = logProb;
      }
    }
  }
}

/** A fixed-length rollout of numSteps per env, env-major (sample i = env * numSteps + t). */
export interface Rollout {
  readonly numEnvs: number;
  readonly numSteps: number;
  readonly obsSize: number;
  /** Per-sample action width: 1 for Discrete (the index), the Box size otherwise. */
  readonly actionSize: number;
  readonly obs: Float32Array;
  readonly actions: Float32Array;
  readonly logProbs: Float32Array;
  readonly values: Float32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly finalValues: Float32Array;
  readonly lastValues: Float32Array;
  /** Env index per sample. */
  readonly segments: Int32Array;
  /** Episode id per sample, unique per (env, episode) within the rollout. */
  readonly episodes: Int32Array;
  readonly advantages: Float32Array;
  readonly returns: Float32Array;
}

/**
 * Steps the env with the current policy, numSteps per env, for A2C and PPO, keeping the current observation between
 * rollouts. It starts with `env.reset()` WITHOUT a seed: whoever made the env seeds it (the trainer calls
 * `env.reset(seed)` before creating the agent) and the env's stream simply continues.
 * Actions come from the plain-TS policy (tfjs for many envs on wasm: `policyOutputs`), step by step; the values GAE
 * needs (V of every observation, of the final observations of truncated episodes and of the observations after the
 * last step) are computed after the rollout in ONE batched pass of the critic (`batchValues`: tfjs on wasm, where
 * that is several times cheaper than a plain-TS critic per env step; PlainForward where it is faster).
 */
export class RolloutCollector {
  private readonly env: VectorEnv;
  private readonly forward: PlainForward;
  private readonly sampler: Sampler;
  private readonly numSteps: number;
  private readonly obs: Float32Array;
  private readonly stepActions: Float32Array;
  private readonly stepEnvActions: Float32Array;
  private readonly stepLogProbs: Float32Array;

  constructor(env: VectorEnv, forward: PlainForward, actionRng: Rng, numSteps: number) {
    this.env = env;
    this.forward = forward;
    this.numSteps = numSteps;
    this.sampler = new Sampler(forward, actionRng, env.actionSpace instanceof Box ? env.actionSpace : null);
    this.obs = Float32Array.from(env.reset());
    const n = env.numEnvs;
    this.stepActions = new Float32Array(n * env.actionSize);
    this.stepEnvActions = new Float32Array(n * env.actionSize);
    this.stepLogProbs = new Float32Array(n);
  }

  collect(): Rollout {
    const env = this.env;
    const numEnvs = env.numEnvs;
    const T = this.numSteps;
    const N = numEnvs * T;
    const obsSize = env.obsSize;
    const actionSize = env.actionSize;
    const r: Rollout = {
      numEnvs,
      numSteps: T,
      obsSize,
      actionSize,
      obs: new Float32Array(N * obsSize),
      actions: new Float32Array(N * actionSize),
      logProbs: new Float32Array(N),
      values: new Float32Array(N),
      rewards: new Float64Array(N),
      terminated: new Uint8Array(N),
      truncated: new Uint8Array(N),
      finalValues: new Float32Array(N),
      lastValues: new Float32Array(numEnvs),
      segments: new Int32Array(N),
      episodes: new Int32Array(N),
      advantages: new Float32Array(N),
      returns: new Float32Array(N),
    };
    const episodeOf = Int32Array.from({ length: numEnvs }, (_, e) => e);
    let nextEpisode = numEnvs;
    const truncatedAt: number[] = [];
    const finalObs: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      this.sampler.act(this.obs, numEnvs, this.stepActions, this.stepEnvActions, this.stepLogProbs);
      for (let e = 0; e < numEnvs; e++) {
        const i = e * T + t;
        r.obs.set(this.obs.subarray(e * obsSize, (e + 1) * obsSize), i * obsSize);
        for (let k = 0; k < actionSize; k++) r.actions[i * actionSize + k] = this.stepActions[e * actionSize + k]!;
        r.logProbs[i] = this.stepLogProbs[e]!;
        r.segments[i] = e;
        r.episodes[i] = episodeOf[e]!;
      }
      const step = env.step(this.stepEnvActions);
      for (let e = 0; e < numEnvs; e++) {
        const i = e * T + t;
        r.rewards[i] = step.rewards[e]!;
        r.terminated[i] = step.terminated[e]!;
        r.truncated[i] = step.truncated[e]!;
        if (step.truncated[e]) {
          truncatedAt.push(i);
          finalObs.push(step.finalObs.slice(e * obsSize, (e + 1) * obsSize));
        }
        if (step.terminated[e] || step.truncated[e]) episodeOf[e] = nextEpisode++;
      }
      this.obs.set(step.obs);
    }
    // Rows: the rollout's observations, the final observations of truncated episodes, the next observations.
    const rows = new Float32Array((N + truncatedAt.length + numEnvs) * obsSize);
    rows.set(r.obs);
    finalObs.forEach((o, k) => rows.set(o, (N + k) * obsSize));
    rows.set(this.obs, (N + truncatedAt.length) * obsSize);
    const values = batchValues(this.forward, rows, rows.length / obsSize);
    r.values.set(values.subarray(0, N));
    truncatedAt.forEach((i, k) => (r.finalValues[i] = values[N + k]!));
    r.lastValues.set(values.subarray(N + truncatedAt.length));
    return r;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Distributions and losses (tfjs). Each returns per-sample terms; losses are means over samples.

export interface PolicyTerms {
  /** log π(a_i|s_i), [n]. */
  logProb: tf.Tensor1D;
  /** Entropy of π(·|s_i), [n]. */
  entropy: tf.Tensor1D;
}

/** Categorical: `actionsOneHot` is [n, A]. */
export function categoricalTerms(logits: tf.Tensor2D, actionsOneHot: tf.Tensor2D): PolicyTerms {
  const logp = tf.logSoftmax(logits);
  return {
    logProb: tf.sum(tf.mul(logp, actionsOneHot), 1) as tf.Tensor1D,
    entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D,
  };
}

/** Diagonal Gaussian with log-std `logStd` ([A] or [n, A]); `actions` is [n, A]. Log-prob and entropy sum over dims. */
export function gaussianTerms(mean: tf.Tensor2D, logStd: tf.Tensor, actions: tf.Tensor2D): PolicyTerms {
  const logStdFull = tf.add(tf.zerosLike(mean), logStd) as tf.Tensor2D;
  const z = tf.mul(tf.sub(actions, mean), tf.exp(tf.neg(logStdFull)));
  const logProb = tf.neg(tf.sum(tf.add(tf.mul(tf.square(z), 0.5), tf.add(logStdFull, HALF_LOG_2PI)), 1));
  const entropy = tf.sum(tf.add(logStdFull, 0.5 + HALF_LOG_2PI), 1);
  return { logProb: logProb as tf.Tensor1D, entropy: entropy as tf.Tensor1D };
}

/** The policy's terms for a forward result (`actions`: one-hot for categorical, raw actions for Gaussian). */
export function policyTerms(net: ActorCritic, policyOut: tf.Tensor2D, logStd: tf.Tensor | undefined, actions: tf.Tensor2D): PolicyTerms {
  return net.kind === 'categorical' ? categoricalTerms(policyOut, actions) : gaussianTerms(policyOut, logStd!, actions);
}

/**
 * The loss parts of an actor-critic policy-gradient loss, from whichever paths `out` ran: −mean(A·log π), the mean
 * entropy and 0.5·mean((V − R)²). REINFORCE and A2C optimise exactly these; PPO's first step at θ_old has their gradient.
 */
export function policyGradientParts(net: ActorCritic, out: ForwardResult, data: SampleTensors): { policy?: tf.Scalar; value?: tf.Scalar; entropy?: tf.Scalar } {
  const parts: { policy?: tf.Scalar; value?: tf.Scalar; entropy?: tf.Scalar } = {};
  if (out.policy) {
    const terms = policyTerms(net, out.policy, out.logStd, data.actions);
    parts.policy = policyGradientLoss(terms.logProb, data.advantages);
    parts.entropy = tf.mean(terms.entropy) as tf.Scalar;
  }
  if (out.value) parts.value = valueLoss(out.value, data.returns);
  return parts;
}

/** −mean(A_i · log π(a_i|s_i)): the plain policy-gradient loss (REINFORCE, A2C). */
export function policyGradientLoss(logProb: tf.Tensor1D, advantages: tf.Tensor1D): tf.Scalar {
  return tf.neg(tf.mean(tf.mul(advantages, logProb))) as tf.Scalar;
}

/** PPO's clipped surrogate mean(max(−A·r, −A·clip(r, 1±c))) with r = exp(log π − log π_old); also log r. */
export function clippedSurrogateLoss(
  logProb: tf.Tensor1D,
  oldLogProb: tf.Tensor1D,
  advantages: tf.Tensor1D,
  clipCoef: number,
): { loss: tf.Scalar; logRatio: tf.Tensor1D } {
  const logRatio = tf.sub(logProb, oldLogProb) as tf.Tensor1D;
  const ratio = tf.exp(logRatio);
  const negAdv = tf.neg(advantages);
  const unclipped = tf.mul(negAdv, ratio);
  const clipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
  return { loss: tf.mean(tf.maximum(unclipped, clipped)) as tf.Scalar, logRatio };
}

/**
 * 0.5·mean((V − R)²); with `clip`, PPO's 0.5·mean(max((V − R)², (V_old + clip(V − V_old, ±c) − R)²)).
 */
export function valueLoss(values: tf.Tensor1D, returns: tf.Tensor1D, clip?: { oldValues: tf.Tensor1D; coef: number }): tf.Scalar {
  const unclipped = tf.square(tf.sub(values, returns));
  if (!clip) return tf.mul(tf.mean(unclipped), 0.5) as tf.Scalar;
  const valueClipped = tf.add(clip.oldValues, tf.clipByValue(tf.sub(values, clip.oldValues), -clip.coef, clip.coef));
  const clippedLoss = tf.square(tf.sub(valueClipped, returns));
  return tf.mul(tf.mean(tf.maximum(unclipped, clippedLoss)), 0.5) as tf.Scalar;
}

/** What PPO's loss needs besides the network outputs (constants for the gradient). */
export interface PpoLossCoefs {
  clipCoef: number;
  clipVloss: boolean;
  entCoef: number;
  vfCoef: number;
}

export interface PpoLossReadout {
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  total: number;
  /** log r per sample. */
  logRatio: Float32Array;
}

/**
 * PPO's minibatch loss — exactly `clippedSurrogateLoss − entCoef·mean(entropy) + vfCoef·valueLoss` — as ONE op with
 * a hand-derived gradient w.r.t. the network outputs (logits or means, the log-std, the values). Autodiff of the
 * composite loss records ~150 small kernels per minibatch; this is ~40, and the forward part is not taped. Tested
 * against autodiff of the composite loss (test/agents/losses.test.ts). The gradient, with g_i = −A_i·r_i where the
 * unclipped surrogate term is the active one (else 0) and k_i = 1 where the unclipped value term is (else 0):
 *   ∂L/∂logits_ij = (g_i(onehot_ij − p_ij) + entCoef·p_ij(log p_ij + H_i)) / n
 *   ∂L/∂mean_ij   = g_i z_ij / (σ_j n),   ∂L/∂logσ_j = Σ_i g_i(z_ij² − 1) / n − entCoef   (z = (a − mean)/σ)
 *   ∂L/∂V_i       = vfCoef·k_i(V_i − R_i) / n
 * `readout` receives the loss parts and log-ratios (one readback, inside the forward).
 */
export function ppoFusedLoss(
  net: ActorCritic,
  out: ForwardResult,
  data: SampleTensors,
  coefs: PpoLossCoefs,
  readout: (values: PpoLossReadout) => void,
): tf.Scalar {
  const n = data.n;
  const { clipCoef, clipVloss, entCoef, vfCoef } = coefs;
  // Value part, shared by both heads: per-sample squared error, its active branch, the mean.
  const valueTerms = (value: tf.Tensor1D) => {
    const err = tf.sub(value, data.returns);
    const unclipped = tf.square(err);
    if (!clipVloss) return { perSample: unclipped, coef: err };
    const clippedErr = tf.sub(tf.add(data.oldValues, tf.clipByValue(tf.sub(value, data.oldValues), -clipCoef, clipCoef)), data.returns);
    const clipped = tf.square(clippedErr);
    return { perSample: tf.maximum(unclipped, clipped), coef: tf.mul(err, tf.cast(tf.greaterEqual(unclipped, clipped), 'float32')) };
  };
  // Surrogate part: per-sample loss and g_i.
  const surrogateTerms = (logProb: tf.Tensor) => {
    const logRatio = tf.sub(logProb, data.oldLogProbs);
    const ratio = tf.exp(logRatio);
    const negAdv = tf.neg(data.advantages);
    const unclipped = tf.mul(negAdv, ratio);
    const clipped = tf.mul(negAdv, tf.clipByValue(ratio, 1 - clipCoef, 1 + clipCoef));
    const g = tf.mul(unclipped, tf.cast(tf.greaterEqual(unclipped, clipped), 'float32'));
    return { logRatio, perSample: tf.maximum(unclipped, clipped), g };
  };
  const report = (pg: tf.Tensor, vl: tf.Tensor, ent: tf.Tensor, logRatio: tf.Tensor) => {
    const policyLoss = tf.mean(pg);
    const valueLoss = tf.mul(tf.mean(vl), 0.5);
    const entropy = tf.mean(ent);
    const total = tf.add(tf.sub(policyLoss, tf.mul(entropy, entCoef)), tf.mul(valueLoss, vfCoef));
    const values = tf.concat([tf.stack([policyLoss, valueLoss, entropy, total]), logRatio]).dataSync() as Float32Array;
    readout({ policyLoss: values[0]!, valueLoss: values[1]!, entropy: values[2]!, total: values[3]!, logRatio: values.subarray(4) });
    return total as tf.Scalar;
  };

  if (net.kind === 'categorical') {
    const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [logits, value] = args as [tf.Tensor2D, tf.Tensor1D];
      const save = args[2] as tf.GradSaveFunc;
      const logp = tf.logSoftmax(logits);
      const p = tf.exp(logp);
      const entropy = tf.neg(tf.sum(tf.mul(p, logp), 1));
      const s = surrogateTerms(tf.sum(tf.mul(logp, data.actions), 1));
      const v = valueTerms(value);
      save([p, logp, tf.reshape(entropy, [n, 1]), tf.reshape(s.g, [n, 1]), v.coef]);
      return {
        value: report(s.perSample, v.perSample, entropy, s.logRatio),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sp, slogp, sh, sg, sv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          const policyPart = tf.mul(tf.sub(data.actions, sp), sg);
          const entropyPart = tf.mul(tf.mul(sp, tf.add(slogp, sh)), entCoef);
          const scale = tf.div(dy, n);
          return [tf.mul(tf.add(policyPart, entropyPart), scale), tf.mul(sv, tf.mul(scale, vfCoef))];
        },
      };
    });
    return fused(out.policy!, out.value!) as tf.Scalar;
  }

  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [mean, logStd, value] = args as [tf.Tensor2D, tf.Tensor, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const dims = net.actionDim;
    const invStd = tf.exp(tf.neg(logStd));
    const z = tf.mul(tf.sub(data.actions, mean), invStd);
    const logStdSum = tf.sum(tf.add(tf.zerosLike(mean), logStd), 1);
    const logProb = tf.sub(tf.mul(tf.sum(tf.square(z), 1), -0.5), tf.add(logStdSum, dims * HALF_LOG_2PI));
    const entropy = tf.add(logStdSum, dims * (0.5 + HALF_LOG_2PI));
    const s = surrogateTerms(logProb);
    const v = valueTerms(value);
    save([z, tf.add(tf.zerosLike(mean), invStd), tf.reshape(s.g, [n, 1]), v.coef]);
    return {
      value: report(s.perSample, v.perSample, entropy, s.logRatio),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sz, sInvStd, sg, sv] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const scale = tf.div(dy, n);
        const dMean = tf.mul(tf.mul(tf.mul(sg, sz), sInvStd), scale);
        // Per-sample log-std gradient, then reduced to the log-std's own shape ([A], or [n, A] when tapped).
        let dLogStd: tf.Tensor = tf.mul(tf.sub(tf.mul(sg, tf.sub(tf.square(sz), 1)), entCoef), scale);
        if (logStd.rank === 1) dLogStd = tf.sum(dLogStd, 0);
        return [dMean, dLogStd, tf.mul(sv, tf.mul(scale, vfCoef))];
      },
    };
  });
  return fused(out.policy!, out.logStd!, out.value!) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------------------------
// Batches as tensors.

/** The per-sample arrays a loss needs, as typed arrays (gathered rows of a rollout or of complete episodes). */
export interface SampleArrays {
  obs: Float32Array;
  /** Action indices (categorical) or raw actions (Gaussian), `actionSize` per sample. */
  actions: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  oldLogProbs: Float32Array;
  oldValues: Float32Array;
}

/** Zeroed sample arrays for `n` samples. */
export function emptySamples(n: number, obsSize: number, actionSize: number): SampleArrays {
  return {
    obs: new Float32Array(n * obsSize),
    actions: new Float32Array(n * actionSize),
    advantages: new Float32Array(n),
    returns: new Float32Array(n),
    oldLogProbs: new Float32Array(n),
    oldValues: new Float32Array(n),
  };
}

/** A fixed-length rollout as loss inputs (views, no copies), with the given advantages. */
export function rolloutSamples(rollout: Rollout, advantages: Float32Array = rollout.advantages): SampleArrays {
  return {
    obs: rollout.obs,
    actions: rollout.actions,
    advantages,
    returns: rollout.returns,
    oldLogProbs: rollout.logProbs,
    oldValues: rollout.values,
  };
}

export interface SampleTensors {
  n: number;
  obs: tf.Tensor2D;
  /** One-hot [n, A] for categorical, raw [n, A] for Gaussian. */
  actions: tf.Tensor2D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
  oldLogProbs: tf.Tensor1D;
  oldValues: tf.Tensor1D;
}

export function toTensors(net: ActorCritic, arrays: SampleArrays): SampleTensors {
  const n = arrays.advantages.length;
  let actions: tf.Tensor2D;
  if (net.kind === 'categorical') {
    const oneHot = new Float32Array(n * net.actionDim);
    for (let i = 0; i < n; i++) oneHot[i * net.actionDim + arrays.actions[i]!] = 1;
    actions = tf.tensor2d(oneHot, [n, net.actionDim]);
  } else {
    actions = tf.tensor2d(arrays.actions, [n, net.actionDim]);
  }
  return {
    n,
    obs: tf.tensor2d(arrays.obs, [n, net.obsSize]),
    actions,
    advantages: tf.tensor1d(arrays.advantages),
    returns: tf.tensor1d(arrays.returns),
    oldLogProbs: tf.tensor1d(arrays.oldLogProbs),
    oldValues: tf.tensor1d(arrays.oldValues),
  };
}

export function disposeTensors(t: SampleTensors): void {
  tf.dispose([t.obs, t.actions, t.advantages, t.returns, t.oldLogProbs, t.oldValues]);
}

/** Rows `indices` of a rollout-shaped set of arrays (obs rows of `obsSize`, actions of `actionSize`). */
export function gatherSamples(source: SampleArrays, indices: ArrayLike<number>, obsSize: number, actionSize: number): SampleArrays {
  const n = indices.length;
  const out = emptySamples(n, obsSize, actionSize);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    out.obs.set(source.obs.subarray(i * obsSize, (i + 1) * obsSize), k * obsSize);
    for (let j = 0; j < actionSize; j++) out.actions[k * actionSize + j] = source.actions[i * actionSize + j]!;
    out.advantages[k] = source.advantages[i]!;
    out.returns[k] = source.returns[i]!;
    out.oldLogProbs[k] = source.oldLogProbs[i]!;
    out.oldValues[k] = source.oldValues[i]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Optimizers over one flat parameter vector.

/**
 * sgd | momentum | adam | rmsprop with PyTorch's update rules (Adam with bias correction and ε outside the square
 * root; RMSProp uncentred, ε outside the root; momentum as torch.optim.SGD with dampening 0), plus global grad-norm
 * clipping as torch.nn.utils.clip_grad_norm_. The state and a mirror of the parameters live in flat vectors, so one
 * step is a dozen tfjs ops whatever the number of layers; the variables are rewritten from the flat mirror after
 * each step. Change the variables only through `step` (or call `resync()` after writing them yourself).
 */
export class FlatOptimizer {
  readonly config: OptimizerConfig;
  readonly variables: readonly tf.Variable[];
  private readonly sizes: number[];
  private readonly offsets: number[];
  private readonly total: number;
  private params: tf.Tensor;
  private m: tf.Tensor | null = null;
  private v: tf.Tensor | null = null;
  private t = 0;

  constructor(variables: readonly tf.Variable[], config: OptimizerConfig) {
    this.config = config;
    this.variables = variables;
    this.sizes = variables.map((v) => v.size);
    this.offsets = [];
    let offset = 0;
    for (const size of this.sizes) {
      this.offsets.push(offset);
      offset += size;
    }
    this.total = offset;
    this.params = this.flatten(variables);
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.t;
  }

  /** Re-read the parameters from the variables. */
  resync(): void {
    this.params.dispose();
    this.params = this.flatten(this.variables);
  }

  /**
   * One step with the gradients of the loss (same order as `variables`; `null` = zero). Returns the global gradient
   * norm before clipping; throws DivergedError (tagged with `update`) when it is not finite.
   */
  step(grads: readonly (tf.Tensor | null)[], lr: number, maxGradNorm: number, update: number): number {
    let gradNorm = 0;
    let params: tf.Tensor | null = null;
    let m: tf.Tensor | null = null;
    let v: tf.Tensor | null = null;
    tf.tidy(() => {
      const g = tf.concat(grads.map((grad, i) => (grad ? flat(grad) : tf.zeros([this.sizes[i]!]))));
      const gSq = tf.square(g);
      gradNorm = Math.sqrt(tf.sum(gSq).dataSync()[0]!);
      assertFinite(gradNorm, update, 'gradient norm');
      const scale = maxGradNorm > 0 ? Math.min(1, maxGradNorm / (gradNorm + 1e-6)) : 1;
      const { type, momentum, beta1, beta2, decay, eps } = this.config;
      const t = this.t + 1;
      let delta: tf.Tensor;
      switch (type) {
        case 'sgd':
          delta = tf.mul(g, lr * scale);
          break;
        case 'momentum':
          m = this.m ? tf.add(tf.mul(this.m, momentum), tf.mul(g, scale)) : tf.mul(g, scale);
          delta = tf.mul(m, lr);
          break;
        case 'adam': {
          m = tf.add(tf.mul(this.m ?? tf.zeros([this.total]), beta1), tf.mul(g, (1 - beta1) * scale));
          v = tf.add(tf.mul(this.v ?? tf.zeros([this.total]), beta2), tf.mul(gSq, (1 - beta2) * scale * scale));
          const bc1 = 1 - beta1 ** t;
          const bc2 = 1 - beta2 ** t;
          const denom = tf.add(tf.mul(tf.sqrt(v), 1 / Math.sqrt(bc2)), eps);
          delta = tf.mul(tf.div(m, denom), lr / bc1);
          break;
        }
        case 'rmsprop': {
          v = tf.add(tf.mul(this.v ?? tf.zeros([this.total]), decay), tf.mul(gSq, (1 - decay) * scale * scale));
          delta = tf.mul(tf.div(g, tf.add(tf.sqrt(v), eps)), lr * scale);
          break;
        }
      }
      params = tf.keep(tf.sub(this.params, delta));
      if (m) tf.keep(m);
      if (v) tf.keep(v);
      const pieces = tf.split(params, this.sizes);
      this.variables.forEach((variable, i) => variable.assign(variable.rank === 1 ? pieces[i]! : tf.reshape(pieces[i]!, variable.shape)));
    });
    this.t += 1;
    this.params.dispose();
    this.params = params!;
    if (m) {
      this.m?.dispose();
      this.m = m;
    }
    if (v) {
      this.v?.dispose();
      this.v = v;
    }
    return gradNorm;
  }

  /**
   * The diagonal preconditioner of `variable` (shaped like it): Adam's 1/(sqrt(v̂)+ε), RMSProp's 1/(sqrt(v)+ε);
   * null for sgd and momentum, for unknown variables, and before the first step. The caller owns the tensor.
   */
  preconditioner(variable: tf.Variable): tf.Tensor | null {
    const index = this.variables.indexOf(variable);
    if (index < 0 || !this.v || this.t === 0) return null;
    const { type, beta2, eps } = this.config;
    if (type !== 'adam' && type !== 'rmsprop') return null;
    const v = this.v;
    return tf.tidy(() => {
      const slice = tf.slice(v, [this.offsets[index]!], [this.sizes[index]!]);
      const root = type === 'adam' ? tf.mul(tf.sqrt(slice), 1 / Math.sqrt(1 - beta2 ** this.t)) : tf.sqrt(slice);
      return tf.reshape(tf.reciprocal(tf.add(root, eps)), variable.shape);
    });
  }

  dispose(): void {
    tf.dispose([this.params, ...(this.m ? [this.m] : []), ...(this.v ? [this.v] : [])]);
    this.m = null;
    this.v = null;
  }

  private flatten(variables: readonly tf.Variable[]): tf.Tensor {
    return tf.tidy(() => tf.concat(variables.map(flat)));
  }
}

/** A 1-D view of `t` (no kernel call when it already is one). */
function flat(t: tf.Tensor): tf.Tensor {
  return t.rank === 1 ? t : tf.reshape(t, [-1]);
}

/**
 * Loss and gradients of `lossFn` w.r.t. `variables` in one backward pass; gradients of variables the loss does not
 * reach are null.
 */
export function lossAndGrads(lossFn: () => tf.Scalar, variables: readonly tf.Variable[]): { loss: tf.Scalar; grads: (tf.Tensor | null)[] } {
  const { value, grads } = tf.variableGrads(lossFn, variables as tf.Variable[]);
  return { loss: value, grads: variables.map((v) => grads[v.name] ?? null) };
}

// ---------------------------------------------------------------------------------------------------------------
// Divergence.

/** Throws DivergedError when `value` is NaN or ±Inf. */
/** A loss with its reported parts, as the algorithms' loss functions return it. */
export interface LossParts {
  policy: tf.Scalar;
  value: tf.Scalar;
  entropy: tf.Scalar;
  total: tf.Scalar;
}

/**
 * One gradient step on a whole batch (A2C, REINFORCE): build the loss on the batch's tensors, check it is finite,
 * differentiate, and let the optimizer step (with global-norm clipping). Returns the loss parts and the gradient norm.
 */
export function gradientStep(
  net: ActorCritic,
  optimizer: FlatOptimizer,
  samples: SampleArrays,
  lossOf: (data: SampleTensors) => LossParts,
  step: { lr: number; maxGradNorm: number; update: number },
): { policyLoss: number; valueLoss: number; entropy: number; gradNorm: number } {
  const data = toTensors(net, samples);
  let parts: Float32Array = new Float32Array(4);
  let gradNorm = 0;
  try {
    gradNorm = tf.tidy(() => {
      const { grads } = lossAndGrads(() => {
        const loss = lossOf(data);
        parts = tf.stack([loss.policy, loss.value, loss.entropy, loss.total]).dataSync() as Float32Array;
        return loss.total;
      }, net.variables);
      assertFinite(parts[3]!, step.update, 'loss');
      return optimizer.step(grads, step.lr, step.maxGradNorm, step.update);
    });
  } finally {
    disposeTensors(data);
  }
  return { policyLoss: parts[0]!, valueLoss: parts[1]!, entropy: parts[2]!, gradNorm };
}

export function assertFinite(value: number, update: number, what: string): void {
  if (!Number.isFinite(value)) throw new DivergedError(update, `${what} (${value})`);
}

/** Linear annealing to 0 over training (CleanRL: lr·(1 − progress) at the start of each update). */
export function annealedLr(lr: number, anneal: boolean, progress: number): number {
  if (!anneal) return lr;
  return lr * (1 - Math.min(1, Math.max(0, progress)));
}
