/**
 * Group statistics of every component from factored per-sample gradients (`GradientFactors`), with few tfjs ops.
 *
 * Sample i's gradient at dense layer l is x̃_iᵀΔ_i (x̃_i = [x_i, 1], Δ = the layer's δ of the summed loss). Then
 * - per sample: |g_i|² = Σ_l |x̃_i|²·|Δ_i|² (the rank-1 trick), and g_i·U = x̃_iᵀ U Δ_i = rowsum((X̃U)∘Δ) with
 *   U = X̃ᵀΔ the batch sum (no second backward pass);
 * - per group k: u_k = X̃_kᵀΔ_k (one batched matmul over the groups), and neighbours u_k·u_{k+1} from them;
 * - with a diagonal preconditioner P (Adam's 1/(√v̂+ε)): |P∘(x̃Δᵀ)|² = (x̃∘x̃)ᵀP²(Δ∘Δ), and P∘u_k for groups;
 * - random rank-1 projections (a ⊗ b_c per layer, Gaussian): p_i = Σ_l (x̃_i·a_l)(Δ_i·b_l), whose products average
 *   to g_i·g_j over the draws (E[wwᵀ] = I), for the autocorrelation of the gradients along a segment (grouping.ts).
 *
 * Op count is what costs on wasm and cpu, and on wasm a matmul is fast only in two dimensions (tfjs-wasm hands rank-2
 * products to XNNPACK; batched and implicitly transposed ones take a slower loop). So the work goes layer by layer:
 * every component with a δ at a layer is one column block of Δcat = [Δ_c1, Δ_c2, ...], and U = X̃ᵀΔcat, X̃U and the
 * projections are rank-2 products shared by all of them; only the group sums need a batched product, one per layer.
 * A component whose δ at a layer is another's times a constant (the total's critic layers when actor and critic
 * share none: vfCoef × the value's δ) costs nothing: its quadratic statistics are the other's times the constant
 * squared. Everything is read back with one dataSync.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../core/components.js';
import type { Rng } from '../core/rng.js';
import type { GroupStats } from './estimator.js';
import { withOnes } from './factors.js';
import { contiguousBlockSize, groupMembers, type GroupAssignment } from './groups.js';
import type { GradientFactors } from './probe.js';

export type Preconditioner = (variable: tf.Variable) => tf.Tensor | null;

export interface FactorStatsRequest {
  /** The grouping of the main figure. */
  readonly groups: GroupAssignment;
  /** Also the single-sample statistics (the per-sample figure). */
  readonly perSample?: boolean;
  /** Also the statistics per layer. */
  readonly perLayer?: boolean;
  /** Also the P-scaled statistics (null from it for any layer: not available, none returned). */
  readonly preconditioner?: Preconditioner;
  /** Also `count` random projections per sample. */
  readonly projections?: { readonly count: number; readonly rng: Rng };
  /** Also keep the gradient sums of these groups as tensors (B_noise directions); the caller disposes them. */
  readonly units?: GroupAssignment;
}

export interface LabelledStats {
  readonly label: string;
  readonly stats: GroupStats;
}

export interface FactorStats {
  readonly total: GroupStats;
  /** Single-sample statistics, with `perSample`. */
  readonly sample: GroupStats | null;
  /** Per layer (with `perLayer`), labelled layer0.. in the component's layer order; they sum to `total`. */
  readonly layers: readonly LabelledStats[];
  readonly preconditioned: GroupStats | null;
  /** With `projections`: [n × count], sample-major. */
  readonly projections: Float64Array | null;
}

/** Kept per-layer gradient sums of the `units` groups of one component: [units, in + 1, out] per factor layer. */
export type UnitGradients = ReadonlyMap<number, tf.Tensor3D>;

/** Per (component, layer) pair with its own δ tensor: what its class's stacked computation returns. */
interface PairValues {
  totalSq: number;
  dots: Float32Array;
  sampleSq: Float32Array | null;
  groupSq: Float32Array | null;
  neighbor: Float32Array | null;
  weighted: Float32Array | null;
  pre: { totalSq: number; dots: Float32Array; groupSq: Float32Array; neighbor: Float32Array | null; weighted: Float32Array | null } | null;
  projections: Float32Array | null;
}

interface Pair {
  component: NoiseComponent;
  layer: number;
  delta: tf.Tensor2D;
}

/** Collects flat tensors inside a tidy and hands back their values after one readback. */
class Readout {
  private readonly parts: tf.Tensor[] = [];
  private readonly sizes: number[] = [];
  private values: Float32Array | null = null;
  private offsets: number[] = [];

  add(t: tf.Tensor): number {
    this.parts.push(tf.reshape(t, [-1]));
    this.sizes.push(t.size);
    return this.parts.length - 1;
  }

  read(): void {
    const packed = this.parts.length === 1 ? this.parts[0]! : tf.concat(this.parts);
    this.values = packed.dataSync() as Float32Array;
    let offset = 0;
    this.offsets = this.sizes.map((size) => ((offset += size), offset - size));
  }

  get(slot: number): Float32Array {
    return this.values!.subarray(this.offsets[slot]!, this.offsets[slot]! + this.sizes[slot]!);
  }
}

/** Sample indices of each group padded to a common width with n (a zero row), by buckets of similar size. */
interface Bucket {
  readonly groups: Int32Array;
  readonly width: number;
  readonly index: Int32Array;
}

function buckets(groups: GroupAssignment): Bucket[] {
  const n = groups.ids.length;
  const members = groupMembers(groups);
  const byLevel = new Map<number, number[]>();
  for (let k = 0; k < groups.count; k++) {
    const level = Math.ceil(Math.log2(groups.sizes[k]!));
    byLevel.set(level, [...(byLevel.get(level) ?? []), k]);
  }
  return [...byLevel.keys()]
    .sort((a, b) => a - b)
    .map((level) => {
      const list = byLevel.get(level)!;
      const width = Math.max(...list.map((k) => groups.sizes[k]!));
      const index = new Int32Array(list.length * width).fill(n);
      list.forEach((k, r) => index.set(members[k]!, r * width));
      return { groups: Int32Array.from(list), width, index };
    });
}

/** Group gradient sums [K, D1, W] in group order, of X̃ [n, D1] and Δcat [n, W]. */
function groupVectors(x: tf.Tensor2D, d: tf.Tensor2D, groups: GroupAssignment): tf.Tensor3D {
  const [, d1] = x.shape;
  const w = d.shape[1];
  const m = contiguousBlockSize(groups);
  // Batched products take tfjs-wasm's slow loop either way; transposing by the flag at least saves a copy.
  if (m !== null) return tf.matMul(tf.reshape(x, [groups.count, m, d1]) as tf.Tensor3D, tf.reshape(d, [groups.count, m, w]) as tf.Tensor3D, true, false);
  const xPad = tf.concat([x, tf.zeros([1, d1])], 0);
  const dPad = tf.concat([d, tf.zeros([1, w])], 0);
  const order: number[] = [];
  const parts = buckets(groups).map((bucket) => {
    order.push(...bucket.groups);
    const index = tf.tensor1d(bucket.index, 'int32');
    const count = bucket.groups.length;
    const xb = tf.reshape(tf.gather(xPad, index), [count, bucket.width, d1]) as tf.Tensor3D;
    const db = tf.reshape(tf.gather(dPad, index), [count, bucket.width, w]) as tf.Tensor3D;
    return tf.matMul(xb, db, true, false);
  });
  const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
  const inverse = new Int32Array(groups.count);
  order.forEach((k, r) => (inverse[k] = r));
  return tf.gather(stacked, tf.tensor1d(inverse, 'int32')) as tf.Tensor3D;
}

/**
 * Most entries of the group sums [K, D1, C·D2] held at once (4M floats, 16 MB; a chunk's intermediates are a few
 * times that); above it `chunkedGroupStats`
 * reduces them in chunks of groups (e.g. 64 Breakout envs in blocks of 10 steps: 832 groups × 1,025 × 256 ≈ 218M).
 */
const GROUP_VECTOR_LIMIT = 1 << 22;

/** Groups k0..k1−1 as an assignment of their own rows (gathered), for `groupVectors`. */
function groupRange(x: tf.Tensor2D, d: tf.Tensor2D, groups: GroupAssignment, members: Int32Array[], k0: number, k1: number): tf.Tensor3D {
  const rows = new Int32Array(members.slice(k0, k1).reduce((s, m) => s + m.length, 0));
  const ids = new Int32Array(rows.length);
  let r = 0;
  for (let k = k0; k < k1; k++) for (const i of members[k]!) (rows[r] = i), (ids[r++] = k - k0);
  const index = tf.tensor1d(rows, 'int32');
  const sub: GroupAssignment = { ids, count: k1 - k0, sizes: groups.sizes.slice(k0, k1) };
  return groupVectors(tf.gather(x, index) as tf.Tensor2D, tf.gather(d, index) as tf.Tensor2D, sub);
}

interface ChunkStats {
  groupSq: tf.Tensor;
  neighbor: tf.Tensor | null;
  preGroupSq: tf.Tensor | null;
  preNeighbor: tf.Tensor | null;
}

/**
 * `sumPerBlock` of v², of neighbours v_k ∘ v_{k+1} (where linked) and their P²-weighted versions, over all groups,
 * computed in chunks of groups so that only one chunk of group sums exists at a time. Same values as the direct path.
 */
function chunkedGroupStats(x: tf.Tensor2D, d: tf.Tensor2D, groups: GroupAssignment, c: number, linked: boolean, p2: tf.Tensor | null): ChunkStats {
  const k = groups.count;
  const perGroup = x.shape[1] * d.shape[1];
  const chunk = Math.max(1, Math.floor(GROUP_VECTOR_LIMIT / perGroup));
  const members = groupMembers(groups);
  const parts: ChunkStats[] = [];
  let previous: tf.Tensor3D | null = null;
  for (let k0 = 0; k0 < k; k0 += chunk) {
    const k1 = Math.min(k, k0 + chunk);
    const kept: tf.Tensor3D | null = previous;
    const hasNext = linked && (kept !== null || k1 - k0 > 1);
    // [groupSq, last, neighbor?, preGroupSq?, preNeighbor?]
    const out = tf.tidy(() => {
      const v = groupRange(x, d, groups, members, k0, k1);
      // Neighbours inside the chunk, and across its start with the previous chunk's last group.
      const withPrevious: tf.Tensor3D = kept ? (tf.concat([kept, v], 0) as tf.Tensor3D) : v;
      const rows: number = withPrevious.shape[0];
      const list: tf.Tensor[] = [sumPerBlock(tf.square(v), c), tf.slice(v, [v.shape[0] - 1, 0, 0], [1, -1, -1])];
      const next = hasNext ? tf.mul(tf.slice(withPrevious, [0, 0, 0], [rows - 1, -1, -1]), tf.slice(withPrevious, [1, 0, 0], [rows - 1, -1, -1])) : null;
      if (next) list.push(sumPerBlock(next, c));
      if (p2) list.push(sumPerBlock(tf.mul(tf.square(v), p2), c));
      if (p2 && next) list.push(sumPerBlock(tf.mul(next, p2), c));
      return list;
    });
    kept?.dispose();
    previous = out[1] as tf.Tensor3D;
    let j = 2;
    const neighbor = hasNext ? out[j++]! : null;
    const preGroupSq = p2 ? out[j++]! : null;
    const preNeighbor = p2 && hasNext ? out[j++]! : null;
    parts.push({ groupSq: out[0]!, neighbor, preGroupSq, preNeighbor });
  }
  (previous as tf.Tensor3D | null)?.dispose();
  const join = (pick: (p: ChunkStats) => tf.Tensor | null): tf.Tensor | null => {
    const list = parts.map(pick).filter((t): t is tf.Tensor => t !== null);
    return list.length === 0 ? null : list.length === 1 ? list[0]! : tf.concat(list, 0);
  };
  return { groupSq: join((p) => p.groupSq)!, neighbor: join((p) => p.neighbor), preGroupSq: join((p) => p.preGroupSq), preNeighbor: join((p) => p.preNeighbor) };
}

/**
 * |u_k|² and u_k·u_{k+1} per component from Gram matrices, u_k = Σ_{i∈k} x̃_i ⊗ δ_i: |u_k|² = Σ_{i,j∈k} (x̃_i·x̃_j)(δ_i·δ_j),
 * and likewise across neighbouring groups. Groups are laid out padded to `width` rows (zero rows), in group order.
 */
function gramGroupStats(x: tf.Tensor2D, d: tf.Tensor2D, groups: GroupAssignment, c: number, linked: boolean, width: number): { groupSq: tf.Tensor; neighbor: tf.Tensor | null } {
  const n = x.shape[0];
  const k = groups.count;
  const d1 = x.shape[1];
  const d2 = d.shape[1] / c;
  const index = new Int32Array(k * width).fill(n);
  groupMembers(groups).forEach((rows, g) => index.set(rows, g * width));
  const at = tf.tensor1d(index, 'int32');
  const xb = tf.reshape(tf.gather(tf.concat([x, tf.zeros([1, d1])], 0), at), [k, width, d1]) as tf.Tensor3D;
  const db = tf.reshape(tf.gather(tf.concat([d, tf.zeros([1, c * d2])], 0), at), [k, width, c, d2]) as tf.Tensor4D;
  // Explicit transposes: wasm's batched matMul is slower still with a transposed operand.
  const gramOf = (a: tf.Tensor3D, b: tf.Tensor3D) => tf.matMul(a, tf.transpose(b, [0, 2, 1]));
  const ds = Array.from({ length: c }, (_, j) => tf.reshape(tf.slice(db, [0, 0, j, 0], [k, width, 1, d2]), [k, width, d2]) as tf.Tensor3D);
  const gx = gramOf(xb, xb);
  const groupSq = tf.stack(ds.map((dj) => tf.sum(tf.mul(gx, gramOf(dj, dj)), [1, 2])), 1);
  if (!linked || k < 2) return { groupSq, neighbor: null };
  const head = (t: tf.Tensor3D) => tf.slice(t, [0, 0, 0], [k - 1, -1, -1]) as tf.Tensor3D;
  const tail = (t: tf.Tensor3D) => tf.slice(t, [1, 0, 0], [k - 1, -1, -1]) as tf.Tensor3D;
  const gxn = gramOf(head(xb), tail(xb));
  const neighbor = tf.stack(ds.map((dj) => tf.sum(tf.mul(gxn, gramOf(head(dj), tail(dj))), [1, 2])), 1);
  return { groupSq, neighbor };
}

/** r when every unit is r consecutive groups of equal contiguous layout (unit u = groups u·r .. u·r + r − 1), else null. */
function unitsOfGroups(groups: GroupAssignment, units: GroupAssignment): number | null {
  if (contiguousBlockSize(groups) === null || contiguousBlockSize(units) === null || groups.count % units.count !== 0) return null;
  const r = groups.count / units.count;
  for (let i = 0; i < groups.ids.length; i++) if (units.ids[i] !== Math.floor(groups.ids[i]! / r)) return null;
  return r;
}

/** Σ over the D1 and D2 axes of [rows, D1, C·D2] per column block: [rows, C]. */
function sumPerBlock(t: tf.Tensor, components: number): tf.Tensor {
  const [rows, d1, w] = t.shape as [number, number, number];
  return tf.sum(tf.sum(tf.reshape(t, [rows, d1, components, w / components]), 3), 1);
}

/** [in+1, out] preconditioner of a layer's [kernel; bias] ([1, Σ sizes] for an explicit layer), or null when the optimizer has none yet. */
export function layerPreconditioner(layer: GradientFactors['layers'][number], preconditioner: Preconditioner): tf.Tensor2D | null {
  if (layer.flat) {
    // An explicit layer: [1, Σ sizes], the variables' preconditioners flattened like its δ.
    const parts = layer.flat.map((v) => preconditioner(v));
    if (parts.some((p) => p === null)) return null;
    return tf.reshape(tf.concat(parts.map((p) => tf.reshape(p!, [-1]))), [1, -1]) as tf.Tensor2D;
  }
  const out = layer.bias.shape[0]!;
  const pb = preconditioner(layer.bias);
  if (pb === null) return null;
  const bias = tf.reshape(pb, [1, out]) as tf.Tensor2D;
  if (layer.kernel === null) return bias;
  const pk = preconditioner(layer.kernel);
  if (pk === null) return null;
  return tf.concat([tf.reshape(pk, layer.kernel.shape as [number, number]) as tf.Tensor2D, bias], 0);
}

/**
 * Statistics of `components` (those with a δ in `factors`) for the requested groupings, from one pass over the
 * layers and one readback. Returns the kept unit gradients when `request.units` is set (the caller disposes them).
 */
export function factorStats(
  factors: GradientFactors,
  components: readonly NoiseComponent[],
  request: FactorStatsRequest,
): { stats: Partial<Record<NoiseComponent, FactorStats>>; units: Partial<Record<NoiseComponent, UnitGradients>> } {
  const groups = request.groups;
  const n = groups.ids.length;
  const sampleGrouping = groups.count === n && groups.sizes.every((m) => m === 1);
  const needSample = request.perSample === true || sampleGrouping;
  const linked = groups.linked !== undefined && groups.linked.some((v) => v !== 0);
  const projectionCount = request.projections?.count ?? 0;
  const readout = new Readout();
  const keptUnits: Partial<Record<NoiseComponent, Map<number, tf.Tensor3D>>> = {};
  // Every (component, layer) δ tensor the requested components need, through aliases too, by layer.
  const byLayer = new Map<number, Pair[]>();
  for (const component of components) {
    factors.deltas[component]?.forEach((delta, layer) => {
      if (delta === undefined) return;
      const base = resolve(component, layer, factors).component;
      const tensor = factors.deltas[base]![layer]!;
      const list = byLayer.get(layer) ?? [];
      if (tensor instanceof tf.Tensor && !list.some((p) => p.component === base)) list.push({ component: base, layer, delta: tensor });
      byLayer.set(layer, list);
    });
  }
  let havePre = request.preconditioner !== undefined;
  const slots: { pair: Pair; read: () => PairValues }[] = [];

  tf.tidy(() => {
    const pre = new Map<number, tf.Tensor2D | null>();
    if (request.preconditioner) {
      for (const layer of byLayer.keys()) pre.set(layer, layerPreconditioner(factors.layers[layer]!, request.preconditioner));
      havePre = [...pre.values()].every((p) => p !== null);
    }
    const sizeRow = groups.randomSizes ? tf.reshape(tf.tensor1d(Float32Array.from(groups.ids, (k) => groups.sizes[k]!)), [n, 1]) : null;
    for (const [layer, members] of byLayer) {
      const c = members.length;
      const x = withOnes(factors.layers[layer]!.input);
      const d1 = x.shape[1];
      const d2 = members[0]!.delta.shape[1];
      const d = (c === 1 ? members[0]!.delta : tf.concat(members.map((m) => m.delta), 1)) as tf.Tensor2D;
      // Explicit transposes: wasm's matMul with a transposed operand falls back to a kernel 5-7x slower.
      const xT = tf.transpose(x);
      const u = tf.matMul(xT, d);
      const perSample = (t: tf.Tensor) => tf.sum(tf.reshape(t, [n, c, d2]), 2);
      const totalSq = readout.add(tf.sum(tf.reshape(tf.sum(tf.square(u), 0), [c, d2]), 1));
      const dots = readout.add(perSample(tf.mul(tf.matMul(x, u), d)));
      const xSq = needSample ? tf.reshape(tf.sum(tf.square(x), 1), [n, 1]) : null;
      const sampleSq = xSq ? readout.add(tf.mul(xSq, perSample(tf.square(d)))) : -1;
      const p = havePre ? (c === 1 ? pre.get(layer)! : (tf.concat(members.map(() => pre.get(layer)!), 1) as tf.Tensor2D)) : null;
      const p2 = p ? tf.square(p) : null;
      let groupSq = -1;
      let neighbor = -1;
      let preGroupSq = -1;
      let preNeighbor = -1;
      let v: tf.Tensor3D | null = null;
      const width = sampleGrouping ? 0 : Math.max(...groups.sizes);
      // Short groups of a wide layer: Gram matrices within (and between neighbouring) groups cost K·w²·(D1 + C·D2)
      // instead of the n·D1·C·D2 of the group sums (64 Breakout envs in 16-step blocks at the 1024 → 128 layer: 13×
      // less). Only |u_k|² and u_k·u_{k+1} come out, so not with a preconditioner or kept units.
      const gram = !sampleGrouping && !p2 && !request.units && groups.count * width * width * (d1 + c * d2) * (linked ? 2 : 1) < n * d1 * c * d2;
      if (gram) {
        const g = gramGroupStats(x, d, groups, c, linked, width);
        groupSq = readout.add(g.groupSq);
        if (g.neighbor) neighbor = readout.add(g.neighbor);
      } else if (!sampleGrouping && groups.count * d1 * c * d2 > GROUP_VECTOR_LIMIT) {
        // The group sums [K, D1, C·D2] would be too large to hold at once (wasm's heap): reduce them chunk by chunk.
        const chunked = chunkedGroupStats(x, d, groups, c, linked, p2);
        groupSq = readout.add(chunked.groupSq);
        if (chunked.neighbor) neighbor = readout.add(chunked.neighbor);
        if (chunked.preGroupSq) preGroupSq = readout.add(chunked.preGroupSq);
        if (chunked.preNeighbor) preNeighbor = readout.add(chunked.preNeighbor);
      } else if (!sampleGrouping) {
        v = groupVectors(x, d, groups);
        groupSq = readout.add(sumPerBlock(tf.square(v), c));
        const k = groups.count;
        const next = linked && k > 1 ? tf.mul(tf.slice(v, [0, 0, 0], [k - 1, -1, -1]), tf.slice(v, [1, 0, 0], [k - 1, -1, -1])) : null;
        if (next) neighbor = readout.add(sumPerBlock(next, c));
        if (p2) {
          preGroupSq = readout.add(sumPerBlock(tf.mul(tf.square(v), p2), c));
          if (next) preNeighbor = readout.add(sumPerBlock(tf.mul(next, p2), c));
        }
      }
      let weighted = -1;
      let preWeighted = -1;
      if (sizeRow) {
        const w = tf.matMul(xT, tf.mul(d, sizeRow));
        weighted = readout.add(perSample(tf.mul(tf.matMul(x, w), d)));
        if (p2) preWeighted = readout.add(perSample(tf.mul(tf.matMul(x, tf.mul(p2, w)), d)));
      }
      let preTotalSq = -1;
      let preDots = -1;
      if (p && p2) {
        preTotalSq = readout.add(tf.sum(tf.reshape(tf.sum(tf.square(tf.mul(p, u)), 0), [c, d2]), 1));
        preDots = readout.add(perSample(tf.mul(tf.matMul(x, tf.mul(p2, u)), d)));
        if (sampleGrouping) preGroupSq = readout.add(perSample(tf.mul(tf.matMul(tf.square(x), p2), tf.square(d))));
      }
      let projections = -1;
      if (request.projections) {
        const r = projectionCount;
        const rng = request.projections.rng;
        const a = tf.tensor2d(Float32Array.from({ length: d1 * r }, () => rng.normal()), [d1, r]);
        // One b per component: a block-diagonal [C·D2, C·R] keeps the components' directions independent.
        const b = new Float32Array(c * d2 * c * r);
        for (let j = 0; j < c; j++) for (let row = 0; row < d2; row++) for (let col = 0; col < r; col++) b[(j * d2 + row) * c * r + j * r + col] = rng.normal();
        const db = tf.matMul(d, tf.tensor2d(b, [c * d2, c * r]));
        projections = readout.add(tf.transpose(tf.mul(tf.reshape(tf.matMul(x, a), [n, 1, r]), tf.reshape(db, [n, c, r])), [1, 0, 2]));
      }
      if (request.units) {
        // Units made of whole consecutive groups: sum the groups' vectors instead of another batched product.
        const ratio = unitsOfGroups(groups, request.units);
        const uv = v !== null && ratio !== null ? (tf.sum(tf.reshape(v, [request.units.count, ratio, d1, c * d2]), 1) as tf.Tensor3D) : groupVectors(x, d, request.units);
        members.forEach((m, j) => {
          const kept = tf.keep(c === 1 ? uv : (tf.slice(uv, [0, 0, j * d2], [-1, -1, d2]) as tf.Tensor3D));
          (keptUnits[m.component] ??= new Map()).set(m.layer, kept);
        });
      }
      members.forEach((pair, j) => {
        // Values are [rows, C] row-major: column j of each.
        const column = (slot: number, rows: number) => {
          if (slot < 0) return null;
          const all = readout.get(slot);
          return Float32Array.from({ length: rows }, (_, i) => all[i * c + j]!);
        };
        slots.push({
          pair,
          read: () => ({
            totalSq: readout.get(totalSq)[j]!,
            dots: column(dots, n)!,
            sampleSq: column(sampleSq, n),
            groupSq: sampleGrouping ? column(sampleSq, n) : column(groupSq, groups.count),
            neighbor: column(neighbor, groups.count - 1),
            weighted: column(weighted, n),
            pre: p
              ? {
                  totalSq: readout.get(preTotalSq)[j]!,
                  dots: column(preDots, n)!,
                  groupSq: column(preGroupSq, sampleGrouping ? n : groups.count)!,
                  neighbor: column(preNeighbor, groups.count - 1),
                  weighted: column(preWeighted, n),
                }
              : null,
            // Projections are [C, n, R]: component j's block.
            projections: projections < 0 ? null : readout.get(projections).subarray(j * n * projectionCount, (j + 1) * n * projectionCount),
          }),
        });
      });
    }
    readout.read();
  });
  const values = new Map<Pair, PairValues>();
  for (const slot of slots) values.set(slot.pair, slot.read());
  const pairOf = (component: NoiseComponent, layer: number) => byLayer.get(layer)?.find((q) => q.component === component);

  const stats: Partial<Record<NoiseComponent, FactorStats>> = {};
  const units: Partial<Record<NoiseComponent, UnitGradients>> = {};
  for (const component of components) {
    const deltas = factors.deltas[component];
    if (!deltas) continue;
    // Each layer's values, resolving aliases (quadratic statistics scale with the square, projections linearly).
    const layerValues: { values: PairValues; scale: number }[] = [];
    deltas.forEach((delta, layer) => {
      if (delta === undefined) return;
      const resolved = resolve(component, layer, factors);
      const pair = pairOf(resolved.component, layer);
      if (pair) layerValues.push({ values: values.get(pair)!, scale: resolved.scale });
    });
    const assemble = (pick: (v: PairValues) => LayerPick | null, list = layerValues) => assembleStats(list, pick, groups, linked);
    const plain = (v: PairValues): LayerPick => ({ totalSq: v.totalSq, dots: v.dots, groupSq: v.groupSq!, neighbor: v.neighbor, weighted: v.weighted });
    stats[component] = {
      total: assemble(plain),
      sample: needSample ? assembleStats(layerValues, (v) => ({ totalSq: v.totalSq, dots: v.dots, groupSq: v.sampleSq!, neighbor: null, weighted: null }), singleSampleLike(n), false) : null,
      layers: request.perLayer ? layerValues.map((lv, j) => ({ label: `layer${j}`, stats: assembleStats([lv], plain, groups, linked) })) : [],
      preconditioned: havePre && request.preconditioner ? assemble((v) => v.pre) : null,
      projections: request.projections ? sumProjections(layerValues, n * projectionCount) : null,
    };
    const kept = new Map<number, tf.Tensor3D>();
    deltas.forEach((delta, layer) => {
      if (delta === undefined || !request.units) return;
      const resolved = resolve(component, layer, factors);
      const base = keptUnits[resolved.component]?.get(layer);
      if (base) kept.set(layer, resolved.scale === 1 && resolved.component === component ? base : tf.keep(tf.mul(base, resolved.scale) as tf.Tensor3D));
    });
    if (request.units) units[component] = kept;
  }
  // Unit tensors of components not asked for (only reachable through an alias) are not handed out.
  for (const [component, map] of Object.entries(keptUnits) as [NoiseComponent, Map<number, tf.Tensor3D>][]) {
    if (!components.includes(component)) for (const t of map.values()) t.dispose();
  }
  return { stats, units };
}

/** The component and scale whose own δ tensor an (aliased) δ is. */
function resolve(component: NoiseComponent, layer: number, factors: GradientFactors): { component: NoiseComponent; scale: number } {
  let scale = 1;
  let current = component;
  for (let hops = 0; hops < 4; hops++) {
    const delta = factors.deltas[current]?.[layer];
    if (delta === undefined || delta instanceof tf.Tensor) return { component: current, scale };
    scale *= delta.scale;
    current = delta.sameAs;
  }
  throw new RangeError(`factorStats: δ aliases of ${component} at layer ${layer} form a cycle`);
}

interface LayerPick {
  totalSq: number;
  dots: Float32Array;
  groupSq: Float32Array;
  neighbor: Float32Array | null;
  weighted: Float32Array | null;
}

function singleSampleLike(n: number): GroupAssignment {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return { ids, count: n, sizes: new Int32Array(n).fill(1) };
}

/** Sum the picked per-layer values (scaled²) into one GroupStats over `groups`. */
function assembleStats(
  list: readonly { values: PairValues; scale: number }[],
  pick: (v: PairValues) => LayerPick | null,
  groups: GroupAssignment,
  linked: boolean,
): GroupStats {
  const k = groups.count;
  const sumSq = new Float64Array(k);
  const sumDot = new Float64Array(k);
  const neighborDot = new Float64Array(Math.max(0, k - 1));
  const weightedDot = groups.randomSizes ? new Float64Array(k) : null;
  let totalSq = 0;
  for (const { values, scale } of list) {
    const v = pick(values);
    if (v === null) continue;
    const s2 = scale * scale;
    totalSq += s2 * v.totalSq;
    for (let g = 0; g < k; g++) sumSq[g]! += s2 * v.groupSq[g]!;
    for (let i = 0; i < v.dots.length; i++) sumDot[groups.ids[i]!]! += s2 * v.dots[i]!;
    if (v.neighbor) for (let g = 0; g + 1 < k; g++) neighborDot[g]! += s2 * v.neighbor[g]!;
    if (weightedDot && v.weighted) for (let i = 0; i < v.weighted.length; i++) weightedDot[groups.ids[i]!]! += s2 * v.weighted[i]!;
  }
  return {
    sizes: groups.sizes,
    sumSq,
    sumDot,
    totalSq,
    ...(linked && groups.linked ? { linked: groups.linked, neighborDot } : {}),
    ...(weightedDot ? { randomSizes: true, weightedDot } : {}),
  };
}

function sumProjections(list: readonly { values: PairValues; scale: number }[], length: number): Float64Array {
  const out = new Float64Array(length);
  for (const { values, scale } of list) {
    const p = values.projections;
    if (p) for (let i = 0; i < length; i++) out[i]! += scale * p[i]!;
  }
  return out;
}
