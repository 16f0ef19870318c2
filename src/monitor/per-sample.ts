/**
 * Per-sample and per-group gradient statistics of ONE `NoiseProbeComponent` (the estimator's input), by either path:
 * - fast (`fastGradStats`): the tap contract → factored per-sample gradients (factors.ts) → stacked statistics
 *   (stacked.ts); exact when the component's variables are exactly its tapped dense layers;
 * - fallback (`fallbackGradStats`, any network): one `subset(group)` loss and autodiff per group, plus one for the
 *   whole batch; the group gradients are read back and every dot product is taken in float64. Cost: K + 1 backward
 *   passes, so single-sample grouping costs n passes.
 * The monitor itself measures all components at once from `NoiseProbe.factors()` when the probe offers it.
 */
import * as tf from '@tensorflow/tfjs';
import { GradnoiseError } from '../core/errors.js';
import type { GroupStats } from './estimator.js';
import { tappedFactors, verifyFactors } from './factors.js';
import { groupMembers, type GroupAssignment } from './groups.js';
import type { NoiseProbeComponent } from './probe.js';
import { factorStats, type LabelledStats, type Preconditioner } from './stacked.js';

export { FastPathUnsupportedError } from './factors.js';
export { groupsFromIds, microBatchGroups, singleSampleGroups, type GroupAssignment } from './groups.js';
export type { LabelledStats, Preconditioner } from './stacked.js';

export interface GradStatsOptions {
  /** Also return the breakdown per layer (fast path) or per matched layer / variable (fallback). */
  perLayer?: boolean;
  /** Also return the P-scaled statistics; null from it for any variable means "not available now". */
  preconditioner?: Preconditioner;
  /** Fast path only: compare the tapped gradient with ordinary autodiff (one more backward pass). */
  verify?: boolean;
  /** Also the single-sample statistics (free on the fast path; the fallback gives them only for single-sample groups). */
  perSample?: boolean;
}

export interface ComponentGradStats {
  readonly method: 'fast' | 'fallback';
  readonly groups: GroupAssignment;
  readonly total: GroupStats;
  /** Single-sample statistics when asked for and available. */
  readonly sample: GroupStats | null;
  /** Per-layer breakdown (empty unless `perLayer`); each layer's stats sum to `total`. */
  readonly layers: readonly LabelledStats[];
  /** P-scaled statistics; null when not asked for or the preconditioner is not available yet. */
  readonly preconditioned: GroupStats | null;
  /** With `verify`: max over layers of |U/n − autodiff gradient| / |autodiff gradient|. */
  readonly verifyError?: number;
}

/**
 * Fast path for one component: exact per-sample / per-group statistics from one tapped backward pass.
 * Throws FastPathUnsupportedError when the component's variables are not exactly its tapped dense layers.
 */
export function fastGradStats(component: NoiseProbeComponent, groups: GroupAssignment, options: GradStatsOptions = {}): ComponentGradStats {
  const n = groups.ids.length;
  let kept: tf.Tensor[] = [];
  let result: ComponentGradStats | null = null;
  try {
    tf.tidy(() => {
      const tapped = tappedFactors({ total: component }, n);
      kept = tapped.kept;
      const refused = tapped.unsupported.get('total');
      if (refused) throw refused;
      const { stats } = factorStats(tapped.factors, ['total'], {
        groups,
        perSample: options.perSample ?? false,
        perLayer: options.perLayer ?? false,
        ...(options.preconditioner ? { preconditioner: options.preconditioner } : {}),
      });
      const s = stats.total!;
      const verifyError = options.verify
        ? verifyFactors(tapped.factors, 'total', () => component.tapped(component.tapShapes.map((shape) => tf.zeros([shape[0], shape[1]]) as tf.Tensor2D)).loss, n)
        : undefined;
      result = {
        method: 'fast',
        groups,
        total: s.total,
        sample: s.sample,
        layers: s.layers,
        preconditioned: s.preconditioned,
        ...(verifyError !== undefined ? { verifyError } : {}),
      };
    });
  } finally {
    tf.dispose(kept);
  }
  return result!;
}

/**
 * Fallback: per-group autodiff of `subset(group)` (the group's mean loss) for any network, plus one pass over the
 * whole batch for U. Per-layer labels come from matching variables to the tapped layers by output size when that
 * works (`layer0`, ...), else they are variable names.
 */
export function fallbackGradStats(component: NoiseProbeComponent, groups: GroupAssignment, options: GradStatsOptions = {}): ComponentGradStats {
  const n = groups.ids.length;
  const variables = [...component.variables];
  if (variables.length === 0) throw new GradnoiseError('runtime', 'fallbackGradStats: the component has no variables');
  const sizes = variables.map((v) => v.size);
  const width = sizes.reduce((s, v) => s + v, 0);
  const flatGradient = (indices: Int32Array): Float32Array =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => component.subset(indices), variables);
      return tf.concat(variables.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1]))).dataSync() as Float32Array;
    });
  const all = Int32Array.from({ length: n }, (_, i) => i);
  // Summed gradients: U = n·ḡ, u_k = m_k·h_k (h_k the group's mean gradient).
  const total = Float64Array.from(flatGradient(all), (g) => g * n);
  const members = groupMembers(groups);
  const unit = members.map((indices, k) => Float64Array.from(flatGradient(indices), (g) => g * groups.sizes[k]!));
  let p2: Float64Array | null = null;
  if (options.preconditioner) {
    const parts = variables.map((v) => options.preconditioner!(v));
    if (parts.every((p) => p !== null)) {
      p2 = new Float64Array(width);
      let offset = 0;
      parts.forEach((p) => {
        const values = p!.dataSync();
        for (let j = 0; j < values.length; j++) p2![offset + j] = values[j]! ** 2;
        offset += values.length;
      });
    }
  }
  const labels = fallbackLabels(component, variables);
  const uniqueLabels = [...new Set(labels)];
  // Which flat entries belong to each label.
  const ranges: { label: string; start: number; end: number }[] = [];
  let offset = 0;
  variables.forEach((_, v) => {
    ranges.push({ label: labels[v]!, start: offset, end: offset + sizes[v]! });
    offset += sizes[v]!;
  });
  const build = (select: (label: string) => boolean, weights: Float64Array | null): GroupStats => {
    const dot = (a: Float64Array, b: Float64Array) => {
      let s = 0;
      for (const r of ranges) {
        if (!select(r.label)) continue;
        for (let j = r.start; j < r.end; j++) s += a[j]! * b[j]! * (weights ? weights[j]! : 1);
      }
      return s;
    };
    const k = groups.count;
    const weighted = groups.randomSizes ? new Float64Array(width) : null;
    if (weighted) unit.forEach((u, g) => u.forEach((v, j) => (weighted[j]! += groups.sizes[g]! * v)));
    return {
      sizes: groups.sizes,
      sumSq: Float64Array.from(unit, (u) => dot(u, u)),
      sumDot: Float64Array.from(unit, (u) => dot(u, total)),
      totalSq: dot(total, total),
      ...(groups.linked ? { linked: groups.linked, neighborDot: Float64Array.from({ length: Math.max(0, k - 1) }, (_, g) => dot(unit[g]!, unit[g + 1]!)) } : {}),
      ...(weighted ? { randomSizes: true, weightedDot: Float64Array.from(unit, (u) => dot(u, weighted)) } : {}),
    };
  };
  const single = groups.count === n && groups.sizes.every((m) => m === 1);
  const totalStats = build(() => true, null);
  return {
    method: 'fallback',
    groups,
    total: totalStats,
    sample: options.perSample && single ? totalStats : null,
    layers: options.perLayer ? uniqueLabels.map((label) => ({ label, stats: build((l) => l === label, null) })) : [],
    preconditioned: p2 ? build(() => true, p2) : null,
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
