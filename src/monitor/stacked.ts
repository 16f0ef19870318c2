/**
 * Group statistics of every component from factored per-sample gradients (`GradientFactors`), with few tfjs ops.
 *
 * Sample i's gradient at dense layer l is x̃_iᵀΔ_i (x̃_i = [x_i, 1], Δ = the layer's δ of the summed loss). Then
 * - per sample: |g_i|² = Σ_l |x̃_i|²·|Δ_i|² (the rank-1 trick), and g_i·U = x̃_iᵀ U Δ_i = rowsum((X̃U)∘Δ) with
 *   U = X̃ᵀΔ the batch sum (no second backward pass);
 * - per group k: u_k = X̃_kᵀΔ_k (a batched matmul) or, for short groups, |u_k|² = sum((X̃_kX̃_kᵀ)∘(Δ_kΔ_kᵀ)) (the Gram
 *   form, cheaper when the group is shorter than in·out/(in + out)); neighbours u_k·u_{k+1} the same way;
 * - with a diagonal preconditioner P (Adam's 1/(√v̂+ε)): |P∘(x̃Δᵀ)|² = (x̃∘x̃)ᵀP²(Δ∘Δ), and P∘u_k for groups;
 * - random rank-1 projections (a_l ⊗ b_l per layer, Gaussian): p_i = Σ_l (x̃_i·a_l)(Δ_i·b_l), whose products average
 *   to g_i·g_j over the draws (E[wwᵀ] = I), for the autocorrelation of the gradients along a segment (grouping.ts).
 *
 * Op count, not FLOPs, is what costs on wasm and cpu: every (component, layer) pair with the same [in + 1, out] shape
 * is stacked into one [P, n, ·] tensor, so the work is ~25 ops per distinct layer shape whatever the number of layers
 * and components, and everything is read back with one dataSync. A component whose δ at a layer is another's times a
 * constant (the total's critic layers when actor and critic share none: vfCoef × the value's δ) costs nothing: its
 * quadratic statistics are the other's times the constant squared.
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

/** Group gradient sums [P, K, D1·D2] in group order (matmul form). */
function groupVectors(x: tf.Tensor3D, d: tf.Tensor3D, groups: GroupAssignment): tf.Tensor3D {
  const [p, , d1] = x.shape;
  const d2 = d.shape[2];
  const m = contiguousBlockSize(groups);
  if (m !== null) {
    const xb = tf.reshape(x, [p * groups.count, m, d1]) as tf.Tensor3D;
    const db = tf.reshape(d, [p * groups.count, m, d2]) as tf.Tensor3D;
    return tf.reshape(tf.matMul(tf.transpose(xb, [0, 2, 1]), db), [p, groups.count, d1 * d2]);
  }
  const xPad = tf.concat([x, tf.zeros([p, 1, d1])], 1);
  const dPad = tf.concat([d, tf.zeros([p, 1, d2])], 1);
  const order: number[] = [];
  const parts = buckets(groups).map((bucket) => {
    order.push(...bucket.groups);
    const index = tf.tensor1d(bucket.index, 'int32');
    const count = bucket.groups.length;
    const xb = tf.reshape(tf.gather(xPad, index, 1), [p * count, bucket.width, d1]) as tf.Tensor3D;
    const db = tf.reshape(tf.gather(dPad, index, 1), [p * count, bucket.width, d2]) as tf.Tensor3D;
    return tf.reshape(tf.matMul(tf.transpose(xb, [0, 2, 1]), db), [p, count, d1 * d2]);
  });
  const stacked = parts.length === 1 ? parts[0]! : tf.concat(parts, 1);
  const inverse = new Int32Array(groups.count);
  order.forEach((k, r) => (inverse[k] = r));
  return tf.gather(stacked, tf.tensor1d(inverse, 'int32'), 1) as tf.Tensor3D;
}

/** |u_k|² [P, K] and, when asked, u_k·u_{k+1} [P, K − 1] by the Gram form (contiguous equal groups only). */
function gramStats(x: tf.Tensor3D, d: tf.Tensor3D, m: number, count: number, neighbours: boolean): { sq: tf.Tensor; next: tf.Tensor | null } {
  const [p, , d1] = x.shape;
  const d2 = d.shape[2];
  const x4 = tf.reshape(x, [p, count, m, d1]);
  const d4 = tf.reshape(d, [p, count, m, d2]);
  const gram = (a: tf.Tensor, b: tf.Tensor, k: number, width: number) => {
    const a3 = tf.reshape(a, [p * k, m, width]) as tf.Tensor3D;
    const b3 = tf.reshape(b, [p * k, m, width]) as tf.Tensor3D;
    return tf.matMul(a3, tf.transpose(b3, [0, 2, 1]));
  };
  const sq = tf.reshape(tf.sum(tf.mul(gram(x4, x4, count, d1), gram(d4, d4, count, d2)), [1, 2]), [p, count]);
  if (!neighbours || count < 2) return { sq, next: null };
  const head = (t: tf.Tensor, w: number) => tf.slice(t, [0, 0, 0, 0], [p, count - 1, m, w]);
  const tail = (t: tf.Tensor, w: number) => tf.slice(t, [0, 1, 0, 0], [p, count - 1, m, w]);
  const next = tf.mul(gram(head(x4, d1), tail(x4, d1), count - 1, d1), gram(head(d4, d2), tail(d4, d2), count - 1, d2));
  return { sq, next: tf.reshape(tf.sum(next, [1, 2]), [p, count - 1]) };
}

/** u_k·u_{k+1} from group vectors [P, K, D], optionally weighted elementwise by w [P, 1, D]. */
function neighbourDots(v: tf.Tensor3D, w: tf.Tensor | null): tf.Tensor {
  const [p, k, dim] = v.shape;
  const prod = tf.mul(tf.slice(v, [0, 0, 0], [p, k - 1, dim]), tf.slice(v, [0, 1, 0], [p, k - 1, dim]));
  return tf.sum(w ? tf.mul(prod, w) : prod, 2);
}

/** [in+1, out] preconditioner of a layer's [kernel; bias], or null when the optimizer has none yet. */
export function layerPreconditioner(layer: GradientFactors['layers'][number], preconditioner: Preconditioner): tf.Tensor2D | null {
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
 * Statistics of `components` (those with a δ in `factors`) for the requested groupings, from one stacked computation
 * and one readback. Returns the kept unit gradients when `request.units` is set (the caller disposes them).
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
  const blockSize = sampleGrouping ? 1 : contiguousBlockSize(groups);
  const readout = new Readout();
  const values = new Map<Pair, PairValues>();
  const keptUnits: Partial<Record<NoiseComponent, Map<number, tf.Tensor3D>>> = {};
  // Every (component, layer) δ tensor the requested components need, through aliases too.
  const pairs: Pair[] = [];
  for (const component of components) {
    factors.deltas[component]?.forEach((delta, layer) => {
      if (delta === undefined) return;
      const base = resolve(component, layer, factors).component;
      const tensor = factors.deltas[base]![layer]!;
      if (tensor instanceof tf.Tensor && !pairs.some((p) => p.component === base && p.layer === layer)) pairs.push({ component: base, layer, delta: tensor });
    });
  }
  let havePre = request.preconditioner !== undefined;
  const slots: { pair: Pair; read: () => PairValues }[] = [];

  tf.tidy(() => {
    const xt = new Map<number, tf.Tensor2D>();
    const xOf = (l: number) => xt.get(l) ?? xt.set(l, withOnes(factors.layers[l]!.input)).get(l)!;
    const pre = new Map<number, tf.Tensor2D | null>();
    if (request.preconditioner) {
      for (const pair of pairs) if (!pre.has(pair.layer)) pre.set(pair.layer, layerPreconditioner(factors.layers[pair.layer]!, request.preconditioner));
      havePre = [...pre.values()].every((p) => p !== null);
    }
    const sizeRow = groups.randomSizes ? tf.reshape(tf.tensor1d(Float32Array.from(groups.ids, (k) => groups.sizes[k]!)), [1, n, 1]) : null;
    const classes = new Map<string, Pair[]>();
    for (const pair of pairs) {
      const key = `${xOf(pair.layer).shape[1]}x${pair.delta.shape[1]}`;
      classes.set(key, [...(classes.get(key) ?? []), pair]);
    }
    for (const members of classes.values()) {
      const p = members.length;
      const x = (p === 1 ? tf.expandDims(xOf(members[0]!.layer), 0) : tf.stack(members.map((m) => xOf(m.layer)))) as tf.Tensor3D;
      const d = (p === 1 ? tf.expandDims(members[0]!.delta, 0) : tf.stack(members.map((m) => m.delta))) as tf.Tensor3D;
      const [, , d1] = x.shape;
      const d2 = d.shape[2];
      // Explicit transposes: wasm's matMul with a transposed operand falls back to a kernel 5-7x slower.
      const xT = tf.transpose(x, [0, 2, 1]);
      const u = tf.matMul(xT, d);
      const totalSq = readout.add(tf.sum(tf.square(u), [1, 2]));
      const dots = readout.add(tf.sum(tf.mul(tf.matMul(x, u), d), 2));
      const sampleSq = needSample ? readout.add(tf.mul(tf.sum(tf.square(x), 2), tf.sum(tf.square(d), 2))) : -1;
      const pm = havePre ? (tf.stack(members.map((m) => pre.get(m.layer)!)) as tf.Tensor3D) : null;
      const p2 = pm ? tf.square(pm) : null;
      // Group vectors when needed (neighbours with P, units, or long groups); else the cheaper Gram form.
      const useGram = blockSize !== null && blockSize > 1 && !havePre && blockSize * (d1 + d2) < d1 * d2;
      let groupSq = -1;
      let neighbor = -1;
      let preGroupSq = -1;
      let preNeighbor = -1;
      if (!sampleGrouping && useGram) {
        const g = gramStats(x, d, blockSize!, groups.count, linked);
        groupSq = readout.add(g.sq);
        if (g.next) neighbor = readout.add(g.next);
      } else if (!sampleGrouping) {
        const v = groupVectors(x, d, groups);
        groupSq = readout.add(tf.sum(tf.square(v), 2));
        if (linked && groups.count > 1) neighbor = readout.add(neighbourDots(v, null));
        if (pm && p2) {
          const w = tf.reshape(p2, [p, 1, d1 * d2]);
          preGroupSq = readout.add(tf.sum(tf.mul(tf.square(v), w), 2));
          if (linked && groups.count > 1) preNeighbor = readout.add(neighbourDots(v, w));
        }
      }
      let weighted = -1;
      let preWeighted = -1;
      if (sizeRow) {
        const w = tf.matMul(xT, tf.mul(d, sizeRow));
        weighted = readout.add(tf.sum(tf.mul(tf.matMul(x, w), d), 2));
        if (p2) preWeighted = readout.add(tf.sum(tf.mul(tf.matMul(x, tf.mul(p2, w)), d), 2));
      }
      let preTotalSq = -1;
      let preDots = -1;
      if (pm && p2) {
        preTotalSq = readout.add(tf.sum(tf.square(tf.mul(pm, u)), [1, 2]));
        preDots = readout.add(tf.sum(tf.mul(tf.matMul(x, tf.mul(p2, u)), d), 2));
        if (sampleGrouping) preGroupSq = readout.add(tf.sum(tf.mul(tf.matMul(tf.square(x), p2), tf.square(d)), 2));
      }
      let projections = -1;
      if (request.projections) {
        const r = request.projections.count;
        const rng = request.projections.rng;
        const draw = (rows: number) => tf.tensor3d(Float32Array.from({ length: p * rows * r }, () => rng.normal()), [p, rows, r]);
        projections = readout.add(tf.mul(tf.matMul(x, draw(d1)), tf.matMul(d, draw(d2))));
      }
      if (request.units) {
        const v = tf.reshape(groupVectors(x, d, request.units), [p, request.units.count, d1, d2]);
        members.forEach((m, j) => {
          const kept = tf.keep(tf.squeeze(tf.slice(v, [j, 0, 0, 0], [1, -1, -1, -1]), [0]) as tf.Tensor3D);
          (keptUnits[m.component] ??= new Map()).set(m.layer, kept);
        });
      }
      members.forEach((pair, j) => {
        const row = (slot: number, width: number) => (slot < 0 ? null : readout.get(slot).subarray(j * width, (j + 1) * width));
        slots.push({
          pair,
          read: () => ({
            totalSq: readout.get(totalSq)[j]!,
            dots: row(dots, n)!,
            sampleSq: row(sampleSq, n),
            groupSq: sampleGrouping ? row(sampleSq, n) : row(groupSq, groups.count),
            neighbor: row(neighbor, groups.count - 1),
            weighted: row(weighted, n),
            pre: pm
              ? {
                  totalSq: readout.get(preTotalSq)[j]!,
                  dots: row(preDots, n)!,
                  groupSq: row(preGroupSq, sampleGrouping ? n : groups.count)!,
                  neighbor: row(preNeighbor, groups.count - 1),
                  weighted: row(preWeighted, n),
                }
              : null,
            projections: row(projections, n * (request.projections?.count ?? 0)),
          }),
        });
      });
    }
    readout.read();
  });
  for (const slot of slots) values.set(slot.pair, slot.read());

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
      const pair = pairs.find((q) => q.component === resolved.component && q.layer === layer);
      if (pair) layerValues.push({ values: values.get(pair)!, scale: resolved.scale });
    });
    const assemble = (pick: (v: PairValues) => LayerPick | null, list = layerValues) => assembleStats(list, pick, groups, linked);
    const plain = (v: PairValues): LayerPick => ({ totalSq: v.totalSq, dots: v.dots, groupSq: v.groupSq!, neighbor: v.neighbor, weighted: v.weighted });
    stats[component] = {
      total: assemble(plain),
      sample: needSample ? assembleStats(layerValues, (v) => ({ totalSq: v.totalSq, dots: v.dots, groupSq: v.sampleSq!, neighbor: null, weighted: null }), singleSampleLike(n), false) : null,
      layers: request.perLayer ? layerValues.map((lv, j) => ({ label: `layer${j}`, stats: assembleStats([lv], plain, groups, linked) })) : [],
      preconditioned: havePre && request.preconditioner ? assemble((v) => v.pre) : null,
      projections: request.projections ? sumProjections(layerValues, n * request.projections.count) : null,
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
