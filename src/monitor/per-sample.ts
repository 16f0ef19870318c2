/**
 * Per-sample and per-group gradient statistics of a `NoiseProbeComponent`, the input of the noise estimator.
 *
 * For every group k of samples (single samples, env segments, episodes, micro-batches) we need |u_k|² and u_k·U, where
 * u_k = Σ_{i∈k} g_i sums the per-sample gradients g_i = ∇ℓ_i and U = Σ_i g_i (= n·∇loss for the mean-reduced loss).
 *
 * Fast path (dense layers, one backward pass). With δ = ∂loss/∂tap and Δ = n·δ, sample i's gradient for a dense
 * layer's [kernel; bias] is x̃_iᵀΔ_i with x̃_i = [x_i, 1]. Then
 * - per sample (group of one): |g_i|² = Σ_l |x̃_i|²·|Δ_i|² (the rank-1 trick);
 * - per group: u_k = X̃_kᵀΔ_k, whose squared norm is NOT Σ_i |x̃_i|²|Δ_i|² (cross terms). Groups are bucketed by size
 *   (sizes within a factor 2, so zero-padding wastes at most half the work), gathered into padded [K_b, m_b, ·]
 *   tensors, and per bucket we take the cheaper of two exact forms: the batched matmul X̃_kᵀΔ_k → [K_b, in+1, out]
 *   (cost ∝ m·in·out per group) or the Gram form Σ_ij (x̃_i·x̃_j)(Δ_i·Δ_j) = sum((X̃_kX̃_kᵀ)∘(Δ_kΔ_kᵀ)) (∝ m²(in+out)).
 *   Either way the total cost stays within a small factor of one backward pass;
 * - U = X̃ᵀΔ per layer (the ordinary gradient × n, one matmul, no second backward) and g_i·U = x̃_iᵀ U Δ_i as
 *   rowsum((X̃U)∘Δ), summed per group.
 * Preconditioned (diagonal P, e.g. Adam's 1/(√v̂+ε)): the P-scaled per-sample norm still factorises,
 * |P∘(x̃Δᵀ)|² = Σ_ab P_ab² x̃_a² Δ_b² = (x̃∘x̃)ᵀ P² (Δ∘Δ) — one matmul per layer, no [n, in, out] tensor; groups of more
 * than one sample use the explicit [K_b, in+1, out] group gradients, scaled by P before squaring.
 *
 * The fast path is exact only when the component's variables are exactly the tapped layers' kernels and biases. We
 * match variables to layers by shape, in order (kernel [in, out], bias [out]; a layer whose input has 0 columns is a
 * bias-only layer, e.g. a state-independent log-std), and refuse (`FastPathUnsupportedError`) when any variable is
 * left over or any layer lacks a match; `verify` also compares U/n with ordinary autodiff.
 *
 * Fallback (any network): one `subset(group)` loss and autodiff per group, plus one for the whole batch. Cost: K + 1
 * backward passes, so single-sample grouping costs n passes.
 */
import * as tf from '@tensorflow/tfjs';
import { GradnoiseError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { GroupStats } from './estimator.js';
import type { NoiseProbeComponent } from './probe.js';

/** A partition of the n samples into groups 0..count−1. */
export interface GroupAssignment {
  readonly ids: Int32Array;
  readonly count: number;
  readonly sizes: Int32Array;
}

export type Preconditioner = (variable: tf.Variable) => tf.Tensor | null;

export interface GradStatsOptions {
  /** Also return the breakdown per layer (fast path) or per matched layer / variable (fallback). */
  perLayer?: boolean;
  /** Also return the P-scaled statistics; null from it for any variable means "not available now". */
  preconditioner?: Preconditioner;
  /** Fast path only: compare the tapped gradient with ordinary autodiff (one more backward pass). */
  verify?: boolean;
}

export interface LabelledStats {
  readonly label: string;
  readonly stats: GroupStats;
}

export interface ComponentGradStats {
  readonly method: 'fast' | 'fallback';
  readonly groups: GroupAssignment;
  readonly total: GroupStats;
  /** Per-layer breakdown (empty unless `perLayer`); each layer's stats sum to `total`. */
  readonly layers: readonly LabelledStats[];
  /** P-scaled statistics; null when not asked for or the preconditioner is not available yet. */
  readonly preconditioned: GroupStats | null;
  /** With `verify`: max over layers of |U/n − autodiff gradient| / |autodiff gradient|. */
  readonly verifyError?: number;
}

/** The probe does not fit the fast path's assumptions; the caller should use the fallback. */
export class FastPathUnsupportedError extends GradnoiseError {
  constructor(reason: string) {
    super('runtime', `fastGradStats: ${reason}`);
  }
}

/** Dense group ids from arbitrary ids (numbered in order of first appearance). */
export function groupsFromIds(ids: ArrayLike<number>): GroupAssignment {
  const dense = new Int32Array(ids.length);
  const index = new Map<number, number>();
  const sizes: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    let k = index.get(ids[i]!);
    if (k === undefined) {
      k = sizes.length;
      index.set(ids[i]!, k);
      sizes.push(0);
    }
    dense[i] = k;
    sizes[k]!++;
  }
  return { ids: dense, count: sizes.length, sizes: Int32Array.from(sizes) };
}

/** Every sample its own group (B_small = 1). */
export function singleSampleGroups(n: number): GroupAssignment {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return { ids, count: n, sizes: new Int32Array(n).fill(1) };
}

/** A random partition into micro-batches of `size` samples (the last one smaller when size does not divide n). */
export function microBatchGroups(n: number, size: number, rng: Rng): GroupAssignment {
  const order = rng.permutation(n);
  const ids = new Int32Array(n);
  for (let r = 0; r < n; r++) ids[order[r]!] = Math.floor(r / size);
  const count = Math.ceil(n / size);
  const sizes = new Int32Array(count).fill(size);
  if (n % size !== 0) sizes[count - 1] = n % size;
  return { ids, count, sizes };
}

interface DenseLayer {
  readonly kernel: tf.Variable | null;
  readonly bias: tf.Variable;
  readonly inSize: number;
  readonly outSize: number;
}

/** Match variables to layers in order by shape; throws FastPathUnsupportedError naming what does not fit. */
function matchDenseLayers(
  variables: readonly tf.Variable[],
  layers: readonly { inSize: number; outSize: number }[],
): DenseLayer[] {
  const used = new Set<number>();
  const take = (shape: readonly number[]): tf.Variable | null => {
    const i = variables.findIndex((v, j) => !used.has(j) && v.shape.length === shape.length && v.shape.every((d, a) => d === shape[a]));
    if (i < 0) return null;
    used.add(i);
    return variables[i]!;
  };
  const matched = layers.map(({ inSize, outSize }, l) => {
    const kernel = inSize > 0 ? take([inSize, outSize]) : null;
    if (inSize > 0 && kernel === null) throw new FastPathUnsupportedError(`no [${inSize}, ${outSize}] kernel variable for tapped layer ${l}`);
    const bias = take([outSize]);
    if (bias === null) throw new FastPathUnsupportedError(`no [${outSize}] bias variable for tapped layer ${l} (layers without bias need the fallback)`);
    return { kernel, bias, inSize, outSize };
  });
  const leftover = variables.filter((_, j) => !used.has(j));
  if (leftover.length > 0) {
    throw new FastPathUnsupportedError(
      `variables not covered by any tapped dense layer: ${leftover.map((v) => `${v.name} [${v.shape.join(', ')}]`).join(', ')} ` +
        '(tap a state-independent parameter as a bias-only layer with an [n, 0] input)',
    );
  }
  return matched;
}

/** Group members sorted into buckets of similar size: padded index lists for gather. */
interface Bucket {
  readonly groups: Int32Array;
  readonly width: number;
  /** groups.length × width sample indices, padded with n (a zero row). */
  readonly index: Int32Array;
  /** index is 0..n−1 in order (single-sample groups in sample order): no gather needed. */
  readonly identity: boolean;
}

function groupMembers(groups: GroupAssignment): Int32Array[] {
  const members = Array.from(groups.sizes, (m) => new Int32Array(m));
  const fill = new Int32Array(groups.count);
  groups.ids.forEach((k, i) => {
    members[k]![fill[k]!++] = i;
  });
  return members;
}

function makeBuckets(groups: GroupAssignment, members: readonly Int32Array[]): Bucket[] {
  const n = groups.ids.length;
  const byLevel = new Map<number, number[]>();
  for (let k = 0; k < groups.count; k++) {
    const level = Math.ceil(Math.log2(groups.sizes[k]!));
    const list = byLevel.get(level) ?? [];
    list.push(k);
    byLevel.set(level, list);
  }
  return [...byLevel.keys()]
    .sort((a, b) => a - b)
    .map((level) => {
      const list = byLevel.get(level)!;
      const width = Math.max(...list.map((k) => groups.sizes[k]!));
      const index = new Int32Array(list.length * width).fill(n);
      list.forEach((k, r) => index.set(members[k]!, r * width));
      const identity = width === 1 && index.length === n && index.every((v, i) => v === i);
      return { groups: Int32Array.from(list), width, index, identity };
    });
}

/** Per layer and in total, the flat statistics read back from the device. */
interface RawLayerStats {
  dots: Float32Array;
  groupSq: Float64Array;
  totalSq: number;
}

/**
 * Fast path: exact per-sample / per-group statistics from one tapped backward pass.
 * Throws FastPathUnsupportedError when the component's variables are not exactly its tapped dense layers.
 */
export function fastGradStats(component: NoiseProbeComponent, groups: GroupAssignment, options: GradStatsOptions = {}): ComponentGradStats {
  const n = groups.ids.length;
  if (component.tapShapes.length === 0) throw new FastPathUnsupportedError('the component has no tapped layers');
  for (const [l, shape] of component.tapShapes.entries()) {
    if (shape[0] !== n) throw new FastPathUnsupportedError(`tap ${l} has ${shape[0]} rows but the probe has n = ${n} samples`);
  }
  const members = groupMembers(groups);
  const buckets = makeBuckets(groups, members);
  const numLayers = component.tapShapes.length;
  const wantPre = options.preconditioner !== undefined;
  let kept: tf.Tensor[] = [];
  let havePre = false;
  let verifyError: number | undefined;
  let flat: Float32Array;
  try {
    const packed = tf.tidy(() => {
      const taps = component.tapShapes.map((shape) => tf.zeros([shape[0], shape[1]]) as tf.Tensor2D);
      // engine().gradients rather than tf.grads: a tap the loss does not depend on gets a zero δ instead of an error.
      const { grads } = tf.engine().gradients(
        () => {
          const out = component.tapped(taps);
          if (out.inputs.length !== numLayers) {
            throw new FastPathUnsupportedError(`tapped() returned ${out.inputs.length} inputs for ${numLayers} taps`);
          }
          // The forward scope disposes what it made; keep clones of the layer inputs (never the probe's own tensors).
          kept = out.inputs.map((x) => tf.keep(x.clone()));
          return out.loss;
        },
        taps,
        undefined,
        true,
      );
      const deltas = grads.map((g, l) => (g ?? tf.zerosLike(taps[l]!)) as tf.Tensor2D);
      const inputs = kept as tf.Tensor2D[];
      const layers = matchDenseLayers(
        component.variables,
        inputs.map((x, l) => ({ inSize: x.shape[1], outSize: component.tapShapes[l]![1] })),
      );
      const precond = wantPre ? layers.map((layer) => layerPreconditioner(layer, options.preconditioner!)) : [];
      havePre = wantPre && precond.every((p) => p !== null);
      const parts: tf.Tensor[] = [];
      const gradients: tf.Tensor2D[] = [];
      layers.forEach((layer, l) => {
        const x = inputs[l]!;
        const xt = (layer.inSize > 0 ? tf.concat([x, tf.ones([n, 1])], 1) : tf.ones([n, 1])) as tf.Tensor2D;
        const delta = tf.mul(deltas[l]!, n) as tf.Tensor2D;
        // Explicit transposes: wasm's matMul with a transposed operand falls back to a kernel 5-7x slower.
        const u = tf.matMul(tf.transpose(xt), delta);
        if (options.verify) gradients.push(tf.div(u, n) as tf.Tensor2D);
        parts.push(tf.sum(tf.mul(tf.matMul(xt, u), delta), 1), groupSquaredNorms(xt, delta, buckets, null), tf.reshape(tf.sum(tf.square(u)), [1]));
        if (havePre) {
          const p = precond[l]!;
          const p2 = tf.square(p);
          parts.push(
            tf.sum(tf.mul(tf.matMul(xt, tf.mul(p2, u)), delta), 1),
            groupSquaredNorms(xt, delta, buckets, p),
            tf.reshape(tf.sum(tf.square(tf.mul(p, u))), [1]),
          );
        }
      });
      if (options.verify) verifyError = verifyAgainstAutodiff(component, layers, gradients);
      return tf.concat(parts);
    });
    flat = packed.dataSync() as Float32Array;
    packed.dispose();
  } finally {
    for (const t of kept) t.dispose();
  }

  const bucketOrder = Int32Array.from(buckets.flatMap((b) => Array.from(b.groups)));
  const perLayer: RawLayerStats[] = [];
  const perLayerPre: RawLayerStats[] = [];
  let offset = 0;
  const read = (): RawLayerStats => {
    const dots = flat.subarray(offset, offset + n);
    offset += n;
    const groupSq = new Float64Array(groups.count);
    for (let r = 0; r < groups.count; r++) groupSq[bucketOrder[r]!] = flat[offset + r]!;
    offset += groups.count;
    const totalSq = flat[offset]!;
    offset += 1;
    return { dots, groupSq, totalSq };
  };
  for (let l = 0; l < numLayers; l++) {
    perLayer.push(read());
    if (havePre) perLayerPre.push(read());
  }
  const toStats = (raw: RawLayerStats): GroupStats => ({
    sizes: groups.sizes,
    sumSq: raw.groupSq,
    sumDot: sumByGroup(raw.dots, groups),
    totalSq: raw.totalSq,
  });
  const layerStats = perLayer.map(toStats);
  return {
    method: 'fast',
    groups,
    total: sumStats(layerStats),
    layers: options.perLayer ? layerStats.map((stats, l) => ({ label: `layer${l}`, stats })) : [],
    preconditioned: havePre ? sumStats(perLayerPre.map(toStats)) : null,
    ...(verifyError !== undefined ? { verifyError } : {}),
  };
}

/** [in+1, out] preconditioner of [kernel; bias], or null when the optimizer has none yet. */
function layerPreconditioner(layer: DenseLayer, preconditioner: Preconditioner): tf.Tensor2D | null {
  const pb = preconditioner(layer.bias);
  if (pb === null) return null;
  const bias = tf.reshape(pb, [1, layer.outSize]) as tf.Tensor2D;
  if (layer.kernel === null) return bias;
  const pk = preconditioner(layer.kernel);
  if (pk === null) return null;
  return tf.concat([tf.reshape(pk, [layer.inSize, layer.outSize]) as tf.Tensor2D, bias], 0);
}

/** |Σ_{i∈k} x̃_iᵀΔ_i|² (optionally P-scaled) per group, concatenated in bucket order. */
function groupSquaredNorms(xt: tf.Tensor2D, delta: tf.Tensor2D, buckets: readonly Bucket[], p: tf.Tensor2D | null): tf.Tensor1D {
  const inSize = xt.shape[1];
  const outSize = delta.shape[1];
  const parts = buckets.map((bucket): tf.Tensor1D => {
    const count = bucket.groups.length;
    if (bucket.width === 1) {
      const index = tf.tensor1d(bucket.index, 'int32');
      const x = bucket.identity ? xt : tf.gather(xt, index);
      const d = bucket.identity ? delta : tf.gather(delta, index);
      if (p === null) return tf.mul(tf.sum(tf.square(x), 1), tf.sum(tf.square(d), 1));
      return tf.sum(tf.mul(tf.matMul(tf.square(x), tf.square(p)), tf.square(d)), 1);
    }
    // Equal contiguous groups (env segments) need no gather: a reshape lays them out.
    const contiguous = bucket.index.length === xt.shape[0] && bucket.index.every((v, i) => v === i);
    const index = contiguous ? null : tf.tensor1d(bucket.index, 'int32');
    const x = tf.reshape(index ? tf.gather(tf.concat([xt, tf.zeros([1, inSize])], 0), index) : xt, [count, bucket.width, inSize]) as tf.Tensor3D;
    const d = tf.reshape(index ? tf.gather(tf.concat([delta, tf.zeros([1, outSize])], 0), index) : delta, [count, bucket.width, outSize]) as tf.Tensor3D;
    const matmulCost = bucket.width * inSize * outSize;
    const gramCost = bucket.width * bucket.width * (inSize + outSize);
    if (p !== null || matmulCost <= gramCost) {
      const u = tf.matMul(tf.transpose(x, [0, 2, 1]), d);
      return tf.sum(tf.square(p === null ? u : tf.mul(u, p)), [1, 2]);
    }
    return tf.sum(tf.mul(tf.matMul(x, tf.transpose(x, [0, 2, 1])), tf.matMul(d, tf.transpose(d, [0, 2, 1]))), [1, 2]);
  });
  return parts.length === 1 ? parts[0]! : tf.concat(parts);
}

/** max over layers of |gradient − autodiff gradient| / |autodiff gradient| for [kernel; bias]. */
function verifyAgainstAutodiff(component: NoiseProbeComponent, layers: readonly DenseLayer[], gradients: readonly tf.Tensor2D[]): number {
  const variables = layers.flatMap((layer) => (layer.kernel ? [layer.kernel, layer.bias] : [layer.bias]));
  const { grads } = tf.variableGrads(
    () => component.tapped(component.tapShapes.map((shape) => tf.zeros([shape[0], shape[1]]) as tf.Tensor2D)).loss,
    variables,
  );
  const errors = layers.map((layer, l) => {
    const bias = tf.reshape(grads[layer.bias.name] ?? tf.zerosLike(layer.bias), [1, layer.outSize]);
    const reference = layer.kernel ? tf.concat([grads[layer.kernel.name] ?? tf.zerosLike(layer.kernel), bias], 0) : bias;
    const diff = tf.norm(tf.sub(gradients[l]!, reference)).dataSync()[0]!;
    const scale = tf.norm(reference).dataSync()[0]!;
    return scale > 0 ? diff / scale : diff;
  });
  return Math.max(...errors);
}

function sumByGroup(values: ArrayLike<number>, groups: GroupAssignment): Float64Array {
  const sums = new Float64Array(groups.count);
  for (let i = 0; i < values.length; i++) sums[groups.ids[i]!]! += values[i]!;
  return sums;
}

function sumStats(parts: readonly GroupStats[]): GroupStats {
  const first = parts[0]!;
  const sumSq = new Float64Array(first.sizes.length);
  const sumDot = new Float64Array(first.sizes.length);
  let totalSq = 0;
  for (const part of parts) {
    for (let k = 0; k < sumSq.length; k++) {
      sumSq[k]! += part.sumSq[k]!;
      sumDot[k]! += part.sumDot[k]!;
    }
    totalSq += part.totalSq;
  }
  return { sizes: first.sizes, sumSq, sumDot, totalSq };
}

/**
 * Fallback: per-group autodiff of `subset(group)` (the group's mean loss) for any network, plus one pass over the
 * whole batch for U. Per-layer labels come from matching variables to the tapped layers by output size when that
 * works (`layer0`, ...), else they are variable names.
 */
export function fallbackGradStats(component: NoiseProbeComponent, groups: GroupAssignment, options: GradStatsOptions = {}): ComponentGradStats {
  const n = groups.ids.length;
  const variables = [...component.variables];
  const numVars = variables.length;
  if (numVars === 0) throw new GradnoiseError('runtime', 'fallbackGradStats: the component has no variables');
  const members = groupMembers(groups);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const wantPre = options.preconditioner !== undefined;
  let havePre = false;
  // Columns per row: |h_v|², h_v·ḡ_v per variable, then the same P-scaled. Row 0 is ḡ itself, rows 1..K the groups.
  const packed = tf.tidy(() => {
    const gradsOf = (indices: Int32Array): tf.Tensor[] => {
      const { grads } = tf.variableGrads(() => component.subset(indices), variables);
      return variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
    };
    const mean = gradsOf(all);
    const precond = wantPre ? variables.map((v) => options.preconditioner!(v)) : [];
    havePre = wantPre && precond.every((p) => p !== null);
    const p2 = havePre ? precond.map((p) => tf.square(p!)) : [];
    const row = (h: readonly tf.Tensor[]): tf.Tensor1D => {
      const cols: tf.Scalar[] = [];
      h.forEach((hv, v) => cols.push(tf.sum(tf.square(hv)), tf.sum(tf.mul(hv, mean[v]!))));
      if (havePre) h.forEach((hv, v) => cols.push(tf.sum(tf.mul(p2[v]!, tf.square(hv))), tf.sum(tf.mul(p2[v]!, tf.mul(hv, mean[v]!)))));
      return tf.stack(cols) as tf.Tensor1D;
    };
    const rows = [row(mean)];
    for (const indices of members) rows.push(tf.tidy(() => row(gradsOf(indices))));
    return tf.stack(rows);
  });
  const flat = packed.dataSync();
  const width = packed.shape[1]!;
  packed.dispose();

  const labels = fallbackLabels(component, variables);
  const uniqueLabels = [...new Set(labels)];
  const build = (pre: boolean): { total: GroupStats; byLabel: GroupStats[] } => {
    const base = pre ? 2 * numVars : 0;
    const make = (select: (v: number) => boolean): GroupStats => {
      const sumSq = new Float64Array(groups.count);
      const sumDot = new Float64Array(groups.count);
      let meanSq = 0;
      for (let v = 0; v < numVars; v++) {
        if (select(v)) meanSq += flat[base + 2 * v]!;
      }
      for (let k = 0; k < groups.count; k++) {
        const m = groups.sizes[k]!;
        let sq = 0;
        let dot = 0;
        for (let v = 0; v < numVars; v++) {
          if (!select(v)) continue;
          sq += flat[(k + 1) * width + base + 2 * v]!;
          dot += flat[(k + 1) * width + base + 2 * v + 1]!;
        }
        // h_k is the group's MEAN gradient: u_k = m_k h_k, U = n ḡ.
        sumSq[k] = m * m * sq;
        sumDot[k] = m * n * dot;
      }
      return { sizes: groups.sizes, sumSq, sumDot, totalSq: n * n * meanSq };
    };
    return { total: make(() => true), byLabel: options.perLayer ? uniqueLabels.map((label) => make((v) => labels[v] === label)) : [] };
  };
  const plain = build(false);
  return {
    method: 'fallback',
    groups,
    total: plain.total,
    layers: plain.byLabel.map((stats, i) => ({ label: uniqueLabels[i]!, stats })),
    preconditioned: havePre ? build(true).total : null,
  };
}

/** `layer{l}` per variable when kernels [·, out_l] and biases [out_l] match the taps in order, else variable names. */
function fallbackLabels(component: NoiseProbeComponent, variables: readonly tf.Variable[]): string[] {
  const labels: (string | null)[] = variables.map(() => null);
  component.tapShapes.forEach(([, out], l) => {
    const kernel = variables.findIndex((v, j) => labels[j] === null && v.shape.length === 2 && v.shape[1] === out);
    if (kernel >= 0) labels[kernel] = `layer${l}`;
    const bias = variables.findIndex((v, j) => labels[j] === null && v.shape.length === 1 && v.shape[0] === out);
    if (bias >= 0) labels[bias] = `layer${l}`;
  });
  if (labels.every((label) => label !== null)) return labels as string[];
  return variables.map((v) => v.name);
}
