/**
 * B_noise measurement: the H-norm statistics of h-norm.ts from Hessian-vector products, without second-order autodiff.
 *
 * Hessian-vector products by a central difference of two gradients: H v̂ ≈ (∇c(θ + εv̂) − ∇c(θ − εv̂))/(2ε) for a unit
 * direction v̂, with c the probe's curvature loss (probe.ts, `CurvatureProbe`), exact for quadratic losses and with
 * an O(ε²) error otherwise. The directions are the gradient sums u_k of the direction units (v̂ = u_k/|u_k|, so ε is a
 * step of length ε in parameter space whatever the gradient's scale); the variables are set to θ₀ ± εv̂ in place and
 * restored bit for bit afterwards. ε = `DEFAULT_EPSILON` (1e-2): on the 64-64 tanh CartPole policy the float32
 * central difference of the surrogate agrees with a float64 second difference to ~7e-5 relative for ε from 1e-3 to
 * 1e-1, while round-off in the float32 gradient difference takes over below (1.6e-3 at ε = 1e-4); 1e-2 keeps a
 * margin on both sides for curvier directions (test/monitor/curvature.test.ts).
 *
 * One perturbation serves several components when their variables are disjoint (policy and value of separate
 * actor and critic nets): each is moved along its own direction and each curvature depends only on its own
 * variables. Per direction unit k of half X and curvature unit j of half Y, the readout is ⟨V, Σ_{i∈j} Δ∇c_i⟩ for
 * V ∈ {u_k, u_{k+1}, U_X}: with the factored gradients this is one matmul per layer, whatever the number of units.
 * Cost per measurement: 4 × (units per half) curvature passes over half the batch (twice that with a preconditioner).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../core/components.js';
import { deltaTensor } from './factors.js';
import type { GroupAssignment } from './groups.js';
import { crossFitEstimate, type CrossFitHalf } from './h-norm.js';
import type { NoiseMoments } from './intervals.js';
import type { CurvatureProbe, GradientFactors } from './probe.js';
import type { Preconditioner, UnitGradients } from './stacked.js';
import { layerPreconditioner } from './stacked.js';

/** Step length of the central differences, in parameter space (see the header). */
export const DEFAULT_EPSILON = 1e-2;

/** Direction units of the two halves. */
export interface CrossFitLayout {
  /** Units over all n samples (unions of consecutive default groups). */
  readonly units: GroupAssignment;
  /** Per unit: 0 (half A) or 1 (half B). */
  readonly half: Uint8Array;
  /** Sample indices of each half, ascending. */
  readonly rows: readonly [Int32Array, Int32Array];
}

/**
 * Halves by env segment (the first and the second half of the envs, so each half is a contiguous run of rows and
 * its units lay out by a reshape; one env: its first and second half by groups), each cut into `perHalf` units of
 * about equal size from consecutive groups. Null when a half would have fewer than 2 units.
 */
export function crossFitLayout(segments: ArrayLike<number>, groups: GroupAssignment, perHalf: number): CrossFitLayout | null {
  const segmentOfGroup = new Int32Array(groups.count).fill(-1);
  groups.ids.forEach((k, i) => {
    if (segmentOfGroup[k] === -1) segmentOfGroup[k] = segments[i]!;
  });
  const order = [...new Set(segmentOfGroup)];
  const halfOfGroup = new Uint8Array(groups.count);
  if (order.length >= 2) segmentOfGroup.forEach((s, k) => (halfOfGroup[k] = order.indexOf(s) < order.length / 2 ? 0 : 1));
  else for (let k = 0; k < groups.count; k++) halfOfGroup[k] = k < groups.count / 2 ? 0 : 1;
  const unitOfGroup = new Int32Array(groups.count);
  const sizes: number[] = [];
  const half: number[] = [];
  const linked: number[] = [];
  for (const h of [0, 1]) {
    const members = [...Array(groups.count).keys()].filter((k) => halfOfGroup[k] === h);
    const total = members.reduce((s, k) => s + groups.sizes[k]!, 0);
    const units = Math.min(perHalf, members.length);
    if (units < 2) return null;
    const first = sizes.length;
    for (let u = 0; u < units; u++) {
      sizes.push(0);
      half.push(h);
    }
    let seen = 0;
    members.forEach((k) => {
      const unit = first + Math.min(units - 1, Math.floor(((seen + groups.sizes[k]! / 2) / total) * units));
      unitOfGroup[k] = unit;
      sizes[unit]! += groups.sizes[k]!;
      seen += groups.sizes[k]!;
    });
  }
  for (let u = 0; u + 1 < sizes.length; u++) {
    // Neighbours: the last group of unit u and the first of unit u + 1 were neighbouring groups in one segment.
    let isLinked = 0;
    for (let k = 0; k + 1 < groups.count; k++) {
      if (unitOfGroup[k] === u && unitOfGroup[k + 1] === u + 1 && groups.linked?.[k]) isLinked = 1;
    }
    linked.push(half[u] === half[u + 1] ? isLinked : 0);
  }
  const ids = Int32Array.from(groups.ids, (k) => unitOfGroup[k]!);
  const rows = [0, 1].map((h) => Int32Array.from([...ids.keys()].filter((i) => half[ids[i]!] === h))) as [Int32Array, Int32Array];
  return { units: { ids, count: sizes.length, sizes: Int32Array.from(sizes), linked: Uint8Array.from(linked) }, half: Uint8Array.from(half), rows };
}

export interface BNoiseOptions {
  readonly epsilon: number;
  /** Also the preconditioned figure (directions and readout vectors P∘u). */
  readonly preconditioner?: Preconditioner;
}

export interface BNoiseMoments {
  readonly plain: NoiseMoments & { groups: number };
  readonly preconditioned: (NoiseMoments & { groups: number }) | null;
}

/**
 * Variables of a component's factor layers with their [in+1, out] row split: kernel rows 0..in−1, bias row in; an
 * explicit layer (conv) is one row [1, Σ sizes] over its `flat` variables, flattened row-major in order.
 */
function layerVariables(factors: GradientFactors, component: NoiseComponent): { layer: number; kernel: tf.Variable | null; bias: tf.Variable; flat: readonly tf.Variable[] | null }[] {
  const deltas = factors.deltas[component] ?? [];
  return factors.layers.flatMap((layer, l) => (deltas[l] === undefined ? [] : [{ layer: l, kernel: layer.kernel, bias: layer.bias, flat: layer.flat ?? null }]));
}

/** Every variable of one layer entry. */
function variablesOf(v: { kernel: tf.Variable | null; bias: tf.Variable; flat: readonly tf.Variable[] | null }): tf.Variable[] {
  return v.flat ? [...v.flat] : v.kernel ? [v.kernel, v.bias] : [v.bias];
}

/** Components that can share a perturbation: greedy, by disjoint variables. */
function passGroups(factors: GradientFactors, components: readonly NoiseComponent[]): NoiseComponent[][] {
  const groups: { components: NoiseComponent[]; variables: Set<tf.Variable> }[] = [];
  for (const c of components) {
    const vars = layerVariables(factors, c).flatMap(variablesOf);
    const fit = groups.find((g) => vars.every((v) => !g.variables.has(v)));
    if (fit) {
      fit.components.push(c);
      vars.forEach((v) => fit.variables.add(v));
    } else groups.push({ components: [c], variables: new Set(vars) });
  }
  return groups.map((g) => g.components);
}

/**
 * Cross-fitted GᵀHG and tr(HΣ) per component. `factors` are the probe's factors at θ₀ (for the layer structure),
 * `units` the kept unit gradient sums (stacked.ts, `request.units` = layout.units). Leaves the variables as it found them.
 */
export function measureBNoise(
  curvature: CurvatureProbe,
  factors: GradientFactors,
  units: Partial<Record<NoiseComponent, UnitGradients>>,
  layout: CrossFitLayout,
  components: readonly NoiseComponent[],
  options: BNoiseOptions,
): Partial<Record<NoiseComponent, BNoiseMoments>> {
  const eps = options.epsilon;
  const variables = [...new Set(components.flatMap((c) => layerVariables(factors, c).flatMap(variablesOf)))];
  const saved = variables.map((v) => tf.keep(v.clone()));
  const savedOf = new Map(variables.map((v, i) => [v, saved[i]!]));
  const unitIndex = (h: number) => [...Array(layout.units.count).keys()].filter((k) => layout.half[k] === h);
  const result: Partial<Record<NoiseComponent, { plain: CrossFitHalf[]; pre: CrossFitHalf[] }>> = {};
  const preconditioners = new Map<number, tf.Tensor2D | null>();
  try {
    const precondition = options.preconditioner;
    let havePre = precondition !== undefined;
    if (precondition) {
      tf.tidy(() => {
        for (const c of components) {
          for (const { layer } of layerVariables(factors, c)) {
            if (!preconditioners.has(layer)) {
              const p = layerPreconditioner(factors.layers[layer]!, precondition);
              preconditioners.set(layer, p ? tf.keep(p) : null);
            }
          }
        }
      });
      havePre = [...preconditioners.values()].every((p) => p !== null);
    }
    for (const group of passGroups(factors, components)) {
      for (const scaled of havePre ? [false, true] : [false]) {
        for (const x of [0, 1]) {
          const y = 1 - x;
          const dirUnits = unitIndex(x);
          const curvUnits = unitIndex(y);
          const rowsY = layout.rows[y];
          const localUnit = new Map(curvUnits.map((k, j) => [k, j]));
          const unitOfRow = Int32Array.from(rowsY, (i) => localUnit.get(layout.units.ids[i]!)!);
          const q = new Map(group.map((c) => [c, new Float64Array(dirUnits.length * curvUnits.length)]));
          const a = new Map(group.map((c) => [c, new Float64Array(dirUnits.length * curvUnits.length)]));
          const d = new Map(group.map((c) => [c, new Float64Array(dirUnits.length * curvUnits.length)]));
          // Per component and layer, once per half: U_X (the half's sum) and each unit's u_k, optionally P-scaled.
          const halfVectors = new Map(
            group.map((c) => [
              c,
              new Map(
                layerVariables(factors, c).map(({ layer }) => {
                  const p = scaled ? preconditioners.get(layer)! : null;
                  const all = units[c]!.get(layer)!;
                  const mine = tf.keep(tf.gather(all, tf.tensor1d(Int32Array.from(dirUnits), 'int32')));
                  const vectors = tf.keep(p ? tf.mul(mine, p) : mine);
                  if (vectors !== mine) mine.dispose();
                  return [layer, { vectors, sum: tf.keep(tf.sum(vectors, 0)) }] as const;
                }),
              ),
            ]),
          );
          dirUnits.forEach((k, kk) => {
            const next = kk + 1 < dirUnits.length && layout.units.linked?.[k] ? kk + 1 : -1;
            const readouts = tf.tidy(() => {
              // Per component and layer: the direction u_k [in+1, out] and the readout vectors [u_k, u_{k+1}, U_X]
              // split into their kernel rows and bias row (x̃·V = x·V_kernel + V_bias, no ones column per pass).
              const plan = group.map((c) => {
                const layers = layerVariables(factors, c).map(({ layer, kernel, bias, flat }) => {
                  const { vectors: mine, sum } = halfVectors.get(c)!.get(layer)!;
                  const pick = (unit: number) => tf.squeeze(tf.slice(mine, [unit, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
                  const u = pick(kk);
                  const readout = tf.concat([u, next >= 0 ? pick(next) : tf.zerosLike(u), sum], 1) as tf.Tensor2D;
                  const inSize = kernel ? kernel.shape[0]! : 0;
                  return {
                    layer,
                    kernel,
                    bias,
                    flat,
                    u,
                    inSize,
                    readKernel: inSize > 0 ? tf.slice(readout, [0, 0], [inSize, -1]) : null,
                    readBias: tf.slice(readout, [inSize, 0], [1, -1]),
                    // No kernel rows (an explicit layer, a log-std): the readout is δ·[u, u_next, U]ᵀ, one [out, 3] matmul.
                    readColumns: inSize > 0 ? null : (tf.transpose(tf.reshape(tf.slice(readout, [inSize, 0], [1, -1]), [3, -1])) as tf.Tensor2D),
                  };
                });
                const norm = Math.sqrt(tf.addN(layers.map((l) => tf.sum(tf.square(l.u)))).dataSync()[0]!);
                // θ₀ ± ε·u/|u|, per variable, both signs, computed once.
                const steps = layers.map(({ u, inSize, flat }) => {
                  const step = tf.mul(u, eps / (norm > 0 ? norm : 1));
                  if (flat) {
                    // An explicit layer's one row, cut back into its variables' shapes.
                    const row = tf.reshape(step, [-1]);
                    let offset = 0;
                    const parts = flat.map((v) => {
                      const part = tf.reshape(tf.slice(row, [offset], [v.size]), v.shape);
                      offset += v.size;
                      return part;
                    });
                    return { kernel: null, bias: null, flat: parts };
                  }
                  return { kernel: inSize > 0 ? tf.slice(step, [0, 0], [inSize, -1]) : null, bias: tf.reshape(tf.slice(step, [inSize, 0], [1, -1]), [-1]), flat: null };
                });
                return { c, layers, norm, steps };
              });
              const readOne = (sign: number): tf.Tensor[] => {
                for (const { layers, steps } of plan) {
                  layers.forEach(({ kernel, bias, flat }, j) => {
                    const step = steps[j]!;
                    const move = (v: tf.Variable, t: tf.Tensor) => v.assign(sign > 0 ? tf.add(savedOf.get(v)!, t) : tf.sub(savedOf.get(v)!, t));
                    if (flat) flat.forEach((v, k) => move(v, step.flat![k]!));
                    else {
                      if (kernel) move(kernel, step.kernel!);
                      move(bias, step.bias!);
                    }
                  });
                }
                const cf = curvature.factors(rowsY);
                return plan.map(({ c, layers }) => {
                  const parts = layers.map(({ layer, readKernel, readBias, readColumns }) => {
                    const delta = deltaTensor(cf, c, layer);
                    if (delta === null) return tf.zeros([rowsY.length, 3]);
                    if (readColumns) return tf.matMul(delta, readColumns);
                    const out = delta.shape[1];
                    const xv = tf.add(tf.matMul(cf.layers[layer]!.input, readKernel!), readBias);
                    return tf.sum(tf.mul(tf.reshape(xv, [rowsY.length, 3, out]), tf.expandDims(delta, 1)), 2);
                  });
                  return parts.length === 1 ? parts[0]! : tf.addN(parts);
                });
              };
              const plus = readOne(1);
              const minus = readOne(-1);
              return plan.map(({ norm }, i) => tf.mul(tf.sub(plus[i]!, minus[i]!), norm / (2 * eps)));
            });
            const values = readouts.map((t) => t.dataSync());
            tf.dispose(readouts);
            group.forEach((c, ci) => {
              const v = values[ci]!;
              const base = kk * curvUnits.length;
              for (let r = 0; r < rowsY.length; r++) {
                const j = unitOfRow[r]!;
                q.get(c)![base + j]! += v[3 * r]!;
                a.get(c)![base + j]! += v[3 * r + 1]!;
                d.get(c)![base + j]! += v[3 * r + 2]!;
              }
            });
          });
          for (const map of halfVectors.values()) for (const { vectors, sum } of map.values()) tf.dispose([vectors, sum]);
          for (const c of group) {
            const entry = (result[c] ??= { plain: [], pre: [] });
            (scaled ? entry.pre : entry.plain)[x] = {
              sizes: dirUnits.map((k) => layout.units.sizes[k]!),
              linked: dirUnits.slice(0, -1).map((k) => layout.units.linked?.[k] ?? 0),
              curvatureSizes: curvUnits.map((k) => layout.units.sizes[k]!),
              q: q.get(c)!,
              a: a.get(c)!,
              d: d.get(c)!,
            };
          }
        }
      }
    }
  } finally {
    variables.forEach((v, i) => v.assign(saved[i]!));
    tf.dispose(saved);
    for (const p of preconditioners.values()) p?.dispose();
  }
  const out: Partial<Record<NoiseComponent, BNoiseMoments>> = {};
  for (const [c, halves] of Object.entries(result) as [NoiseComponent, { plain: CrossFitHalf[]; pre: CrossFitHalf[] }][]) {
    out[c] = {
      plain: crossFitEstimate(halves.plain[0]!, halves.plain[1]!),
      preconditioned: halves.pre.length === 2 ? crossFitEstimate(halves.pre[0]!, halves.pre[1]!) : null,
    };
  }
  return out;
}
