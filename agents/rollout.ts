/**
 * Acting and collecting, in plain TypeScript over `PlainForward` (no tfjs call per env step), or through tfjs where
 * that is faster on the backend for the number of rows (`tfjsForwardFaster`: many envs on wasm):
 * - `ActionSampler` samples actions and their log-probabilities for a batch of observations;
 * - `RolloutCollector` steps the env for the fixed-length rollouts A2C and PPO learn from;
 * - `criticValues`, V(s) of many observations in one batched pass.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../src/core/rng.js';
import { Box } from '../src/core/spaces.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { HALF_LOG_2PI } from './distributions.js';
import { tfjsForwardFaster, type ActorCritic, type PlainForward } from './networks.js';

/** Samples actions for a batch of observations from the plain-TS policy and reports their log-probabilities. */
export class ActionSampler {
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
    if (tfjsForwardFaster(n)) this.policyOut.set(tfjsPolicy(this.net, obs, n));
    else this.forward.policy(obs, n, this.policyOut);
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

/** A zero-filled rollout of numSteps per env, env-major, for a collector to fill. */
export function emptyRollout(numEnvs: number, numSteps: number, obsSize: number, actionSize: number): Rollout {
  const N = numEnvs * numSteps;
  return {
    numEnvs,
    numSteps,
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
}

/**
 * Steps the env with the current policy, numSteps per env, for A2C and PPO, keeping the current observation between
 * rollouts. It starts with `env.reset()` WITHOUT a seed: whoever made the env seeds it (the trainer calls
 * `env.reset(seed)` before creating the agent) and the env's stream simply continues.
 * Actions come from the policy, step by step; the values GAE needs (V of every observation, of the final
 * observations of truncated episodes and of the observations after the last step) are computed after the rollout in
 * ONE batched pass of the critic (on wasm through tfjs, several times cheaper than a plain-TS critic there).
 */
export class RolloutCollector {
  private readonly env: VectorEnv;
  private readonly forward: PlainForward;
  private readonly sampler: ActionSampler;
  private readonly numSteps: number;
  private readonly obs: Float32Array;
  private readonly stepActions: Float32Array;
  private readonly stepEnvActions: Float32Array;
  private readonly stepLogProbs: Float32Array;

  constructor(env: VectorEnv, forward: PlainForward, actionRng: Rng, numSteps: number) {
    this.env = env;
    this.forward = forward;
    this.numSteps = numSteps;
    this.sampler = new ActionSampler(forward, actionRng, env.actionSpace instanceof Box ? env.actionSpace : null);
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
    const r = emptyRollout(numEnvs, T, obsSize, actionSize);
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
    const values = criticValues(this.forward, rows, rows.length / obsSize);
    r.values.set(values.subarray(0, N));
    truncatedAt.forEach((i, k) => (r.finalValues[i] = values[N + k]!));
    r.lastValues.set(values.subarray(N + truncatedAt.length));
    return r;
  }
}

/** V(s) of `n` observations in one batched pass: tfjs or PlainForward, whichever is faster on this backend. */
export function criticValues(forward: PlainForward, obs: Float32Array, n: number): Float32Array {
  const net = forward.net;
  if (tfjsForwardFaster(n)) return tf.tidy(() => net.forward(tf.tensor2d(obs, [n, net.obsSize]), undefined, 'value').value!.dataSync() as Float32Array);
  const values = new Float64Array(n);
  forward.value(obs, n, values);
  return Float32Array.from(values);
}

/** Policy outputs (logits or means) of `n` observations through tfjs, [n, actionDim]. */
function tfjsPolicy(net: ActorCritic, obs: ArrayLike<number>, n: number): Float32Array {
  const rows = Float32Array.from({ length: n * net.obsSize }, (_, i) => obs[i]!);
  return tf.tidy(() => net.forward(tf.tensor2d(rows, [n, net.obsSize]), undefined, 'policy').policy!.dataSync() as Float32Array);
}
