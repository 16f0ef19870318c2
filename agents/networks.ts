/**
 * Actor-critic MLPs for Discrete (categorical head) and Box (diagonal Gaussian head with a state-independent log-std)
 * action spaces, with the critic either a separate MLP or a value head on a shared trunk (`network.shared`).
 *
 * Two forward passes over the same weights:
 * - `ActorCritic.forward` is the tfjs pass used for every loss. It accepts TAPS: `taps[l]` ([n, out_l]) is added to
 *   dense layer l's pre-activation and each layer's input is returned, which is what the noise monitor needs to
 *   recover per-sample gradients (x_iᵀδ_i with δ = ∂loss/∂tap).
 * - `PlainForward` is plain TypeScript arithmetic (float64) over a copy of the weights read back once per update.
 *   Agents act with it, so the rollout makes no tfjs call per env step. Tests hold it equal to the tfjs pass (1e-5).
 *   Where the tfjs pass is faster (many rows on wasm: `tfjsForwardFaster`) acting and batched values use tfjs.
 *
 * With `torso: "conv"` (conv.ts) each chain (the shared trunk, or the actor and the critic) starts with MinAtar's
 * 3×3×16 conv layer on the [H, W, C] observation; the dense layers then take its flattened output. Conv layers are not
 * tapped (`convs`, `policyConv`, `valueConv`): the noise probe forms their per-sample gradients explicitly.
 *
 * Initialisation follows CleanRL: orthogonal weights (gain √2 on hidden layers, `policyGain` on the policy head,
 * `valueGain` on the value head), zero biases, log-std = `logStdInit`; all drawn from the `init` stream we are handed.
 *
 * Layers are numbered in one canonical order: separate nets → actor hidden.., policy head, critic hidden.., value
 * head; shared → trunk.., policy head, value head. A Gaussian policy appends one more, bias-only "layer" for its
 * log-std: no weight, input width 0 (tapped input [n, 0]), bias = log-std. The tap formula then gives the log-std's
 * per-sample gradient exactly (n·δ_i), which is the convention the noise monitor expects for state-independent
 * parameters. (Avoid reducing over that zero-width input on wasm: tfjs-wasm returns garbage for it.)
 */
import * as tf from '@tensorflow/tfjs';
import type { NetworkConfig } from '../src/config/schema.js';
import type { Rng } from '../src/core/rng.js';
import { Box, type Space } from '../src/core/spaces.js';
import { applyConv, CONV_CHANNELS, convPatches, CONV_KERNEL, imageShape, makeConv, plainConv, plainConvForward, refreshPlainConv, type ConvLayer, type PlainConv } from './conv.js';

export type Activation = 'tanh' | 'relu' | 'linear';

export interface DenseLayer {
  readonly name: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly activation: Activation;
  /** [inSize, outSize]; null for the bias-only log-std layer. */
  readonly weight: tf.Variable<tf.Rank.R2> | null;
  readonly bias: tf.Variable<tf.Rank.R1>;
}

export type PolicyKind = 'categorical' | 'gaussian';

export interface ActorCriticOptions {
  /** Build a critic (value function). REINFORCE without a value baseline has none. */
  value: boolean;
  /** The observation space's shape (`Box.shape`); the conv torso needs [H, W, C]. */
  obsShape?: readonly number[];
  /** Named in the error when the conv torso cannot take the observations. */
  envId?: string;
}

export interface ForwardResult {
  /** Categorical: logits [n, A]. Gaussian: means [n, A]. Present when the policy path was run. */
  policy?: tf.Tensor2D;
  /** Gaussian only: log-std, [A] (untapped) or [n, A] (tapped). */
  logStd?: tf.Tensor;
  /** V(s), [n]. Present when the value path was run. */
  value?: tf.Tensor1D;
  /** Input of every dense layer that ran, indexed like `ActorCritic.layers`. */
  inputs: (tf.Tensor2D | undefined)[];
}

export type ForwardPaths = 'policy' | 'value' | 'both';

let networkCounter = 0;

export class ActorCritic {
  readonly kind: PolicyKind;
  readonly obsSize: number;
  /** Logits per sample (categorical) or action dimensions (Gaussian). */
  readonly actionDim: number;
  readonly shared: boolean;
  readonly hasValue: boolean;
  /** Every dense layer (the log-std layer last for Gaussian policies), in canonical order. */
  readonly layers: readonly DenseLayer[];
  /** Layer indices the policy output depends on, input to output (plus the log-std layer for Gaussian). */
  readonly policyLayers: readonly number[];
  /** Layer indices the value output depends on, input to output (empty without a critic). */
  readonly valueLayers: readonly number[];
  /** Index of the log-std layer, or -1. */
  readonly logStdLayer: number;
  /** Conv torso layers (torso "conv"): one for the shared trunk, else one for the actor and one for the critic. */
  readonly convs: readonly ConvLayer[];
  /** Index into `convs` of the conv layer in front of the policy / value chain, or -1. */
  readonly policyConv: number;
  readonly valueConv: number;
  /** All variables: the conv layers' weight and bias, then for each dense layer its weight (if any) then its bias. */
  readonly variables: readonly tf.Variable[];

  /** Dense layers from the torso to the policy head, and to the value head (empty without a critic). */
  readonly policyChain: readonly number[];
  readonly valueChain: readonly number[];
  /** Leading layers the two chains share (the trunk, with `network.shared`); 0 for separate nets. */
  readonly trunkDepth: number;

  constructor(obsSize: number, actionSpace: Space, config: NetworkConfig, initRng: Rng, options: ActorCriticOptions) {
    this.kind = actionSpace instanceof Box ? 'gaussian' : 'categorical';
    this.obsSize = obsSize;
    this.actionDim = actionSpace instanceof Box ? actionSpace.size : actionSpace.n;
    this.hasValue = options.value;
    this.shared = config.shared && options.value;
    if (config.torso === 'gru') throw new RangeError('ActorCritic: the GRU torso is RecurrentActorCritic (gru.ts), built by the recurrent PPO agent');
    const id = networkCounter++;
    const convs: ConvLayer[] = [];
    const inShape = config.torso === 'conv' ? imageShape(options.obsShape ?? [obsSize], options.envId ?? 'this env') : null;
    const addConv = (name: string): number => {
      const weight = orthogonal(CONV_KERNEL * CONV_KERNEL * inShape![2], CONV_CHANNELS, Math.SQRT2, initRng);
      convs.push(makeConv(`ac${id}/${name}`, inShape!, weight));
      return convs.length - 1;
    };
    // The dense stack's input: the flattened conv output, or the observation.
    const torsoSize = inShape ? (inShape[0] - CONV_KERNEL + 1) * (inShape[1] - CONV_KERNEL + 1) * CONV_CHANNELS : obsSize;
    const layers: DenseLayer[] = [];
    const add = (name: string, inSize: number, outSize: number, activation: Activation, gain: number): number => {
      layers.push(makeDense(`ac${id}/${name}`, inSize, outSize, activation, orthogonal(inSize, outSize, gain, initRng)));
      return layers.length - 1;
    };
    const hiddenGain = Math.SQRT2;
    const hiddenChain = (prefix: string): number[] => {
      const chain: number[] = [];
      let inSize = torsoSize;
      config.hidden.forEach((size, i) => {
        chain.push(add(`${prefix}${i}`, inSize, size, config.activation, hiddenGain));
        inSize = size;
      });
      return chain;
    };
    const lastHidden = config.hidden.length > 0 ? config.hidden[config.hidden.length - 1]! : torsoSize;
    if (this.shared) {
      this.policyConv = this.valueConv = inShape ? addConv('trunkConv') : -1;
      const trunk = hiddenChain('trunk');
      const policyHead = add('policyHead', lastHidden, this.actionDim, 'linear', config.policyGain);
      const valueHead = add('valueHead', lastHidden, 1, 'linear', config.valueGain);
      this.policyChain = [...trunk, policyHead];
      this.valueChain = [...trunk, valueHead];
      this.trunkDepth = trunk.length;
    } else {
      this.policyConv = inShape ? addConv('actorConv') : -1;
      this.valueConv = inShape && options.value ? addConv('criticConv') : -1;
      const actor = hiddenChain('actor');
      this.policyChain = [...actor, add('policyHead', lastHidden, this.actionDim, 'linear', config.policyGain)];
      if (options.value) {
        const critic = hiddenChain('critic');
        this.valueChain = [...critic, add('valueHead', lastHidden, 1, 'linear', config.valueGain)];
      } else {
        this.valueChain = [];
      }
      this.trunkDepth = 0;
    }
    if (this.kind === 'gaussian') {
      layers.push(makeDense(`ac${id}/logStd`, 0, this.actionDim, 'linear', null, config.logStdInit));
      this.logStdLayer = layers.length - 1;
    } else {
      this.logStdLayer = -1;
    }
    this.layers = layers;
    this.convs = convs;
    this.policyLayers = this.logStdLayer >= 0 ? [...this.policyChain, this.logStdLayer] : [...this.policyChain];
    this.valueLayers = [...this.valueChain];
    this.variables = [...this.convVariablesOf('both'), ...this.variablesOf(layers.map((_, l) => l))];
  }

  /** Weight and bias of the conv layers the given paths depend on (none without a conv torso). */
  convVariablesOf(paths: ForwardPaths): tf.Variable[] {
    const used = new Set<number>();
    if (paths !== 'value' && this.policyConv >= 0) used.add(this.policyConv);
    if (paths !== 'policy' && this.hasValue && this.valueConv >= 0) used.add(this.valueConv);
    return [...used].sort((a, b) => a - b).flatMap((c) => [this.convs[c]!.weight, this.convs[c]!.bias]);
  }

  /** Variables of the given layers, weight (if any) then bias per layer. */
  variablesOf(layerIndices: readonly number[]): tf.Variable[] {
    return layerIndices.flatMap((l) => {
      const layer = this.layers[l]!;
      return layer.weight ? [layer.weight, layer.bias] : [layer.bias];
    });
  }

  /** Number of trainable numbers. */
  get parameterCount(): number {
    return this.variables.reduce((sum, v) => sum + v.size, 0);
  }

  /**
   * The tfjs forward pass. `taps[l]` (optional, [n, out_l]) is added to layer l's pre-activation. Only the paths
   * asked for are run; `inputs[l]` holds the input of each layer that ran (with `taps`, the log-std layer's is [n, 0]).
   */
  forward(x: tf.Tensor2D, taps?: readonly (tf.Tensor2D | undefined)[], paths: ForwardPaths = 'both'): ForwardResult {
    const n = x.shape[0];
    const inputs: (tf.Tensor2D | undefined)[] = new Array(this.layers.length).fill(undefined);
    const result: ForwardResult = { inputs };
    const runPolicy = paths !== 'value';
    const runValue = paths !== 'policy' && this.hasValue;
    const conv = this.convs.length > 0;
    const run = (chain: readonly number[], start: number, h: tf.Tensor2D): tf.Tensor2D => {
      for (let k = start; k < chain.length; k++) {
        const l = chain[k]!;
        inputs[l] = h;
        h = applyDense(h, this.layers[l]!, taps?.[l], k === 0 && !conv);
      }
      return h;
    };
    // Every conv layer takes the same observation: one set of patches serves the actor's and the critic's.
    let patches: tf.Tensor2D | undefined;
    const torso = (c: number) => (c >= 0 ? applyConv(x, this.convs[c]!, (patches ??= convPatches(x, this.convs[c]!))) : x);
    let trunkOut: tf.Tensor2D | null = null;
    if ((this.trunkDepth > 0 || this.shared) && (runPolicy || runValue)) trunkOut = run(this.policyChain.slice(0, this.trunkDepth), 0, torso(this.policyConv));
    const from = (chain: readonly number[], c: number) => (trunkOut ? run(chain, this.trunkDepth, trunkOut) : run(chain, 0, torso(c)));
    if (runPolicy) {
      result.policy = from(this.policyChain, this.policyConv);
      if (this.logStdLayer >= 0) {
        const bias = this.layers[this.logStdLayer]!.bias;
        const tap = taps?.[this.logStdLayer];
        if (taps) inputs[this.logStdLayer] = tf.zeros([n, 0]) as tf.Tensor2D;
        result.logStd = tap ? tf.add(bias, tap) : bias;
      }
    }
    if (runValue) result.value = tf.reshape(from(this.valueChain, this.valueConv), [n]) as tf.Tensor1D;
    return result;
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}

function makeDense(name: string, inSize: number, outSize: number, activation: Activation, weight: Float32Array | null, biasInit = 0): DenseLayer {
  // The initial-value tensors are released; the variables hold their data.
  const initialWeight = weight ? tf.tensor2d(weight, [inSize, outSize]) : null;
  const initialBias = tf.fill([outSize], biasInit) as tf.Tensor1D;
  const layer: DenseLayer = {
    name,
    inSize,
    outSize,
    activation,
    weight: initialWeight ? tf.variable(initialWeight, true, `${name}/W`) : null,
    bias: tf.variable(initialBias, true, `${name}/b`),
  };
  tf.dispose([initialBias, ...(initialWeight ? [initialWeight] : [])]);
  return layer;
}

// ---------------------------------------------------------------------------------------------------------------
// Dense layers, tuned per backend.
// On wasm a matMul with a transposed operand falls back to a naive kernel (~10× slower than transposing first), and
// tanh is scalar libm (~8× slower than the vectorised sigmoid). So on wasm a dense layer (matMul + bias + tap +
// activation) is ONE op with a hand-written gradient that transposes explicitly, and tanh is computed as 2σ(2z) − 1.
// Elsewhere the stock ops and autodiff are used. The maths is the same (test/agents/wasm.test.ts).

function applyDense(x: tf.Tensor2D, layer: DenseLayer, tap: tf.Tensor2D | undefined, inputIsData: boolean): tf.Tensor2D {
  const weight = layer.weight!;
  if (tf.getBackend() === 'wasm') {
    const op = wasmDenseOps[layer.activation][inputIsData ? 1 : 0];
    return (tap ? op(x, weight, layer.bias, tap) : op(x, weight, layer.bias)) as tf.Tensor2D;
  }
  return denseOutput(x, weight, layer.bias, layer.activation, tap);
}

/**
 * y = act(x·W + b [+ tap]) with gradients dz = act'·dy, dx = dz·Wᵀ (zeros when x is data), dW = xᵀ·dz, db = Σ dz,
 * dtap = dz. W is a variable, constant during one backward pass, so only x and y are saved.
 */
function wasmDenseOp(activation: Activation, inputIsData: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [x, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const tapped = args.length === 5;
    const y = denseOutput(x, w, b, activation, tapped ? (args[3] as tf.Tensor2D) : undefined);
    save([x, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sy] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dz = denseDz(dy as tf.Tensor2D, sy, activation);
        const dx = inputIsData ? tf.zerosLike(sx) : denseDx(dz, w);
        const grads = [dx, denseDw(sx, dz), tf.sum(dz, 0)];
        return tapped ? [...grads, dz] : grads;
      },
    };
  });
}

// A dense layer's forward and backward arithmetic as `applyDense` and its gradient (wasmDenseOp's, or autodiff of
// the stock ops elsewhere) run it on the active backend, op for op; the written-out update (dense-backward.ts) runs
// the same functions without a tape and so gets the same numbers.

/** act(x·W + b [+ tap]). */
export function denseOutput(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, activation: Activation, tap?: tf.Tensor2D): tf.Tensor2D {
  let z = tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D;
  if (tap) z = tf.add(z, tap) as tf.Tensor2D;
  const wasm = tf.getBackend() === 'wasm';
  switch (activation) {
    case 'tanh':
      return wasm ? tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1) : tf.tanh(z);
    case 'relu':
      return tf.relu(z);
    case 'linear':
      return z;
  }
}

/** ∂L/∂z from ∂L/∂y at the layer's output y. */
export function denseDz(dy: tf.Tensor2D, y: tf.Tensor2D, activation: Activation): tf.Tensor2D {
  const wasm = tf.getBackend() === 'wasm';
  switch (activation) {
    case 'tanh':
      return (wasm ? tf.mul(dy, tf.sub(1, tf.square(y))) : tf.mul(tf.sub(tf.scalar(1), tf.square(y)), dy)) as tf.Tensor2D;
    case 'relu':
      return tf.mul(dy, tf.step(y)) as tf.Tensor2D;
    case 'linear':
      return dy;
  }
}

/** ∂L/∂x = dz·Wᵀ (on wasm with Wᵀ formed first: its transposed matMul is a slow naive kernel). */
export function denseDx(dz: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  return tf.getBackend() === 'wasm' ? tf.matMul(dz, tf.transpose(w)) : tf.matMul(dz, w, false, true);
}

/** ∂L/∂W = xᵀ·dz. */
export function denseDw(x: tf.Tensor2D, dz: tf.Tensor2D): tf.Tensor2D {
  return tf.getBackend() === 'wasm' ? tf.matMul(tf.transpose(x), dz) : tf.matMul(x, dz, true, false);
}

const wasmDenseOps: Record<Activation, [ReturnType<typeof wasmDenseOp>, ReturnType<typeof wasmDenseOp>]> = {
  tanh: [wasmDenseOp('tanh', false), wasmDenseOp('tanh', true)],
  relu: [wasmDenseOp('relu', false), wasmDenseOp('relu', true)],
  linear: [wasmDenseOp('linear', false), wasmDenseOp('linear', true)],
};

// ---------------------------------------------------------------------------------------------------------------
// Initialisation.

/**
 * A [inSize, outSize] weight whose transpose is what torch.nn.init.orthogonal_ draws for an [out, in] weight: QR of a
 * Gaussian matrix (the tall orientation), signs fixed so R has a positive diagonal, times `gain`.
 */
export function orthogonal(inSize: number, outSize: number, gain: number, rng: Rng): Float32Array {
  const rows = outSize;
  const cols = inSize;
  const gaussian = new Float64Array(rows * cols);
  for (let i = 0; i < gaussian.length; i++) gaussian[i] = rng.normal();
  // Tall matrix m × k (m ≥ k) whose k columns we orthonormalise.
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const k = tall ? cols : rows;
  const q = new Float64Array(m * k); // column-major: column j at [j*m, (j+1)*m)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = gaussian[r * cols + c]!;
      if (tall) q[c * m + r] = value;
      else q[r * m + c] = value;
    }
  }
  // Modified Gram-Schmidt: R's diagonal comes out positive, matching the sign fix torch applies after QR.
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += q[p * m + i]! * q[j * m + i]!;
      for (let i = 0; i < m; i++) q[j * m + i]! -= dot * q[p * m + i]!;
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += q[j * m + i]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) q[j * m + i]! /= norm;
  }
  // torch weight[r][c] = Q[r][c] (tall) or Q[c][r] (wide); ours is its transpose: W[c][r].
  const w = new Float32Array(inSize * outSize);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = tall ? q[c * m + r]! : q[r * m + c]!;
      w[c * outSize + r] = gain * value;
    }
  }
  return w;
}

// ---------------------------------------------------------------------------------------------------------------
// The plain-TypeScript forward pass used for acting.

interface PlainLayer {
  inSize: number;
  outSize: number;
  activation: Activation;
  /** Transposed: [outSize, inSize]. */
  weight: Float64Array;
  bias: Float64Array;
}

/**
 * A copy of an ActorCritic's weights with a forward pass in plain TypeScript (float64 throughout, so every typed-array
 * access stays monomorphic). Call `refresh()` after every parameter update; evaluation then costs no tfjs call.
 */
export class PlainForward {
  readonly net: ActorCritic;
  /** The Gaussian log-std, refreshed with the weights. */
  readonly logStd: Float64Array;
  private readonly layers: PlainLayer[];
  private readonly policyChain: PlainLayer[];
  private readonly valueChain: PlainLayer[];
  private readonly trunkDepth: number;
  private readonly convs: PlainConv[];
  private input = new Float64Array(0);
  private torsoPolicy = new Float64Array(0);
  private torsoValue = new Float64Array(0);
  private bufferA = new Float64Array(0);
  private bufferB = new Float64Array(0);
  private trunk = new Float64Array(0);

  constructor(net: ActorCritic) {
    this.net = net;
    this.layers = net.layers.map((l) => ({
      inSize: l.inSize,
      outSize: l.outSize,
      activation: l.activation,
      weight: new Float64Array(l.inSize * l.outSize),
      bias: new Float64Array(l.outSize),
    }));
    this.policyChain = net.policyLayers.filter((l) => l !== net.logStdLayer).map((l) => this.layers[l]!);
    this.valueChain = net.valueLayers.map((l) => this.layers[l]!);
    this.trunkDepth = net.shared ? this.policyChain.length - 1 : 0;
    this.convs = net.convs.map(plainConv);
    this.logStd = new Float64Array(net.kind === 'gaussian' ? net.actionDim : 0);
    this.refresh();
  }

  /** Read the current weights back from tfjs (one dataSync per variable). */
  refresh(): void {
    this.net.layers.forEach((layer, l) => {
      const plain = this.layers[l]!;
      if (layer.weight) {
        const w = layer.weight.dataSync();
        const { inSize, outSize } = plain;
        for (let i = 0; i < inSize; i++) for (let j = 0; j < outSize; j++) plain.weight[j * inSize + i] = w[i * outSize + j]!;
      }
      plain.bias.set(layer.bias.dataSync());
    });
    this.convs.forEach(refreshPlainConv);
    if (this.net.logStdLayer >= 0) this.logStd.set(this.layers[this.net.logStdLayer]!.bias);
  }

  /** Policy outputs (logits or means) for `n` observations into `out` ([n, actionDim]). */
  policy(obs: ArrayLike<number>, n: number, out: Float64Array): void {
    this.run(this.policyChain, 0, this.torso(this.net.policyConv, this.load(obs, n), n, 'policy'), n, out);
  }

  /** V(s) for `n` observations into `out` ([n]). */
  value(obs: ArrayLike<number>, n: number, out: Float64Array): void {
    if (!this.net.hasValue) throw new Error('PlainForward.value: this network has no critic');
    this.run(this.valueChain, 0, this.torso(this.net.valueConv, this.load(obs, n), n, 'value'), n, out);
  }

  /** Both heads in one pass (the trunk is evaluated once when shared). */
  both(obs: ArrayLike<number>, n: number, policyOut: Float64Array, valueOut: Float64Array): void {
    const x = this.load(obs, n);
    if (this.trunkDepth === 0) {
      const xp = this.torso(this.net.policyConv, x, n, 'policy');
      this.run(this.policyChain, 0, xp, n, policyOut);
      if (this.net.hasValue) this.run(this.valueChain, 0, this.net.shared ? xp : this.torso(this.net.valueConv, x, n, 'value'), n, valueOut);
      return;
    }
    const depth = this.trunkDepth;
    const trunkSize = this.policyChain[depth]!.inSize;
    if (this.trunk.length < n * trunkSize) this.trunk = new Float64Array(n * trunkSize);
    this.run(this.policyChain.slice(0, depth), 0, this.torso(this.net.policyConv, x, n, 'policy'), n, this.trunk);
    denseForward(this.policyChain[depth]!, this.trunk, n, policyOut);
    denseForward(this.valueChain[depth]!, this.trunk, n, valueOut);
  }

  private load(obs: ArrayLike<number>, n: number): Float64Array {
    const size = n * this.net.obsSize;
    if (this.input.length < size) this.input = new Float64Array(size);
    for (let i = 0; i < size; i++) this.input[i] = obs[i]!;
    return this.input;
  }

  /** The conv torso's output for conv layer `c` (or x itself without one), in the path's own buffer. */
  private torso(c: number, x: Float64Array, n: number, path: 'policy' | 'value'): Float64Array {
    if (c < 0) return x;
    const conv = this.convs[c]!;
    const size = n * conv.layer.outSize;
    if (path === 'policy' && this.torsoPolicy.length < size) this.torsoPolicy = new Float64Array(size);
    if (path === 'value' && this.torsoValue.length < size) this.torsoValue = new Float64Array(size);
    const out = path === 'policy' ? this.torsoPolicy : this.torsoValue;
    plainConvForward(conv, x, n, out);
    return out;
  }

  private run(chain: readonly PlainLayer[], from: number, x: Float64Array, n: number, out: Float64Array): void {
    let widest = 0;
    for (const layer of chain) widest = Math.max(widest, layer.outSize);
    if (this.bufferA.length < n * widest) {
      this.bufferA = new Float64Array(n * widest);
      this.bufferB = new Float64Array(n * widest);
    }
    let input = x;
    for (let k = from; k < chain.length; k++) {
      const target = k === chain.length - 1 ? out : input === this.bufferA ? this.bufferB : this.bufferA;
      denseForward(chain[k]!, input, n, target);
      input = target;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Which forward pass, per backend. Measured with `gradnoise bench ops` (the cartpole-ppo 64-64 critic, tfjs forward
// plus its read back against PlainForward, ms per call at 4 / 512 / 16384 rows): wasm 0.63/0.07, 1.1/8.7, 36/301
// (tfjs faster from about 32 rows); cpu 0.58/0.07, 17/8.7, 788/345 and WebGPU's software adapter (llvmpipe)
// 4.9/0.07, 30/12, 1683/265 (PlainForward faster at every size). tensorflow (tfjs-node) could not be measured; its
// per-op cost is below wasm's, so wasm's threshold is kept. A real WebGPU adapter could not be measured either, so
// PlainForward is kept there. The choice depends only on the backend and the row count: a seed still fixes a run.

const TFJS_FORWARD_FROM_ROWS: Readonly<Record<string, number>> = { wasm: 64, tensorflow: 64 };

/** Whether the tfjs forward pass (with its read back) beats PlainForward for `rows` rows on the active backend. */
export function tfjsForwardFaster(rows: number): boolean {
  return rows >= (TFJS_FORWARD_FROM_ROWS[tf.getBackend()] ?? Infinity);
}

/** y = act(x W + b) for n rows; W is stored transposed ([out, in]) so each output is one contiguous dot product. */
function denseForward(layer: PlainLayer, x: Float64Array, n: number, y: Float64Array): void {
  const inSize = layer.inSize;
  const outSize = layer.outSize;
  const wt = layer.weight;
  const bias = layer.bias;
  for (let s = 0; s < n; s++) {
    const xo = s * inSize;
    const yo = s * outSize;
    for (let j = 0; j < outSize; j++) {
      const jo = j * inSize;
      // Four accumulators: shorter dependency chains, ~1.5× faster in V8.
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let i = 0;
      for (; i + 3 < inSize; i += 4) {
        a0 += x[xo + i]! * wt[jo + i]!;
        a1 += x[xo + i + 1]! * wt[jo + i + 1]!;
        a2 += x[xo + i + 2]! * wt[jo + i + 2]!;
        a3 += x[xo + i + 3]! * wt[jo + i + 3]!;
      }
      for (; i < inSize; i++) a0 += x[xo + i]! * wt[jo + i]!;
      y[yo + j] = bias[j]! + (a0 + a1 + (a2 + a3));
    }
  }
  if (layer.activation === 'tanh') for (let k = 0; k < n * outSize; k++) y[k] = Math.tanh(y[k]!);
  else if (layer.activation === 'relu') for (let k = 0; k < n * outSize; k++) if (y[k]! < 0) y[k] = 0;
}
