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
 */
import * as tf from '@tensorflow/tfjs';
import type { NoiseComponent } from '../src/core/components.js';
import type { NoiseProbe, NoiseProbeComponent } from '../src/monitor/probe.js';
import type { ActorCritic, DenseLayer, ForwardPaths, ForwardResult } from './networks.js';
import type { SampleTensors } from './samples.js';

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

export function buildNoiseProbe(spec: ProbeSpec): AgentNoiseProbe {
  const { net, data, vfCoef, entCoef } = spec;
  const n = data.n;
  // Kept so that a caller's tf.tidy cannot dispose what the probe owns.
  for (const t of [data.obs, data.actions, data.advantages, data.returns, data.oldLogProbs, data.oldValues]) tf.keep(t);
  const owned: tf.Tensor[] = [];
  const preconditioners = new Map<tf.Variable, tf.Tensor | null>();

  const component = (layerIds: readonly number[], paths: ForwardPaths, combine: (parts: LossParts) => tf.Scalar): ProbeComponent => {
    const sorted = [...layerIds].sort((a, b) => a - b);
    const lossOn = (batch: SampleTensors, taps: (tf.Tensor2D | undefined)[]) => {
      const out = net.forward(batch.obs, taps, paths);
      return { loss: combine(spec.lossParts(out, batch)), out };
    };
    return {
      layers: sorted.map((l) => net.layers[l]!),
      tapShapes: sorted.map((l) => [n, net.layers[l]!.outSize] as const),
      variables: net.variablesOf(sorted),
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
          const idx = tf.tensor1d(indices, 'int32');
          const batch: SampleTensors = {
            n: indices.length,
            obs: tf.gather(data.obs, idx),
            actions: tf.gather(data.actions, idx),
            advantages: tf.gather(data.advantages, idx),
            returns: tf.gather(data.returns, idx),
            oldLogProbs: tf.gather(data.oldLogProbs, idx),
            oldValues: tf.gather(data.oldValues, idx),
          };
          return lossOn(batch, []).loss;
        });
      },
    };
  };

  const components: Partial<Record<NoiseComponent, ProbeComponent>> = {
    policy: component(net.policyLayers, 'policy', (p) => p.policy!),
  };
  if (spec.withValue && net.hasValue) {
    components.value = component(net.valueLayers, 'value', (p) => p.value!);
  }
  const allLayers = spec.withValue && net.hasValue ? [...new Set([...net.policyLayers, ...net.valueLayers])] : net.policyLayers;
  components.total = component(allLayers, spec.withValue && net.hasValue ? 'both' : 'policy', (p) => {
    let total = tf.sub(p.policy!, tf.mul(p.entropy!, entCoef));
    if (spec.withValue && p.value) total = tf.add(total, tf.mul(p.value, vfCoef));
    return total as tf.Scalar;
  });

  const probe: AgentNoiseProbe = {
    n,
    segments: spec.segments,
    episodes: spec.episodes,
    components,
    dispose() {
      tf.dispose([data.obs, data.actions, data.advantages, data.returns, data.oldLogProbs, data.oldValues, ...owned]);
      owned.length = 0;
      preconditioners.clear();
    },
  };
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
