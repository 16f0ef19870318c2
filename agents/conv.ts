/**
 * The convolutional torso for image observations (`agent.network.torso: "conv"`): MinAtar's (Young & Tian 2019),
 * one 3×3 convolution with 16 output channels, stride 1, no padding ('valid': a [10, 10, C] frame gives [8, 8, 16]),
 * ReLU, flattened (row, col, channel order) into the dense `hidden` stack.
 *
 * Observations stay flat ([n, H·W·C], channels last, as the envs store them). The convolution is computed as
 * im2col + one matmul: `patches` gathers each output position's 3×3×C window into a row ([n·P, k·k·C], P = the
 * output positions, patch entries ordered (ky, kx, c) like the kernel's [k, k, C, out] layout), then
 * z = patches · W + b. One op with a hand-written gradient (dW = patchesᵀ·dz with an explicit transpose, db = Σ dz;
 * nothing for the patches, which are data): tfjs-wasm has no Conv2DBackpropFilter, and its matmul with a transposed
 * operand is a slow loop.
 *
 * Per-sample gradients (for the noise monitor): sample i's gradient of [W; b] is Σ_p [patch_ip, 1] ⊗ δ_ip, a
 * [k·k·C + 1, out] matrix that is not rank one, so `perSampleConvGrads` forms it explicitly, one batched
 * [k·k·C, P] × [P, out] product per sample plus the bias row Σ_p δ_ip, flattened as the variables are (W row-major,
 * then b).
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../src/core/errors.js';

export const CONV_KERNEL = 3;
/**
 * Backends whose tensors live in CPU memory, where im2col and the per-sample products run in plain TypeScript:
 * reading the data back is free there, tfjs-wasm's batched matmul is a slow loop (2.7 s for 8,192 Breakout frames,
 * one layer), and the plain loop skips the zero entries of the patches (MinAtar frames are mostly zeros).
 */
const PLAIN_BACKENDS = new Set(['wasm', 'cpu']);
export const CONV_CHANNELS = 16;

export interface ConvLayer {
  readonly name: string;
  /** Input image [height, width, channels]. */
  readonly inShape: readonly [number, number, number];
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  /** Output positions P = outHeight · outWidth. */
  readonly positions: number;
  /** Patch width k·k·C. */
  readonly patchSize: number;
  /** Flattened output width P · outChannels (the first dense layer's input). */
  readonly outSize: number;
  /** [k, k, C, outChannels]. */
  readonly weight: tf.Variable<tf.Rank.R4>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  /** Flat input index of patch entry (p, j), [P · patchSize]: the im2col gather. */
  readonly patchIndex: Int32Array;
}

/**
 * The [H, W, C] shape of an image observation space (`Box.shape`), or a ConfigError at `agent.network.torso` saying why the conv
 * torso cannot take it (not three dimensions, or smaller than the kernel).
 */
export function imageShape(shape: readonly number[], envId: string): [number, number, number] {
  const [h, w, c] = shape as [number, number, number];
  if (shape.length !== 3 || !(h >= CONV_KERNEL && w >= CONV_KERNEL && c >= 1)) {
    throw new ConfigError(
      'agent.network.torso',
      'conv',
      `the conv torso needs image observations [height, width, channels] of at least ${CONV_KERNEL}×${CONV_KERNEL}; ${envId} observes shape [${shape.join(', ')}] (use torso "mlp")`,
    );
  }
  return [h, w, c];
}

/** A conv layer on [H, W, C] inputs with the given initial weight ([k, k, C, out] row-major, i.e. a [k·k·C, out] matrix), zero bias. */
export function makeConv(name: string, inShape: readonly [number, number, number], weight: Float32Array): ConvLayer {
  const [h, w, c] = inShape;
  const outHeight = h - CONV_KERNEL + 1;
  const outWidth = w - CONV_KERNEL + 1;
  const positions = outHeight * outWidth;
  const patchSize = CONV_KERNEL * CONV_KERNEL * c;
  const patchIndex = new Int32Array(positions * patchSize);
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      const p = oy * outWidth + ox;
      for (let ky = 0; ky < CONV_KERNEL; ky++) {
        for (let kx = 0; kx < CONV_KERNEL; kx++) {
          for (let ch = 0; ch < c; ch++) {
            patchIndex[p * patchSize + (ky * CONV_KERNEL + kx) * c + ch] = ((oy + ky) * w + (ox + kx)) * c + ch;
          }
        }
      }
    }
  }
  const initialWeight = tf.tensor4d(weight, [CONV_KERNEL, CONV_KERNEL, c, CONV_CHANNELS]);
  const initialBias = tf.zeros([CONV_CHANNELS]) as tf.Tensor1D;
  const layer: ConvLayer = {
    name,
    inShape: [h, w, c],
    outHeight,
    outWidth,
    outChannels: CONV_CHANNELS,
    positions,
    patchSize,
    outSize: positions * CONV_CHANNELS,
    weight: tf.variable(initialWeight, true, `${name}/W`),
    bias: tf.variable(initialBias, true, `${name}/b`),
    patchIndex,
  };
  tf.dispose([initialWeight, initialBias]);
  return layer;
}

/**
 * The im2col patches of flat observations x [n, H·W·C]: [n·P, k·k·C]. On CPU-memory backends by a plain-TS copy
 * (tfjs-wasm's gather of 2,304 columns per row costs ~90 ms for a 1,024-frame minibatch; the copy a few ms).
 */
export function convPatches(x: tf.Tensor2D, layer: ConvLayer, method: 'auto' | 'tfjs' | 'plain' = 'auto'): tf.Tensor2D {
  const n = x.shape[0];
  if (method === 'plain' || (method === 'auto' && PLAIN_BACKENDS.has(tf.getBackend()))) {
    const xv = x.dataSync();
    const { patchIndex, inShape } = layer;
    const inSize = inShape[0] * inShape[1] * inShape[2];
    const per = patchIndex.length;
    const out = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const xo = i * inSize;
      const oo = i * per;
      for (let k = 0; k < per; k++) out[oo + k] = xv[xo + patchIndex[k]!]!;
    }
    return tf.tensor2d(out, [n * layer.positions, layer.patchSize]);
  }
  const gathered = tf.gather(x, tf.tensor1d(layer.patchIndex, 'int32'), 1);
  return tf.reshape(gathered, [n * layer.positions, layer.patchSize]) as tf.Tensor2D;
}

/** z = patches · W + b (then ReLU), with the gradient of the header. Inputs: patches, W (rank 4), b. */
const convReluOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const save = args[args.length - 1] as tf.GradSaveFunc;
  const [patches, w, b] = args as [tf.Tensor2D, tf.Tensor4D, tf.Tensor1D];
  const w2 = tf.reshape(w, [patches.shape[1], b.shape[0]]) as tf.Tensor2D;
  const y = tf.relu(tf.fused.matMul({ a: patches, b: w2, bias: b }));
  save([patches, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sp, sy] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dz = tf.mul(dy, tf.step(sy)) as tf.Tensor2D;
      return [tf.zerosLike(sp), tf.reshape(tf.matMul(tf.transpose(sp), dz), w.shape), tf.sum(dz, 0)];
    },
  };
});

/**
 * The conv torso's output for flat observations x [n, H·W·C]: ReLU(conv), flattened to [n, P · out]. `patches`
 * (from `convPatches` of the same x) may be passed to share them between conv layers of the same input shape.
 */
export function applyConv(x: tf.Tensor2D, layer: ConvLayer, patches?: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  const y = convReluOp(patches ?? convPatches(x, layer), layer.weight, layer.bias) as tf.Tensor2D;
  return tf.reshape(y, [n, layer.outSize]) as tf.Tensor2D;
}

/** Samples per chunk of `perSampleConvGrads`: bounds its working memory (~patch·P floats per sample) on wasm. */
const PER_SAMPLE_CHUNK = 512;

/**
 * Per-sample gradients of [W; b] from the inputs x [n, H·W·C] and the pre-activation δ [n, P · out] (δ_i of the
 * SUMMED loss, as the monitor's factors hold them): [n, (k·k·C + 1) · out], row i = vec([Σ_p patch_ip ⊗ δ_ip;
 * Σ_p δ_ip]), i.e. W's gradient flattened row-major followed by b's. The patches are gathered straight into the
 * transposed [patch, P] layout, and the work goes in chunks of samples so that only one chunk's patches exist at a time.
 * On CPU-memory backends (wasm, cpu) the same sums run in plain TypeScript (`method` forces either, for tests).
 */
export function perSampleConvGrads(x: tf.Tensor2D, delta: tf.Tensor2D, layer: ConvLayer, method: 'auto' | 'tfjs' | 'plain' = 'auto'): tf.Tensor2D {
  const plain = method === 'plain' || (method === 'auto' && PLAIN_BACKENDS.has(tf.getBackend()));
  return plain ? plainPerSampleConvGrads(x, delta, layer) : tfjsPerSampleConvGrads(x, delta, layer);
}

function plainPerSampleConvGrads(x: tf.Tensor2D, delta: tf.Tensor2D, layer: ConvLayer): tf.Tensor2D {
  const n = x.shape[0];
  const { positions, patchSize, outChannels, patchIndex } = layer;
  const inSize = x.shape[1];
  const width = (patchSize + 1) * outChannels;
  const xv = x.dataSync();
  const dv = delta.dataSync();
  const out = new Float32Array(n * width);
  const acc = new Float64Array(width);
  const biasRow = patchSize * outChannels;
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    const xo = i * inSize;
    for (let p = 0; p < positions; p++) {
      const dpo = (i * positions + p) * outChannels;
      for (let o = 0; o < outChannels; o++) acc[biasRow + o]! += dv[dpo + o]!;
      const po = p * patchSize;
      for (let j = 0; j < patchSize; j++) {
        const v = xv[xo + patchIndex[po + j]!]!;
        if (v === 0) continue;
        const go = j * outChannels;
        for (let o = 0; o < outChannels; o++) acc[go + o]! += v * dv[dpo + o]!;
      }
    }
    const oo = i * width;
    for (let k = 0; k < width; k++) out[oo + k] = acc[k]!;
  }
  return tf.tensor2d(out, [n, width]);
}

function tfjsPerSampleConvGrads(x: tf.Tensor2D, delta: tf.Tensor2D, layer: ConvLayer): tf.Tensor2D {
  const n = x.shape[0];
  const { positions, patchSize, outChannels } = layer;
  const index = transposedPatchIndex(layer);
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < n; start += PER_SAMPLE_CHUNK) {
    const rows = Math.min(PER_SAMPLE_CHUNK, n - start);
    parts.push(
      tf.tidy(() => {
        const xs = rows === n ? x : tf.slice(x, [start, 0], [rows, -1]);
        const ds = tf.reshape(rows === n ? delta : tf.slice(delta, [start, 0], [rows, -1]), [rows, positions, outChannels]) as tf.Tensor3D;
        const patchesT = tf.reshape(tf.gather(xs, index, 1), [rows, patchSize, positions]) as tf.Tensor3D;
        const kernel = tf.reshape(tf.matMul(patchesT, ds), [rows, patchSize * outChannels]);
        return tf.concat([kernel, tf.sum(ds, 1)], 1) as tf.Tensor2D;
      }),
    );
  }
  index.dispose();
  if (parts.length === 1) return parts[0]!;
  const all = tf.concat(parts, 0) as tf.Tensor2D;
  tf.dispose(parts);
  return all;
}

/** The im2col gather in [patch entry, position] order: input index of patch entry j at position p, at j·P + p. */
function transposedPatchIndex(layer: ConvLayer): tf.Tensor1D {
  const { positions, patchSize, patchIndex } = layer;
  const index = new Int32Array(positions * patchSize);
  for (let p = 0; p < positions; p++) for (let j = 0; j < patchSize; j++) index[j * positions + p] = patchIndex[p * patchSize + j]!;
  return tf.tensor1d(index, 'int32');
}

/** A conv layer's weights copied for the plain-TypeScript forward pass. */
export interface PlainConv {
  readonly layer: ConvLayer;
  /** Transposed: [out, k·k·C]. */
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

export function plainConv(layer: ConvLayer): PlainConv {
  return { layer, weight: new Float64Array(layer.patchSize * layer.outChannels), bias: new Float64Array(layer.outChannels) };
}

/** Read a conv layer's weights back from tfjs into its plain copy. */
export function refreshPlainConv(plain: PlainConv): void {
  const w = plain.layer.weight.dataSync();
  const { patchSize, outChannels } = plain.layer;
  for (let j = 0; j < patchSize; j++) for (let o = 0; o < outChannels; o++) plain.weight[o * patchSize + j] = w[j * outChannels + o]!;
  plain.bias.set(plain.layer.bias.dataSync());
}

/** ReLU(conv) of n flat observations into y ([n, P · out]), in float64. */
export function plainConvForward(plain: PlainConv, x: Float64Array, n: number, y: Float64Array): void {
  const { positions, patchSize, outChannels, patchIndex, inShape } = plain.layer;
  const inSize = inShape[0] * inShape[1] * inShape[2];
  const wt = plain.weight;
  for (let s = 0; s < n; s++) {
    const xo = s * inSize;
    for (let p = 0; p < positions; p++) {
      const po = p * patchSize;
      const yo = (s * positions + p) * outChannels;
      for (let o = 0; o < outChannels; o++) {
        const wo = o * patchSize;
        let acc = plain.bias[o]!;
        for (let j = 0; j < patchSize; j++) acc += x[xo + patchIndex[po + j]!]! * wt[wo + j]!;
        y[yo + o] = acc > 0 ? acc : 0;
      }
    }
  }
}
