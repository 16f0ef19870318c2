/**
 * PPO with the recurrent (GRU) actor-critic, `agent.network.torso: "gru"` (gru.ts). Same loss and update rules as
 * ppo.ts (clipped surrogate, GAE(λ), clipped value loss, entropy bonus, per-minibatch advantage normalisation,
 * global grad-norm clip), with the changes recurrence needs:
 * - the GRU state is carried from step to step and across rollouts, and reset to 0 where an episode has ended (the
 *   next observation starts a new one);
 * - each env's rollout segment is kept whole, with the state it started from: minibatches are sets of whole env
 *   segments (numEnvs / numMinibatches of them, seeded-shuffled), and the loss backpropagates through each segment
 *   from its stored initial state (BPTT over numSteps);
 * - the noise monitor sees one sample per env segment (`n` = numEnvs): sample e's loss is segment e's mean loss, so
 *   the batch loss is their mean. There is no factored fast path; the monitor uses its per-group autodiff fallback,
 *   one backward pass through the segment per sample. B_simple is then counted in segments (× numSteps for steps),
 *   and `batchSize` is the number of segments.
 * Actions are sampled through tfjs, one GRU step for all envs per env step.
 */
import * as tf from '@tensorflow/tfjs';
import type { PpoConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import { Discrete } from '../src/core/spaces.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import type { NoiseProbe, NoiseProbeComponent } from '../src/monitor/probe.js';
import { computeGae, explainedVariance, normalizeAdvantages } from './advantages.js';
import type { Agent, UpdateStats } from './agent.js';
import { categoricalTerms } from './distributions.js';
import { lossAndGrads } from './gradient-step.js';
import { RecurrentActorCritic } from './gru.js';
import { policyGradientLoss, totalLoss, valueLoss } from './losses.js';
import { annealedLr, assertFinite, FlatOptimizer } from './optimizers.js';
import { minibatchStats, ppoEpochs, ppoFusedLoss, type PpoLossReadout } from './ppo.js';
import { emptyRollout, type Rollout } from './rollout.js';
import { gatherSamples, rolloutSamples, type SampleArrays, type SampleTensors } from './samples.js';

export interface RecurrentBatch {
  readonly rollout: Rollout;
  readonly samples: SampleArrays;
  /** 1 where the step's observation begins an episode (the state is reset before it), env-major like the rollout. */
  readonly starts: Float32Array;
  /** The GRU state before each env's first step of the rollout, [numEnvs · H]. */
  readonly initialState: Float32Array;
}

export interface RecurrentPpoAgent extends Agent<RecurrentBatch> {
  readonly net: RecurrentActorCritic;
  readonly optimizer: FlatOptimizer;
  /** The carried GRU state, [numEnvs · H] (a copy). */
  state(): Float32Array;
}

export function createRecurrentPpoAgent(config: PpoConfig, env: VectorEnv, rng: Rng): RecurrentPpoAgent {
  return new RecurrentPpoAgentImpl(config, env, rng);
}

class RecurrentPpoAgentImpl implements RecurrentPpoAgent {
  readonly algo = 'ppo' as const;
  readonly stepsPerUpdate: number;
  readonly net: RecurrentActorCritic;
  readonly optimizer: FlatOptimizer;
  private readonly config: PpoConfig;
  private readonly env: VectorEnv;
  private readonly actionRng: Rng;
  private readonly minibatchRng: Rng;
  private obs: Float32Array;
  /** Carried GRU state [numEnvs, H] and whether each env's next observation starts an episode. */
  private hidden: tf.Tensor2D;
  private readonly nextStarts: Float32Array;
  private probe: (NoiseProbe & { dispose(): void }) | null = null;
  private updates = 0;

  constructor(config: PpoConfig, env: VectorEnv, rng: Rng) {
    if (!(env.actionSpace instanceof Discrete)) throw new RangeError('createRecurrentPpoAgent: the GRU torso needs a Discrete action space');
    this.config = config;
    this.env = env;
    this.stepsPerUpdate = env.numEnvs * config.numSteps;
    // Seeding, in one place: each consumer gets its own named stream.
    this.net = new RecurrentActorCritic(env.obsSize, env.actionSpace.n, config.network, rng.split('init'));
    this.actionRng = rng.split('action');
    this.minibatchRng = rng.split('minibatch');
    this.optimizer = new FlatOptimizer(this.net.variables, config.optimizer);
    this.obs = Float32Array.from(env.reset());
    this.hidden = tf.keep(tf.zeros([env.numEnvs, this.net.hiddenSize]));
    this.nextStarts = new Float32Array(env.numEnvs).fill(1);
  }

  state(): Float32Array {
    return Float32Array.from(this.hidden.dataSync());
  }

  collect(): RecurrentBatch {
    const env = this.env;
    const E = env.numEnvs;
    const T = this.config.numSteps;
    const N = E * T;
    const obsSize = env.obsSize;
    const A = this.net.actionDim;
    const r = emptyRollout(E, T, obsSize, 1);
    const starts = new Float32Array(N);
    const initialState = Float32Array.from(this.hidden.dataSync());
    const episodeOf = Int32Array.from({ length: E }, (_, e) => e);
    let nextEpisode = E;
    for (let t = 0; t < T; t++) {
      const stepStarts = Float32Array.from(this.nextStarts);
      const { logits, values, hidden } = tf.tidy(() => {
        const h = this.net.step(tf.tensor2d(this.obs, [E, obsSize]), this.hidden, stepStarts);
        const out = this.net.heads(h);
        return { logits: out.policy.dataSync() as Float32Array, values: out.value.dataSync() as Float32Array, hidden: tf.keep(h) };
      });
      this.hidden.dispose();
      this.hidden = hidden;
      const envActions = new Float32Array(E);
      for (let e = 0; e < E; e++) {
        const i = e * T + t;
        const { action, logProb } = sampleCategorical(logits, e * A, A, this.actionRng);
        envActions[e] = action;
        r.obs.set(this.obs.subarray(e * obsSize, (e + 1) * obsSize), i * obsSize);
        r.actions[i] = action;
        r.logProbs[i] = logProb;
        r.values[i] = values[e]!;
        r.segments[i] = e;
        r.episodes[i] = episodeOf[e]!;
        starts[i] = stepStarts[e]!;
      }
      const step = env.step(envActions);
      let anyTruncated = false;
      for (let e = 0; e < E; e++) {
        const i = e * T + t;
        r.rewards[i] = step.rewards[e]!;
        r.terminated[i] = step.terminated[e]!;
        r.truncated[i] = step.truncated[e]!;
        anyTruncated ||= step.truncated[e] === 1;
        const done = step.terminated[e] || step.truncated[e];
        this.nextStarts[e] = done ? 1 : 0;
        if (done) episodeOf[e] = nextEpisode++;
      }
      if (anyTruncated) {
        // V(final observation) of a truncated episode continues that episode's state.
        const finals = this.valuesAfter(step.finalObs, new Float32Array(E));
        for (let e = 0; e < E; e++) if (step.truncated[e]) r.finalValues[e * T + t] = finals[e]!;
      }
      this.obs = Float32Array.from(step.obs);
    }
    r.lastValues.set(this.valuesAfter(this.obs, this.nextStarts));
    computeGae({ ...r, gamma: this.config.gamma, lambda: this.config.gaeLambda }, r.advantages, r.returns);
    return { rollout: r, samples: rolloutSamples(r), starts, initialState };
  }

  batchSize(batch: RecurrentBatch): number {
    return batch.rollout.numEnvs;
  }

  /** The policy-gradient loss at θ_old (PPO's first gradient), one sample per env segment; the fallback measures it. */
  noiseProbe(batch: RecurrentBatch): NoiseProbe {
    this.releaseProbe();
    const { config } = this;
    const samples = batch.samples;
    const advantages = config.normAdv ? normalizeAdvantages(samples.advantages, new Float32Array(samples.advantages.length)) : samples.advantages;
    const all = { ...samples, advantages };
    const E = batch.rollout.numEnvs;
    const lossOf = (envs: Int32Array, part: 'policy' | 'value' | 'total') =>
      tf.tidy(() => {
        const { out, data } = this.forwardSegments(all, batch, envs);
        const terms = categoricalTerms(out.policy, data.actions);
        const policy = policyGradientLoss(terms.logProb, data.advantages);
        const value = valueLoss(out.value, data.returns);
        if (part === 'policy') return policy;
        if (part === 'value') return value;
        return totalLoss({ policy, value, entropy: tf.mean(terms.entropy) as tf.Scalar }, config);
      });
    const component = (part: 'policy' | 'value' | 'total'): NoiseProbeComponent => ({
      tapShapes: [],
      variables: part === 'policy' ? this.policyVariables() : part === 'value' ? this.valueVariables() : this.net.variables,
      tapped: () => ({ loss: lossOf(Int32Array.from({ length: E }, (_, e) => e), part), inputs: [] }),
      subset: (indices) => lossOf(indices, part),
    });
    const ids = Int32Array.from({ length: E }, (_, e) => e);
    this.probe = {
      n: E,
      segments: ids,
      episodes: ids,
      components: { policy: component('policy'), value: component('value'), total: component('total') },
      preconditioner: (variable) => this.optimizer.preconditioner(variable),
      dispose: () => undefined,
    };
    return this.probe;
  }

  learn(batch: RecurrentBatch, progress: number): UpdateStats {
    this.releaseProbe();
    const { config } = this;
    const update = ++this.updates;
    const lr = annealedLr(config.lr, config.annealLr, progress);
    const steps = ppoEpochs(config, batch.rollout.numEnvs, this.minibatchRng, (envs) => this.minibatchStep(batch, Int32Array.from(envs), lr, update));
    return { ...steps, lr, explainedVariance: explainedVariance(batch.rollout.values, batch.rollout.returns) };
  }

  dispose(): void {
    this.releaseProbe();
    this.hidden.dispose();
    this.optimizer.dispose();
    this.net.dispose();
  }

  /** GRU policy/value outputs over the listed env segments (BPTT from their stored states) and their loss inputs. */
  private forwardSegments(samples: SampleArrays, batch: RecurrentBatch, envs: Int32Array): { out: { policy: tf.Tensor2D; value: tf.Tensor1D }; data: SampleTensors } {
    const inputs = this.segmentInputs(samples, batch, envs);
    return { out: this.runSegments(inputs), data: inputs.data };
  }

  private runSegments(inputs: SegmentInputs): { policy: tf.Tensor2D; value: tf.Tensor1D } {
    return this.net.heads(this.net.sequence(inputs.data.obs, inputs.h0, inputs.starts, inputs.steps));
  }

  /** The loss inputs of the listed env segments, their initial states and episode starts. */
  private segmentInputs(samples: SampleArrays, batch: RecurrentBatch, envs: Int32Array): SegmentInputs {
    const T = batch.rollout.numSteps;
    const H = this.net.hiddenSize;
    const rows = new Int32Array(envs.length * T);
    envs.forEach((e, k) => {
      for (let t = 0; t < T; t++) rows[k * T + t] = e * T + t;
    });
    const gathered = gatherSamples(samples, rows, this.env.obsSize, 1);
    const h0 = new Float32Array(envs.length * H);
    envs.forEach((e, k) => h0.set(batch.initialState.subarray(e * H, (e + 1) * H), k * H));
    const starts = Float32Array.from(rows, (i) => batch.starts[i]!);
    return { data: segmentTensors(gathered, this.net.actionDim, this.env.obsSize), h0: tf.tensor2d(h0, [envs.length, H]), starts, steps: T };
  }

  private minibatchStep(batch: RecurrentBatch, envs: Int32Array, lr: number, update: number) {
    let readout: PpoLossReadout | null = null;
    const gradNorm = tf.tidy(() => {
      const T = batch.rollout.numSteps;
      const rows = new Int32Array(envs.length * T);
      envs.forEach((e, k) => {
        for (let t = 0; t < T; t++) rows[k * T + t] = e * T + t;
      });
      const samples = batch.samples;
      const advantages = Float32Array.from(rows, (i) => samples.advantages[i]!);
      if (this.config.normAdv) normalizeAdvantages(advantages);
      // Rows of the minibatch in segment order, with their own normalised advantages.
      const local = { ...samples, advantages: scatter(advantages, rows, samples.advantages.length) };
      // The inputs are made outside the differentiated function: the loss's gradient reads them.
      const inputs = this.segmentInputs(local, batch, envs);
      const { grads } = lossAndGrads(() => ppoFusedLoss(this.net, this.runSegments(inputs), inputs.data, this.config, (values) => (readout = values)), this.net.variables);
      assertFinite(readout!.total, update, 'loss');
      return this.optimizer.step(grads, lr, this.config.maxGradNorm, update);
    });
    return minibatchStats(readout!, this.config.clipCoef, gradNorm);
  }

  /** V after one GRU step on `obs` from the carried state (reset where `starts`); the carried state is not changed. */
  private valuesAfter(obs: Float32Array, starts: Float32Array): Float32Array {
    return tf.tidy(() => this.net.heads(this.net.step(tf.tensor2d(obs, [this.env.numEnvs, this.env.obsSize]), this.hidden, starts)).value.dataSync() as Float32Array);
  }

  private policyVariables(): tf.Variable[] {
    const net = this.net;
    return [net.wx, net.wh, net.bx, net.bh, net.policyW, net.policyB];
  }

  private valueVariables(): tf.Variable[] {
    const net = this.net;
    return [net.wx, net.wh, net.bx, net.bh, net.valueW, net.valueB];
  }

  private releaseProbe(): void {
    this.probe?.dispose();
    this.probe = null;
  }
}

interface SegmentInputs {
  data: SampleTensors;
  h0: tf.Tensor2D;
  starts: Float32Array;
  steps: number;
}

/** Sample an action from logits[offset .. offset + A) by inversion, as ActionSampler does; with its log-probability. */
function sampleCategorical(logits: Float32Array, offset: number, A: number, rng: Rng): { action: number; logProb: number } {
  let max = -Infinity;
  for (let j = 0; j < A; j++) max = Math.max(max, logits[offset + j]!);
  let total = 0;
  for (let j = 0; j < A; j++) total += Math.exp(logits[offset + j]! - max);
  let u = rng.uniform() * total;
  let action = A - 1;
  for (let j = 0; j < A; j++) {
    u -= Math.exp(logits[offset + j]! - max);
    if (u < 0) {
      action = j;
      break;
    }
  }
  return { action, logProb: logits[offset + action]! - max - Math.log(total) };
}

/** `values` placed at `rows` of an array of `length` (the rest 0). */
function scatter(values: Float32Array, rows: Int32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  rows.forEach((i, k) => (out[i] = values[k]!));
  return out;
}

/** Loss inputs of gathered rows (categorical actions one-hot). */
function segmentTensors(arrays: SampleArrays, actions: number, obsSize: number): SampleTensors {
  const n = arrays.advantages.length;
  const oneHot = new Float32Array(n * actions);
  for (let i = 0; i < n; i++) oneHot[i * actions + arrays.actions[i]!] = 1;
  return {
    n,
    obs: tf.tensor2d(arrays.obs, [n, obsSize]),
    actions: tf.tensor2d(oneHot, [n, actions]),
    advantages: tf.tensor1d(arrays.advantages),
    returns: tf.tensor1d(arrays.returns),
    oldLogProbs: tf.tensor1d(arrays.oldLogProbs),
    oldValues: tf.tensor1d(arrays.oldValues),
  };
}
