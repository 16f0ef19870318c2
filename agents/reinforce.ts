/**
 * REINFORCE (Williams 1992): Monte-Carlo returns G_t = Σ_k γ^k r_{t+k} of COMPLETE episodes, one gradient step per
 * collect on −mean((G − b)·log π) − entCoef·mean(entropy) (+ vfCoef·0.5·mean((V − G)²) with a learned baseline).
 *
 * - Each collect runs `numSteps` steps in each of the `numEnvs` envs. Only episodes that ended enter the batch; the
 *   steps of unfinished episodes carry over into the next collect (so a batch can hold steps gathered under the
 *   previous parameters, and can be empty: then `learn` does nothing and `batchSize` is 0).
 * - Baselines: `none` (b = 0); `mean`, a running mean of the returns (an exponential moving average over updates,
 *   rate 0.1, of each batch's mean return, started at the first batch's mean; it is updated after the advantages are
 *   formed, so a batch never shifts its own baseline except at the first update); `value`, a learned V(s).
 * - Truncated episodes bootstrap from V(final observation) when a value baseline exists (G_T = V(s_T)); otherwise the
 *   return stops at the time limit.
 */
import * as tf from '@tensorflow/tfjs';
import type { ReinforceConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import { Box } from '../src/core/spaces.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { discountedReturns, explainedVariance, normalizeAdvantages } from './advantages.js';
import type { Agent, UpdateStats } from './agent.js';
import { gradientStep } from './gradient-step.js';
import { policyGradientParts, policyGradientProbe, totalLoss } from './losses.js';
import { ActorCritic, PlainForward } from './networks.js';
import type { AgentNoiseProbe } from './noise-probe.js';
import { annealedLr, FlatOptimizer } from './optimizers.js';
import { ActionSampler, criticValues } from './rollout.js';
import { emptySamples, type SampleArrays, type SampleTensors } from './samples.js';

const MEAN_BASELINE_RATE = 0.1;

export interface ReinforceBatch {
  /** Samples: the steps of every episode that ended during this collect. */
  readonly n: number;
  readonly samples: SampleArrays;
  /** Env per sample. */
  readonly segments: Int32Array;
  /** Episode id per sample (unique within the batch). */
  readonly episodes: Int32Array;
  /** Baseline per sample (0, the running mean, or V(s)). */
  readonly baselines: Float32Array;
  readonly episodeCount: number;
}

/** The agent, with its network and optimizer exposed read-only (for tests and inspection). */
export interface ReinforceAgent extends Agent<ReinforceBatch> {
  readonly net: ActorCritic;
  readonly optimizer: FlatOptimizer;
}

export function createReinforceAgent(config: ReinforceConfig, env: VectorEnv, rng: Rng): ReinforceAgent {
  return new ReinforceAgentImpl(config, env, rng);
}

/** REINFORCE's loss on a batch, with its parts (also what the noise probe measures). */
export function reinforceLoss(net: ActorCritic, data: SampleTensors, config: ReinforceConfig) {
  const parts = policyGradientParts(net, net.forward(data.obs), data);
  return { total: totalLoss(parts, config), policy: parts.policy!, value: parts.value ?? tf.scalar(0), entropy: parts.entropy! };
}

/** The steps of one env's episode in progress: growable typed buffers. */
class EpisodeBuffer {
  length = 0;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float64Array;
  constructor(
    private readonly obsSize: number,
    private readonly actionSize: number,
  ) {
    this.obs = new Float32Array(64 * obsSize);
    this.actions = new Float32Array(64 * actionSize);
    this.rewards = new Float64Array(64);
  }
  push(obs: Float32Array, action: Float32Array): void {
    if (this.length === this.rewards.length) this.grow();
    this.obs.set(obs, this.length * this.obsSize);
    this.actions.set(action, this.length * this.actionSize);
    this.length++;
  }
  setReward(reward: number): void {
    this.rewards[this.length - 1] = reward;
  }
  private grow(): void {
    const grow = <T extends Float32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(a.length * 2);
      b.set(a);
      return b;
    };
    this.obs = grow(this.obs, (n) => new Float32Array(n));
    this.actions = grow(this.actions, (n) => new Float32Array(n));
    this.rewards = grow(this.rewards, (n) => new Float64Array(n));
  }
}

interface CompleteEpisode {
  env: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float64Array;
  /** G_T: V(final observation) for truncated episodes with a value baseline, else 0. */
  bootstrap: number;
}

class ReinforceAgentImpl implements ReinforceAgent {
  readonly algo = 'reinforce' as const;
  readonly stepsPerUpdate: number;
  private readonly config: ReinforceConfig;
  private readonly env: VectorEnv;
  readonly net: ActorCritic;
  private readonly forward: PlainForward;
  readonly optimizer: FlatOptimizer;
  private readonly sampler: ActionSampler;
  private readonly obs: Float32Array;
  private readonly buffers: EpisodeBuffer[];
  private meanBaseline: number | null = null;
  private probe: AgentNoiseProbe | null = null;
  private updates = 0;

  constructor(config: ReinforceConfig, env: VectorEnv, rng: Rng) {
    this.config = config;
    this.env = env;
    this.stepsPerUpdate = env.numEnvs * config.numSteps;
    // Seeding, in one place: each consumer gets its own named stream.
    const withValue = config.baseline === 'value';
    this.net = new ActorCritic(env.obsSize, env.actionSpace, config.network, rng.split('init'), { value: withValue, obsShape: env.observationSpace.shape, envId: env.id });
    this.forward = new PlainForward(this.net);
    this.optimizer = new FlatOptimizer(this.net.variables, config.optimizer);
    this.sampler = new ActionSampler(this.forward, rng.split('action'), env.actionSpace instanceof Box ? env.actionSpace : null);
    // The env was seeded by whoever made it; its stream continues.
    this.obs = Float32Array.from(env.reset());
    this.buffers = Array.from({ length: env.numEnvs }, () => new EpisodeBuffer(env.obsSize, env.actionSize));
  }

  // Rollout: numSteps per env; episodes that end are set aside whole.
  collect(): ReinforceBatch {
    const { env, config } = this;
    const numEnvs = env.numEnvs;
    const obsSize = env.obsSize;
    const actionSize = env.actionSize;
    const actions = new Float32Array(numEnvs * actionSize);
    const envActions = new Float32Array(numEnvs * actionSize);
    const logProbs = new Float32Array(numEnvs);
    const value = new Float64Array(1);
    const complete: CompleteEpisode[] = [];
    for (let t = 0; t < config.numSteps; t++) {
      this.sampler.act(this.obs, numEnvs, actions, envActions, logProbs);
      for (let e = 0; e < numEnvs; e++) {
        this.buffers[e]!.push(this.obs.subarray(e * obsSize, (e + 1) * obsSize), actions.subarray(e * actionSize, (e + 1) * actionSize));
      }
      const step = env.step(envActions);
      for (let e = 0; e < numEnvs; e++) {
        const buffer = this.buffers[e]!;
        buffer.setReward(step.rewards[e]!);
        if (!step.terminated[e] && !step.truncated[e]) continue;
        let bootstrap = 0;
        if (step.truncated[e] && this.net.hasValue) {
          this.forward.value(step.finalObs.subarray(e * obsSize, (e + 1) * obsSize), 1, value);
          bootstrap = value[0]!;
        }
        const length = buffer.length;
        complete.push({
          env: e,
          obs: buffer.obs.slice(0, length * obsSize),
          actions: buffer.actions.slice(0, length * actionSize),
          rewards: buffer.rewards.slice(0, length),
          bootstrap,
        });
        buffer.length = 0;
      }
      this.obs.set(step.obs);
    }
    return this.assemble(complete);
  }

  batchSize(batch: ReinforceBatch): number {
    return batch.n;
  }

  /** Exactly the loss `learn` takes its one gradient step on. An empty batch gives a probe with no components. */
  noiseProbe(batch: ReinforceBatch): AgentNoiseProbe {
    this.releaseProbe();
    if (batch.n === 0) {
      return { n: 0, segments: batch.segments, episodes: batch.episodes, components: {}, dispose() {} };
    }
    this.probe = policyGradientProbe(this.net, this.optimizer, batch.samples, batch, this.config);
    return this.probe;
  }

  // Update: one gradient step on all complete episodes.
  learn(batch: ReinforceBatch, progress: number): UpdateStats {
    this.releaseProbe();
    const { config } = this;
    const update = ++this.updates; // 1-based, as the trainer counts
    const lr = annealedLr(config.lr, config.annealLr, progress);
    if (batch.n === 0) {
      return { policyLoss: 0, valueLoss: 0, entropy: 0, approxKl: 0, clipFrac: 0, gradNorm: 0, lr, explainedVariance: 0 };
    }
    const result = gradientStep(this.net, this.optimizer, batch.samples, (data) => reinforceLoss(this.net, data, config), {
      lr,
      maxGradNorm: config.maxGradNorm,
      update,
    });
    this.forward.refresh();
    const explained = this.net.hasValue ? explainedVariance(batch.baselines, batch.samples.returns) : 0;
    return { ...result, approxKl: 0, clipFrac: 0, lr, explainedVariance: explained };
  }

  dispose(): void {
    this.releaseProbe();
    this.optimizer.dispose();
    this.net.dispose();
  }

  // Advantages: returns minus the baseline, for the complete episodes grouped by env.
  private assemble(complete: CompleteEpisode[]): ReinforceBatch {
    const { env, config } = this;
    const obsSize = env.obsSize;
    const actionSize = env.actionSize;
    complete.sort((a, b) => a.env - b.env); // stable: each env's episodes stay in time order, segments are contiguous
    const n = complete.reduce((sum, ep) => sum + ep.rewards.length, 0);
    const samples = emptySamples(n, obsSize, actionSize);
    const segments = new Int32Array(n);
    const episodes = new Int32Array(n);
    let offset = 0;
    complete.forEach((ep, id) => {
      const length = ep.rewards.length;
      samples.obs.set(ep.obs, offset * obsSize);
      samples.actions.set(ep.actions, offset * actionSize);
      discountedReturns(ep.rewards, config.gamma, ep.bootstrap, samples.returns.subarray(offset, offset + length));
      segments.fill(ep.env, offset, offset + length);
      episodes.fill(id, offset, offset + length);
      offset += length;
    });

    const baselines = new Float32Array(n);
    if (config.baseline === 'value' && n > 0) {
      const values = criticValues(this.forward, samples.obs, n);
      baselines.set(values);
      samples.oldValues.set(values);
    } else if (config.baseline === 'mean' && n > 0) {
      let batchMean = 0;
      for (let i = 0; i < n; i++) batchMean += samples.returns[i]!;
      batchMean /= n;
      this.meanBaseline ??= batchMean;
      baselines.fill(this.meanBaseline);
      this.meanBaseline += MEAN_BASELINE_RATE * (batchMean - this.meanBaseline);
    }
    for (let i = 0; i < n; i++) samples.advantages[i] = samples.returns[i]! - baselines[i]!;
    if (config.normAdv) normalizeAdvantages(samples.advantages);
    return { n, samples, segments, episodes, baselines, episodeCount: complete.length };
  }

  private releaseProbe(): void {
    this.probe?.dispose();
    this.probe = null;
  }
}
