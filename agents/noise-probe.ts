/**
 * Builds the `NoiseProbe` (src/monitor/probe.ts) an agent hands the gradient noise monitor: its loss on the whole
 * batch at the current parameters, split into the policy part (without entropy), the value part and the total
 * (policy + vfCoef·value − entCoef·entropy), each a MEAN over the n samples of per-sample terms.
 *
 * Each component taps the dense layers its loss depends on, in canonical layer order (see networks.ts):
 * `tapShapes[k]`, `tapped(taps).inputs[k]` and the weight/bias pair `variables[2k]`, `variables[2k + 1]` all refer
 * to the same layer, also listed in `layers[k]`. The Gaussian log-std is one such layer (zero-column input, its bias
 * is the log-std). The probe owns the batch tensors and any preconditioner tensors it handed out; the agent disposes
 * it when the next update starts.
 *
 * Fast path (`factors()`): one forward pass of both heads and a hand-derived backward pass give every component's
 * per-sample δ at every layer, for the policy-gradient losses of `policyGradientParts` (the loss every agent's probe
 * uses; the monitor checks the result against autodiff of `tapped` once per component and falls back to it if not).
 * Per sample, with weight w_i = Â_i (times the importance ratio r_i for the curvature loss below):
 *   categorical logits: ∂(−w log π(a))/∂z = −w(onehot(a) − p);   entropy: ∂(−entCoef·H)/∂z = entCoef·p∘(log p + H)
 *   Gaussian means:     ∂(−w log π(a))/∂μ = −w z/σ;   log-std: −w(z² − 1), entropy −entCoef   (z = (a − μ)/σ)
 *   value:              ∂(½(V − R)²)/∂V = V − R
 * and through each dense layer δ_in = (δ_out Wᵀ) ∘ act'(y), one rank-2 matmul per layer and stream (policy, the
 * total's policy part, value). Where actor and critic share no layers the total's critic δ is vfCoef × the value's
 * (an alias, not computed), and with entCoef = 0 the total's actor δ is the policy's.
 *
 * Conv torso layers come after the dense layers in `factors()`, as explicit layers (`FactorLayer.flat`): their δ is
 * each sample's whole gradient of [W; b], formed from the input patches and δ at the conv output (conv.ts), where δ
 * there is Σ over the chains the conv feeds of (δ at the chain's first dense layer)·Wᵀ, times ReLU'. They take part
 * in `curvature()` (B_noise) the same way: the monitor perturbs their variables along the flattened unit gradients.
 *
 * Curvature (`curvature()`, for B_noise): the reference log π_θ₀(a_i|s_i) is taken when it is called; then
 * `factors(rows)` gives the same δ for the surrogate −Â_i·r_i, r_i = π_θ(a_i|s_i)/π_θ₀(a_i|s_i), and the value loss
 * ½(V − R)², at whatever values the variables hold (the monitor perturbs them).
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../src/core/components.js';
import type { CurvatureProbe, FactorDelta, GradientFactors, NoiseProbe, NoiseProbeComponent } from '../src/monitor/probe.js';
import { perSampleConvGrads } from './conv.js';
import type { ActorCritic, DenseLayer, ForwardPaths, ForwardResult } from './networks.js';
import type { SampleTensors } from './samples.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** The agent's loss parts on a batch, from a forward pass over it: each present when its path was run. */
export interface LossParts {
  /** Policy loss without the entropy term. */
  policy?: tf.Scalar;
  /** Value loss (without vfCoef). */
  value?: tf.Scalar;
  /** Mean entropy. */
  entropy?: tf.Scalar;
}

/** Computes the parts the forward result allows (policy and entropy when `out.policy` is set, value when `out.value`). */
export type LossPartsFn = (out: ForwardResult, data: SampleTensors) => LossParts;

export interface ProbeSpec {
  net: ActorCritic;
  /** The whole batch, with advantages already normalised as the update normalises them. Owned by the probe. */
  data: SampleTensors;
  segments: Int32Array;
  episodes: Int32Array;
  lossParts: LossPartsFn;
  vfCoef: number;
  entCoef: number;
  /** Whether the agent's loss includes the value term (false for REINFORCE without a value baseline). */
  withValue: boolean;
  preconditioner?: (variable: tf.Variable) => tf.Tensor | null;
}

export interface ProbeComponent extends NoiseProbeComponent {
  /** The tapped dense layers, in tap order. */
  readonly layers: readonly DenseLayer[];
}

export interface AgentNoiseProbe extends NoiseProbe {
  readonly components: Partial<Record<NoiseComponent, ProbeComponent>>;
  dispose(): void;
}

function dataTensors(data: SampleTensors): tf.Tensor[] {
  return [data.obs, data.actions, data.advantages, data.returns, data.oldLogProbs, data.oldValues];
}

function gatherRows(data: SampleTensors, rows: Int32Array): SampleTensors {
  return tf.tidy(() => {
    const idx = tf.tensor1d(rows, 'int32');
    return {
      n: rows.length,
      obs: tf.gather(data.obs, idx),
      actions: tf.gather(data.actions, idx),
      advantages: tf.gather(data.advantages, idx),
      returns: tf.gather(data.returns, idx),
      oldLogProbs: tf.gather(data.oldLogProbs, idx),
      oldValues: tf.gather(data.oldValues, idx),
    };
  });
}

export function buildNoiseProbe(spec: ProbeSpec): AgentNoiseProbe {
  const { net, data, vfCoef, entCoef } = spec;
  const n = data.n;
  const withValue = spec.withValue && net.hasValue;
  // Kept so that a caller's tf.tidy cannot dispose what the probe owns.
  for (const t of dataTensors(data)) tf.keep(t);
  const owned: tf.Tensor[] = [];
  const preconditioners = new Map<tf.Variable, tf.Tensor | null>();
  let curvature: CurvatureProbe | undefined;

  const component = (layerIds: readonly number[], paths: ForwardPaths, combine: (parts: LossParts) => tf.Scalar): ProbeComponent => {
    const sorted = [...layerIds].sort((a, b) => a - b);
    const lossOn = (batch: SampleTensors, taps: (tf.Tensor2D | undefined)[]) => {
      const out = net.forward(batch.obs, taps, paths);
      return { loss: combine(spec.lossParts(out, batch)), out };
    };
    return {
      layers: sorted.map((l) => net.layers[l]!),
      tapShapes: sorted.map((l) => [n, net.layers[l]!.outSize] as const),
      // Conv weights are not tapped: the tap path refuses them, and factors() covers them (explicit layers).
      variables: [...net.convVariablesOf(paths), ...net.variablesOf(sorted)],
      tapped(taps: readonly tf.Tensor2D[]) {
        if (taps.length !== sorted.length) {
          throw new RangeError(`NoiseProbe.tapped: expected ${sorted.length} taps, got ${taps.length}`);
        }
        const byLayer: (tf.Tensor2D | undefined)[] = [];
        sorted.forEach((l, k) => (byLayer[l] = taps[k]));
        const { loss, out } = lossOn(data, byLayer);
        return { loss, inputs: sorted.map((l) => out.inputs[l]!) };
      },
      subset(indices: Int32Array) {
        return tf.tidy(() => {
          const batch = gatherRows(data, indices);
          return lossOn(batch, []).loss;
        });
      },
    };
  };

  const components: Partial<Record<NoiseComponent, ProbeComponent>> = {
    policy: component(net.policyLayers, 'policy', (p) => p.policy!),
  };
  if (withValue) components.value = component(net.valueLayers, 'value', (p) => p.value!);
  const allLayers = withValue ? [...new Set([...net.policyLayers, ...net.valueLayers])] : net.policyLayers;
  components.total = component(allLayers, withValue ? 'both' : 'policy', (p) => {
    let total = tf.sub(p.policy!, tf.mul(p.entropy!, entCoef));
    if (withValue && p.value) total = tf.add(total, tf.mul(p.value, vfCoef));
    return total as tf.Scalar;
  });

  const probe: AgentNoiseProbe = {
    n,
    segments: spec.segments,
    episodes: spec.episodes,
    components,
    factors: () => handDerivedFactors(net, data, { vfCoef, entCoef, withValue }, null),
    dispose() {
      tf.dispose([...dataTensors(data), ...owned]);
      owned.length = 0;
      preconditioners.clear();
    },
  };
  // One curvature probe per NoiseProbe: its reference is θ at the first call, before any perturbation. Conv layers
  // take part as explicit factor layers (their per-sample gradients formed by conv.ts).
  probe.curvature = () => (curvature ??= curvatureProbe(net, data, withValue, owned));
  if (spec.preconditioner) {
    const source = spec.preconditioner;
    probe.preconditioner = (variable: tf.Variable) => {
      if (!preconditioners.has(variable)) {
        const tensor = source(variable);
        if (tensor) owned.push(tf.keep(tensor));
        preconditioners.set(variable, tensor);
      }
      return preconditioners.get(variable)!;
    };
  }
  return probe;
}

/** log π(a_i|s_i) from the policy output ([n]). */
function logProbOf(net: ActorCritic, out: ForwardResult, data: SampleTensors): tf.Tensor1D {
  if (net.kind === 'categorical') return tf.sum(tf.mul(tf.logSoftmax(out.policy!), data.actions), 1) as tf.Tensor1D;
  const logStd = out.logStd!;
  const z = tf.mul(tf.sub(data.actions, out.policy!), tf.exp(tf.neg(logStd)));
  return tf.neg(tf.add(tf.add(tf.mul(tf.sum(tf.square(z), 1), 0.5), tf.sum(logStd)), net.actionDim * HALF_LOG_2PI)) as tf.Tensor1D;
}

/**
 * The curvature losses frozen at the current parameters: the reference log-probabilities are computed now and kept
 * (owned by the probe).
 */
function curvatureProbe(net: ActorCritic, data: SampleTensors, withValue: boolean, owned: tf.Tensor[]): CurvatureProbe {
  const reference = tf.keep(tf.tidy(() => logProbOf(net, net.forward(data.obs, undefined, 'policy'), data)));
  owned.push(reference);
  // The monitor asks for the same row sets again and again (the two halves): gather them once.
  const batches = new Map<string, { data: SampleTensors; reference: tf.Tensor1D }>();
  const rowsOf = (rows: Int32Array) => {
    const key = rows.join(',');
    let entry = batches.get(key);
    if (!entry) {
      const gathered = gatherRows(data, rows);
      const ref = tf.keep(tf.gather(reference, tf.tensor1d(rows, 'int32'))) as tf.Tensor1D;
      for (const t of dataTensors(gathered)) owned.push(tf.keep(t));
      owned.push(ref);
      entry = { data: gathered, reference: ref };
      batches.set(key, entry);
    }
    return entry;
  };
  return {
    components: withValue ? ['policy', 'value'] : ['policy'],
    factors(rows: Int32Array) {
      const entry = rowsOf(rows);
      return handDerivedFactors(net, entry.data, { vfCoef: 1, entCoef: 0, withValue }, entry.reference);
    },
    loss(c: NoiseComponent, rows: Int32Array) {
      const entry = rowsOf(rows);
      if (c === 'value') {
        const v = net.forward(entry.data.obs, undefined, 'value').value!;
        return tf.mul(tf.mean(tf.square(tf.sub(v, entry.data.returns))), 0.5) as tf.Scalar;
      }
      const ratio = tf.exp(tf.sub(logProbOf(net, net.forward(entry.data.obs, undefined, 'policy'), entry.data), entry.reference));
      return tf.neg(tf.mean(tf.mul(entry.data.advantages, ratio))) as tf.Scalar;
    },
  };
}

interface Coefs {
  vfCoef: number;
  entCoef: number;
  withValue: boolean;
}

/**
 * Per-sample δ of every component at every layer (see the header). With `reference`, the policy weights are Â·r
 * (the curvature surrogate) and the total is not formed. Call inside a tf.tidy.
 */
function handDerivedFactors(net: ActorCritic, data: SampleTensors, coefs: Coefs, reference: tf.Tensor1D | null): GradientFactors {
  const n = data.n;
  const withValue = coefs.withValue;
  const out = net.forward(data.obs, undefined, withValue ? 'both' : 'policy');
  const curvature = reference !== null;
  // Streams carried backwards: policy, the total's policy part (with entropy; only when it differs), value.
  const totalStream = !curvature && coefs.entCoef !== 0;
  const logp = net.kind === 'categorical' ? tf.logSoftmax(out.policy!) : null;
  let weight: tf.Tensor = data.advantages;
  if (reference) {
    const taken = logp ? tf.sum(tf.mul(logp, data.actions), 1) : logProbOf(net, out, data);
    weight = tf.mul(weight, tf.exp(tf.sub(taken, reference)));
  }
  const w = tf.reshape(weight, [n, 1]);
  const head: tf.Tensor2D[] = [];
  let logStdDeltas: tf.Tensor2D[] = [];
  if (logp) {
    const p = tf.exp(logp);
    const dPolicy = tf.neg(tf.mul(w, tf.sub(data.actions, p))) as tf.Tensor2D;
    head.push(dPolicy);
    if (totalStream) {
      const entropy = tf.neg(tf.sum(tf.mul(p, logp), 1, true));
      head.push(tf.add(dPolicy, tf.mul(tf.mul(p, tf.add(logp, entropy)), coefs.entCoef)) as tf.Tensor2D);
    }
  } else {
    const logStd = out.logStd!;
    const invStd = tf.exp(tf.neg(logStd));
    const z = tf.mul(tf.sub(data.actions, out.policy!), invStd);
    head.push(tf.neg(tf.mul(w, tf.mul(z, invStd))) as tf.Tensor2D);
    const dLogStd = tf.neg(tf.mul(w, tf.sub(tf.square(z), 1))) as tf.Tensor2D;
    logStdDeltas = [dLogStd];
    if (totalStream) logStdDeltas.push(tf.sub(dLogStd, coefs.entCoef) as tf.Tensor2D);
  }
  const policyChain = net.policyLayers.filter((l) => l !== net.logStdLayer);
  const valueChain = withValue ? [...net.valueLayers] : [];
  const trunk = new Set(net.shared && withValue ? policyChain.slice(0, policyChain.length - 1) : []);
  // One backward pass per stream, down a whole chain (through a shared trunk too): δ per layer. Wᵀ (explicit: wasm's
  // transposed matMul is slow) and act'(z) are made once per layer and shared by the streams.
  const transposed = new Map<number, tf.Tensor2D>();
  const slopes = new Map<number, tf.Tensor2D | null>();
  const wT = (l: number) => transposed.get(l) ?? transposed.set(l, tf.transpose(net.layers[l]!.weight!)).get(l)!;
  const slope = (l: number, next: number) => (slopes.has(l) ? slopes.get(l)! : slopes.set(l, activationSlope(net, l, next, out)).get(l)!);
  const down = (chain: readonly number[], top: tf.Tensor2D): Map<number, tf.Tensor2D> => {
    const deltas = new Map<number, tf.Tensor2D>();
    let dz = top;
    deltas.set(chain[chain.length - 1]!, dz);
    for (let j = chain.length - 2; j >= 0; j--) {
      const dy = tf.matMul(dz, wT(chain[j + 1]!)) as tf.Tensor2D;
      const s = slope(chain[j]!, chain[j + 1]!);
      dz = s ? (tf.mul(dy, s) as tf.Tensor2D) : dy;
      deltas.set(chain[j]!, dz);
    }
    return deltas;
  };
  const policyDeltas = down(policyChain, head[0]!);
  // Gaussian: the entropy depends on the log-std only, so the total's δ at the mean layers is the policy's.
  const totalDeltas = totalStream && net.kind === 'categorical' ? down(policyChain, head[1]!) : null;
  const valueDeltas = withValue ? down(valueChain, tf.reshape(tf.sub(out.value!, data.returns), [n, 1]) as tf.Tensor2D) : null;

  const layers = net.layers.map((layer, l) => ({
    kernel: layer.weight,
    bias: layer.bias,
    input: l === net.logStdLayer ? (tf.zeros([n, 0]) as tf.Tensor2D) : out.inputs[l]!,
  }));
  const none = (): (FactorDelta | undefined)[] => new Array(net.layers.length).fill(undefined);
  const policy = none();
  const value = none();
  const total = none();
  for (const l of policyChain) {
    policy[l] = policyDeltas.get(l)!;
    if (curvature) continue;
    if (trunk.has(l)) total[l] = tf.add((totalDeltas ?? policyDeltas).get(l)!, tf.mul(valueDeltas!.get(l)!, coefs.vfCoef)) as tf.Tensor2D;
    else total[l] = totalDeltas ? totalDeltas.get(l)! : { sameAs: 'policy', scale: 1 };
  }
  if (net.logStdLayer >= 0) {
    policy[net.logStdLayer] = logStdDeltas[0]!;
    if (!curvature) total[net.logStdLayer] = totalStream ? logStdDeltas[1]! : { sameAs: 'policy', scale: 1 };
  }
  for (const l of valueChain) {
    value[l] = valueDeltas!.get(l)!;
    if (!curvature && !trunk.has(l)) total[l] = { sameAs: 'value', scale: coefs.vfCoef };
  }
  // Conv torso layers: explicit per-sample gradients (conv.ts) from δ at their output, after the dense layers.
  // δ there = Σ over the chains the conv feeds (δ at the chain's first dense layer)·Wᵀ, times ReLU'(y).
  const convLayers = net.convs.map((conv) => ({ kernel: null, bias: conv.bias, input: tf.zeros([n, 0]) as tf.Tensor2D, flat: [conv.weight, conv.bias] }));
  const convDelta = (c: number, parts: { chain: readonly number[]; deltas: Map<number, tf.Tensor2D>; scale: number }[]): tf.Tensor2D => {
    const first = parts[0]!.chain[0]!;
    const dy = tf.addN(parts.map(({ chain, deltas, scale }) => {
      const back = tf.matMul(deltas.get(chain[0]!)!, wT(chain[0]!));
      return scale === 1 ? back : tf.mul(back, scale);
    }));
    return perSampleConvGrads(data.obs, tf.mul(dy, tf.step(out.inputs[first]!)) as tf.Tensor2D, net.convs[c]!);
  };
  const convDeltas = (list: (FactorDelta | undefined)[]) => [...list, ...convLayers.map((): FactorDelta | undefined => undefined)];
  const policyAll = convDeltas(policy);
  const valueAll = convDeltas(value);
  const totalAll = convDeltas(total);
  const base = net.layers.length;
  const sharedConv = withValue && net.policyConv >= 0 && net.policyConv === net.valueConv;
  if (net.policyConv >= 0) {
    const c = net.policyConv;
    policyAll[base + c] = convDelta(c, [{ chain: policyChain, deltas: policyDeltas, scale: 1 }]);
    if (!curvature && !sharedConv) totalAll[base + c] = totalDeltas ? convDelta(c, [{ chain: policyChain, deltas: totalDeltas, scale: 1 }]) : { sameAs: 'policy', scale: 1 };
  }
  if (withValue && net.valueConv >= 0) {
    const c = net.valueConv;
    valueAll[base + c] = convDelta(c, [{ chain: valueChain, deltas: valueDeltas!, scale: 1 }]);
    if (!curvature && !sharedConv) totalAll[base + c] = { sameAs: 'value', scale: coefs.vfCoef };
  }
  if (!curvature && sharedConv) {
    // A shared trunk's first dense layer is on both chains (its total δ already sums both); with no trunk layers the
    // heads are the conv's two consumers.
    totalAll[base + net.policyConv] = policyChain[0] === valueChain[0]
      ? convDelta(net.policyConv, [{ chain: policyChain, deltas: new Map([[policyChain[0]!, total[policyChain[0]!] as tf.Tensor2D]]), scale: 1 }])
      : convDelta(net.policyConv, [
          { chain: policyChain, deltas: totalDeltas ?? policyDeltas, scale: 1 },
          { chain: valueChain, deltas: valueDeltas!, scale: coefs.vfCoef },
        ]);
  }
  return {
    layers: [...layers, ...convLayers],
    deltas: { policy: policyAll, ...(withValue ? { value: valueAll } : {}), ...(curvature ? {} : { total: totalAll }) },
  };
}

/** act'(z) of layer l as a function of its output y (the input of layer `next`): 1 − y² (tanh), step(y) (relu); null for linear. */
function activationSlope(net: ActorCritic, l: number, next: number, out: ForwardResult): tf.Tensor2D | null {
  const y = out.inputs[next]!;
  switch (net.layers[l]!.activation) {
    case 'tanh':
      return tf.sub(1, tf.square(y)) as tf.Tensor2D;
    case 'relu':
      return tf.step(y) as tf.Tensor2D;
    case 'linear':
      return null;
  }
}
