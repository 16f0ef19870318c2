/**
 * The baseline for `bench train`: PPO on a discrete-action env written the obvious way on TensorFlow.js, the way a
 * port of CleanRL's ppo.py usually looks. Actor and critic are `tf.sequential` models, the optimizer is
 * `tf.train.adam`, EVERY env step of the rollout makes a tfjs forward call (policy + value, `tf.multinomial` to sample,
 * one read-back), GAE is a plain loop, and each minibatch is autodiff of the composite loss (`tf.variableGrads`),
 * a global-norm clip and `applyGradients`, with CleanRL's per-minibatch read-back of the loss and approximate KL.
 * Same hyperparameters as the gradnoise agent (taken from the same config); the env is the same gradnoise vector env,
 * so the ratio measures the agent side only. Truncated episodes are treated as terminated (as CleanRL does).
 * With `network.torso: "conv"` (image observations) actor and critic each start with the MinAtar torso written with
 * Keras layers: `tf.layers.conv2d` (16 filters, 3×3, stride 1, valid, ReLU) and `tf.layers.flatten`, on
 * [n, H, W, C] tensors; on wasm with the filter gradient of naive-conv-grad.ts.
 * Not part of the library: it exists so the speed-up is a ratio measured in the same run.
 */
import * as tf from '@tensorflow/tfjs';
import { CONV_CHANNELS, CONV_KERNEL, imageShape } from '../../agents/conv.js';
import { orthogonal } from '../../agents/networks.js';
import { ensureConvFilterGrad } from './naive-conv-grad.js';
import type { PpoConfig } from '../config/schema.js';
import type { Rng } from '../core/rng.js';
import { Discrete } from '../core/spaces.js';
import type { VectorEnv } from '../core/vector-env.js';

interface Rollout {
  obs: Float32Array;
  actions: Int32Array;
  logProbs: Float32Array;
  values: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

export class NaivePpo {
  readonly stepsPerUpdate: number;
  /** Returns of the episodes finished during the last rollout (to check that the baseline learns). */
  lastReturns: number[] = [];
  private readonly actor: tf.Sequential;
  private readonly critic: tf.Sequential;
  private readonly optimizer: tf.AdamOptimizer;
  private readonly variables: tf.Variable[];
  private readonly numActions: number;
  /** Shape of one observation as the models take it: [obsSize], or [H, W, C] with the conv torso. */
  private readonly inputShape: number[];
  private obs: Float32Array;
  private readonly rng: Rng;

  constructor(
    private readonly config: PpoConfig,
    private readonly env: VectorEnv,
    rng: Rng,
  ) {
    if (!(env.actionSpace instanceof Discrete)) throw new Error('NaivePpo: discrete action spaces only');
    this.numActions = env.actionSpace.n;
    this.rng = rng;
    this.stepsPerUpdate = env.numEnvs * config.numSteps;
    const { hidden, activation, policyGain, valueGain } = config.network;
    const image = config.network.torso === 'conv' ? imageShape(env.observationSpace.shape, env.id) : null;
    if (image) ensureConvFilterGrad();
    this.inputShape = image ?? [env.obsSize];
    const mlp = (outSize: number, headGain: number) => {
      const model = tf.sequential();
      let inSize = env.obsSize;
      if (image) {
        model.add(tf.layers.conv2d({ filters: CONV_CHANNELS, kernelSize: CONV_KERNEL, strides: 1, padding: 'valid', activation: 'relu', inputShape: image }));
        model.add(tf.layers.flatten());
        inSize = (image[0] - CONV_KERNEL + 1) * (image[1] - CONV_KERNEL + 1) * CONV_CHANNELS;
      }
      hidden.forEach((size) => {
        model.add(tf.layers.dense({ units: size, activation, inputShape: [inSize] }));
        inSize = size;
      });
      model.add(tf.layers.dense({ units: outSize, inputShape: [inSize] }));
      // CleanRL's init: orthogonal kernels (gain √2 on hidden layers; a conv kernel as its [k·k·C, out] matrix), zero biases.
      model.layers.forEach((layer, l) => {
        const weights = layer.getWeights();
        if (weights.length === 0) return; // flatten
        const shape = weights[0]!.shape;
        const cols = shape[shape.length - 1]!;
        const rows = weights[0]!.size / cols;
        const gain = l === model.layers.length - 1 ? headGain : Math.SQRT2;
        layer.setWeights([tf.tensor(orthogonal(rows, cols, gain, rng), shape), tf.zeros([cols])]);
      });
      return model;
    };
    this.actor = mlp(this.numActions, policyGain);
    this.critic = mlp(1, valueGain);
    const { beta1, beta2, eps } = config.optimizer;
    this.optimizer = tf.train.adam(config.lr, beta1, beta2, eps);
    this.variables = [...this.actor.trainableWeights, ...this.critic.trainableWeights].map((w) => w.read() as tf.Variable);
    this.obs = Float32Array.from(env.reset());
  }

  /** Trainable numbers of actor and critic. */
  get parameterCount(): number {
    return this.actor.countParams() + this.critic.countParams();
  }

  /** The Keras class of each actor layer, input to output (`Conv2D`, `Flatten`, `Dense`). */
  get actorLayerClasses(): string[] {
    return this.actor.layers.map((layer) => layer.getClassName());
  }

  /** One PPO iteration: rollout, GAE, epochs × minibatches. `progress` ∈ [0, 1] anneals the learning rate. */
  update(progress: number): void {
    const rollout = this.rollout();
    this.learn(rollout, progress);
  }

  private rollout(): Rollout {
    const { numEnvs, obsSize } = this.env;
    const T = this.config.numSteps;
    const N = numEnvs * T;
    // Time-major, as CleanRL's buffers: sample i = t * numEnvs + e.
    const obs = new Float32Array(N * obsSize);
    const actions = new Int32Array(N);
    const logProbs = new Float32Array(N);
    const values = new Float32Array(N);
    const rewards = new Float32Array(N);
    const dones = new Float32Array(N);
    let nextDone = new Float32Array(numEnvs);
    for (let t = 0; t < T; t++) {
      obs.set(this.obs, t * numEnvs * obsSize);
      dones.set(nextDone, t * numEnvs);
      const out = tf.tidy(() => {
        const x = tf.tensor(this.obs, [numEnvs, ...this.inputShape]);
        const logits = this.actor.predict(x) as tf.Tensor2D;
        const action = tf.reshape(tf.multinomial(logits, 1, this.rng.uint32()), [numEnvs]) as tf.Tensor1D;
        const logProb = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(action, this.numActions)), 1);
        const value = tf.reshape(this.critic.predict(x) as tf.Tensor, [numEnvs]);
        return tf.concat([tf.cast(action, 'float32'), logProb, value]);
      });
      const read = out.dataSync();
      out.dispose();
      const stepActions = new Int32Array(numEnvs);
      for (let e = 0; e < numEnvs; e++) {
        stepActions[e] = read[e]!;
        actions[t * numEnvs + e] = read[e]!;
        logProbs[t * numEnvs + e] = read[numEnvs + e]!;
        values[t * numEnvs + e] = read[2 * numEnvs + e]!;
      }
      const step = this.env.step(stepActions);
      nextDone = new Float32Array(numEnvs);
      for (let e = 0; e < numEnvs; e++) {
        rewards[t * numEnvs + e] = step.rewards[e]!;
        nextDone[e] = step.terminated[e] || step.truncated[e] ? 1 : 0;
      }
      this.obs = Float32Array.from(step.obs);
    }
    this.lastReturns = this.env.drainEpisodes().map((e) => e.return);
    const nextValue = tf.tidy(() => (this.critic.predict(tf.tensor(this.obs, [numEnvs, ...this.inputShape])) as tf.Tensor).dataSync());
    const advantages = new Float32Array(N);
    const { gamma, gaeLambda } = this.config;
    const last = new Float32Array(numEnvs);
    for (let t = T - 1; t >= 0; t--) {
      for (let e = 0; e < numEnvs; e++) {
        const i = t * numEnvs + e;
        const nonTerminal = t === T - 1 ? 1 - nextDone[e]! : 1 - dones[i + numEnvs]!;
        const next = t === T - 1 ? nextValue[e]! : values[i + numEnvs]!;
        const delta = rewards[i]! + gamma * next * nonTerminal - values[i]!;
        last[e] = delta + gamma * gaeLambda * nonTerminal * last[e]!;
        advantages[i] = last[e]!;
      }
    }
    const returns = advantages.map((a, i) => a + values[i]!);
    return { obs, actions, logProbs, values, advantages, returns };
  }

  private learn(r: Rollout, progress: number): void {
    const { config } = this;
    const N = r.actions.length;
    const lr = config.annealLr ? config.lr * (1 - progress) : config.lr;
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    const batch = {
      obs: tf.tensor(r.obs, [N, ...this.inputShape]),
      actions: tf.tensor1d(r.actions, 'int32'),
      logProbs: tf.tensor1d(r.logProbs),
      values: tf.tensor1d(r.values),
      advantages: tf.tensor1d(r.advantages),
      returns: tf.tensor1d(r.returns),
    };
    const minibatchSize = Math.floor(N / config.numMinibatches);
    for (let epoch = 0; epoch < config.updateEpochs; epoch++) {
      const order = this.rng.permutation(N);
      for (let start = 0; start < N; start += minibatchSize) {
        const idx = tf.tensor1d(Int32Array.from(order.subarray(start, start + minibatchSize)), 'int32');
        const readout = tf.tidy(() => {
          const obs = tf.gather(batch.obs, idx);
          const actions = tf.gather(batch.actions, idx);
          const oldLogProbs = tf.gather(batch.logProbs, idx);
          const oldValues = tf.gather(batch.values, idx);
          const returns = tf.gather(batch.returns, idx);
          let advantages = tf.gather(batch.advantages, idx);
          if (config.normAdv) {
            const { mean, variance } = tf.moments(advantages);
            const std = tf.sqrt(tf.mul(variance, minibatchSize / (minibatchSize - 1)));
            advantages = tf.div(tf.sub(advantages, mean), tf.add(std, 1e-8));
          }
          let approxKl: tf.Tensor | null = null;
          const { value: loss, grads } = tf.variableGrads(() => {
            const logits = this.actor.apply(obs) as tf.Tensor2D;
            const logp = tf.logSoftmax(logits);
            const newLogProb = tf.sum(tf.mul(logp, tf.oneHot(actions, this.numActions)), 1);
            const entropy = tf.mean(tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)));
            const logRatio = tf.sub(newLogProb, oldLogProbs);
            const ratio = tf.exp(logRatio);
            approxKl = tf.keep(tf.mean(tf.sub(tf.sub(ratio, 1), logRatio)));
            const pg1 = tf.mul(tf.neg(advantages), ratio);
            const pg2 = tf.mul(tf.neg(advantages), tf.clipByValue(ratio, 1 - config.clipCoef, 1 + config.clipCoef));
            const pgLoss = tf.mean(tf.maximum(pg1, pg2));
            const newValue = tf.reshape(this.critic.apply(obs) as tf.Tensor, [-1]);
            let vLoss: tf.Tensor;
            if (config.clipVloss) {
              const unclipped = tf.square(tf.sub(newValue, returns));
              const clippedValue = tf.add(oldValues, tf.clipByValue(tf.sub(newValue, oldValues), -config.clipCoef, config.clipCoef));
              vLoss = tf.mul(tf.mean(tf.maximum(unclipped, tf.square(tf.sub(clippedValue, returns)))), 0.5);
            } else {
              vLoss = tf.mul(tf.mean(tf.square(tf.sub(newValue, returns))), 0.5);
            }
            return tf.add(tf.sub(pgLoss, tf.mul(entropy, config.entCoef)), tf.mul(vLoss, config.vfCoef)) as tf.Scalar;
          }, this.variables);
          // Global-norm clip, as torch.nn.utils.clip_grad_norm_.
          const names = Object.keys(grads);
          const norm = tf.sqrt(tf.addN(names.map((k) => tf.sum(tf.square(grads[k]!)))));
          const scale = config.maxGradNorm > 0 ? tf.minimum(1, tf.div(config.maxGradNorm, tf.add(norm, 1e-6))) : tf.scalar(1);
          this.optimizer.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name]!, scale) })));
          const out = tf.stack([loss, approxKl!]);
          approxKl!.dispose(); // kept past variableGrads' scope, so released by hand
          return out;
        });
        // CleanRL reads the loss and approx_kl back (.item()) every minibatch.
        readout.dataSync();
        readout.dispose();
        idx.dispose();
      }
    }
    tf.dispose(Object.values(batch));
  }

  dispose(): void {
    this.actor.dispose();
    this.critic.dispose();
    this.optimizer.dispose();
  }
}
