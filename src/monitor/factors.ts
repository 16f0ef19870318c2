/**
 * Per-sample gradients in factored form (`GradientFactors`, see probe.ts) from a probe that only offers the tap
 * contract: δ = ∂loss/∂tap by one autodiff pass per component, the layer inputs as `tapped` returns them, and each
 * tap matched to its layer's kernel and bias by shape.
 *
 * The factored form is exact only when a component's variables are exactly the tapped layers' kernels and biases. We
 * match variables to layers by shape, in order (kernel [in, out], bias [out]; a layer whose input has 0 columns is a
 * bias-only layer, e.g. a state-independent log-std), and refuse (`FastPathUnsupportedError`) when any variable is
 * left over or any layer lacks a match. `verifyFactors` compares the factors' gradient U/n with ordinary autodiff.
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../core/components.js';
import { GradnoiseError } from '../core/errors.js';
import type { FactorDelta, FactorLayer, GradientFactors, NoiseProbeComponent } from './probe.js';

/** The probe does not fit the fast path's assumptions; the caller should use the fallback. */
export class FastPathUnsupportedError extends GradnoiseError {
  constructor(reason: string) {
    super('runtime', `fastGradStats: ${reason}`);
  }
}

/** Match variables to layers in order by shape; throws FastPathUnsupportedError naming what does not fit. */
export function matchDenseLayers(
  variables: readonly tf.Variable[],
  layers: readonly { inSize: number; outSize: number }[],
): { kernel: tf.Variable | null; bias: tf.Variable }[] {
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
    return { kernel, bias };
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

/**
 * Factors of the given components by autodiff of their `tapped` losses (one backward pass each). Layers are not
 * shared between components here (each has its own entries). Components that do not fit are left out, with the
 * reason (`unsupported`). Call inside a tf.tidy: the deltas belong to it; the layer inputs are kept clones (the
 * forward scope disposes its own tensors) that the caller disposes (`kept`).
 */
export function tappedFactors(
  components: Partial<Record<NoiseComponent, NoiseProbeComponent>>,
  n: number,
): { factors: GradientFactors; kept: tf.Tensor[]; unsupported: Map<NoiseComponent, FastPathUnsupportedError> } {
  const entries: { name: NoiseComponent; layers: FactorLayer[]; deltas: tf.Tensor2D[] }[] = [];
  const kept: tf.Tensor[] = [];
  const unsupported = new Map<NoiseComponent, FastPathUnsupportedError>();
  for (const [name, component] of Object.entries(components) as [NoiseComponent, NoiseProbeComponent][]) {
    try {
      if (component.tapShapes.length === 0) throw new FastPathUnsupportedError(`${name}: the component has no tapped layers`);
      for (const [l, shape] of component.tapShapes.entries()) {
        if (shape[0] !== n) throw new FastPathUnsupportedError(`${name}: tap ${l} has ${shape[0]} rows but the probe has n = ${n} samples`);
      }
      const taps = component.tapShapes.map((shape) => tf.zeros([shape[0], shape[1]]) as tf.Tensor2D);
      let inputs: tf.Tensor2D[] = [];
      // engine().gradients rather than tf.grads: a tap the loss does not depend on gets a zero δ instead of an error.
      const { grads } = tf.engine().gradients(
        () => {
          const out = component.tapped(taps);
          if (out.inputs.length !== taps.length) throw new FastPathUnsupportedError(`${name}: tapped() returned ${out.inputs.length} inputs for ${taps.length} taps`);
          inputs = out.inputs.map((x) => tf.keep(x.clone()));
          kept.push(...inputs);
          return out.loss;
        },
        taps,
        undefined,
        true,
      );
      let matched: ReturnType<typeof matchDenseLayers>;
      try {
        matched = matchDenseLayers(
          component.variables,
          inputs.map((x, l) => ({ inSize: x.shape[1], outSize: component.tapShapes[l]![1] })),
        );
      } catch (error) {
        throw error instanceof FastPathUnsupportedError ? new FastPathUnsupportedError(`${name}: ${error.message.replace(/^fastGradStats: /, '')}`) : error;
      }
      entries.push({
        name,
        layers: matched.map((m, l) => ({ kernel: m.kernel, bias: m.bias, input: inputs[l]! })),
        deltas: matched.map((_, l) => tf.mul(grads[l] ?? tf.zerosLike(taps[l]!), n) as tf.Tensor2D),
      });
    } catch (error) {
      if (!(error instanceof FastPathUnsupportedError)) {
        tf.dispose(kept);
        throw error;
      }
      unsupported.set(name, error);
    }
  }
  const layers = entries.flatMap((e) => e.layers);
  const deltas: Partial<Record<NoiseComponent, (FactorDelta | undefined)[]>> = {};
  let offset = 0;
  for (const e of entries) {
    const list: (FactorDelta | undefined)[] = new Array(layers.length).fill(undefined);
    e.deltas.forEach((d, j) => (list[offset + j] = d));
    deltas[e.name] = list;
    offset += e.layers.length;
  }
  return { factors: { layers, deltas }, kept, unsupported };
}

/** The component's variables in the factors' layer order (kernel then bias per layer it has a δ at). */
export function factorVariables(factors: GradientFactors, component: NoiseComponent): tf.Variable[] {
  const deltas = factors.deltas[component] ?? [];
  return factors.layers.flatMap((layer, l) => (deltas[l] === undefined ? [] : layerVariableList(layer)));
}

/** A factor layer's variables: kernel (if any) then bias, or an explicit layer's `flat` list. */
export function layerVariableList(layer: FactorLayer): tf.Variable[] {
  if (layer.flat) return [...layer.flat];
  return layer.kernel ? [layer.kernel, layer.bias] : [layer.bias];
}

/** A layer's autodiff gradient in the factors' [in + 1, out] layout (an explicit layer's: [1, Σ sizes]). */
function referenceGradient(layer: FactorLayer, grads: tf.NamedTensorMap): tf.Tensor2D {
  const of = (v: tf.Variable) => grads[v.name] ?? tf.zerosLike(v);
  if (layer.flat) return tf.reshape(tf.concat(layer.flat.map((v) => tf.reshape(of(v), [-1]))), [1, -1]) as tf.Tensor2D;
  const bias = tf.reshape(of(layer.bias), [1, layer.bias.shape[0]!]) as tf.Tensor2D;
  return layer.kernel ? (tf.concat([of(layer.kernel) as tf.Tensor2D, bias], 0) as tf.Tensor2D) : bias;
}

/** δ of `component` at layer l as a tensor (resolving an alias), or null. */
export function deltaTensor(factors: GradientFactors, component: NoiseComponent, l: number): tf.Tensor2D | null {
  const delta = factors.deltas[component]?.[l];
  if (delta === undefined) return null;
  if (delta instanceof tf.Tensor) return delta;
  const base = deltaTensor(factors, delta.sameAs, l);
  return base === null ? null : (tf.mul(base, delta.scale) as tf.Tensor2D);
}

/** [x, 1] for a layer input ([n, 0] inputs give the bias-only [n, 1]). */
export function withOnes(x: tf.Tensor2D): tf.Tensor2D {
  const n = x.shape[0];
  return (x.shape[1] > 0 ? tf.concat([x, tf.ones([n, 1])], 1) : tf.ones([n, 1])) as tf.Tensor2D;
}

/**
 * max over the component's layers of |U/n − g| / |g|, U = X̃ᵀΔ the factors' batch gradient and g the autodiff gradient
 * of `meanLoss` w.r.t. the same kernel and bias. Call inside a tf.tidy.
 */
export function verifyFactors(factors: GradientFactors, component: NoiseComponent, meanLoss: () => tf.Scalar, n: number): number {
  const layers = factors.layers.map((layer, l) => ({ layer, delta: deltaTensor(factors, component, l) })).filter((e) => e.delta !== null);
  const variables = layers.flatMap(({ layer }) => layerVariableList(layer));
  const { grads } = tf.variableGrads(meanLoss, variables);
  const errors = layers.map(({ layer, delta }) => {
    const u = tf.div(tf.matMul(tf.transpose(withOnes(layer.input)), delta!), n);
    const reference = referenceGradient(layer, grads);
    const diff = tf.norm(tf.sub(u, reference)).dataSync()[0]!;
    const scale = tf.norm(reference).dataSync()[0]!;
    return scale > 0 ? diff / scale : diff;
  });
  return Math.max(0, ...errors);
}

/** Both sets of layers, each component's δ from whichever set has it (`b` wins where both do). */
export function mergeFactors(a: GradientFactors, b: GradientFactors): GradientFactors {
  const layers = [...a.layers, ...b.layers];
  const deltas: Partial<Record<NoiseComponent, (FactorDelta | undefined)[]>> = {};
  const names = new Set([...Object.keys(a.deltas), ...Object.keys(b.deltas)] as NoiseComponent[]);
  for (const c of names) {
    const fromB = b.deltas[c];
    const list: (FactorDelta | undefined)[] = new Array(layers.length).fill(undefined);
    if (fromB) fromB.forEach((d, l) => (list[a.layers.length + l] = d));
    else a.deltas[c]!.forEach((d, l) => (list[l] = d));
    deltas[c] = list;
  }
  return { layers, deltas };
}

/**
 * max over layers of the relative difference between the batch gradients of `a` restricted to `rows` and of `b`
 * (whose rows are those samples): at θ₀ a curvature loss must have the component's own gradient. Call inside a tf.tidy.
 */
export function compareOnRows(a: GradientFactors, b: GradientFactors, component: NoiseComponent, rows: Int32Array): number {
  const index = tf.tensor1d(rows, 'int32');
  const errors = a.layers.map((layer, l) => {
    const da = deltaTensor(a, component, l);
    if (da === null) return 0;
    const match = b.layers.findIndex((other) => other.bias === layer.bias);
    const db = match >= 0 ? deltaTensor(b, component, match) : null;
    if (db === null) return Infinity;
    // Zero-width inputs (bias-only layers) are not gathered: tfjs-wasm mishandles them.
    const input = layer.input.shape[1] > 0 ? (tf.gather(layer.input, index) as tf.Tensor2D) : (tf.zeros([rows.length, 0]) as tf.Tensor2D);
    const ua = tf.matMul(tf.transpose(withOnes(input)), tf.gather(da, index) as tf.Tensor2D);
    const ub = tf.matMul(tf.transpose(withOnes(b.layers[match]!.input)), db);
    const scale = tf.norm(ua).dataSync()[0]!;
    const diff = tf.norm(tf.sub(ua, ub)).dataSync()[0]!;
    return scale > 0 ? diff / scale : diff;
  });
  return Math.max(0, ...errors);
}
