/**
 * The curvature behind B_noise: the central-difference Hessian-vector products at the default ε against a float64
 * reference on the 64-64 tanh CartPole policy (the probe's surrogate loss), and exact checks of the monitor's B_noise
 * on supervised quadratic models whose Hessian is known: a fixed diagonal H (no curvature noise) and linear regression
 * (H = a·E[x̃x̃ᵀ] = a·I, estimated from noisy per-sample Hessians a·x̃x̃ᵀ), where B_noise must equal B_simple.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createAgent } from '../../agents/index.js';
import type { PpoAgent, PpoBatch } from '../../agents/ppo.js';
import { agentSection, monitorSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { DEFAULT_EPSILON } from '../../src/monitor/curvature.js';
import { withOnes } from '../../src/monitor/factors.js';
import { NoiseMonitor } from '../../src/monitor/monitor.js';
import type { CurvatureProbe, GradientFactors, NoiseProbe } from '../../src/monitor/probe.js';
import { makeEnv } from '../../src/run/registry.js';

before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** (x − mean)/(std + 1e-8) with the unbiased std, as PPO normalises the probe's advantages. */
function normalized(values: Float32Array): Float32Array {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return Float32Array.from(values, (v) => (v - mean) / (std + 1e-8));
}

/** −Σ_i A_i π_θ(a_i|s_i)/π_θ₀(a_i|s_i) in float64 for the categorical MLP with weights `w` (per variable, in order). */
function surrogate64(agent: PpoAgent, weights: readonly Float64Array[], obs: Float32Array, actions: Float32Array, adv: Float32Array, ref: Float64Array | null): { loss: number; logp: Float64Array } {
  const net = agent.net;
  const chain = net.policyLayers;
  const n = adv.length;
  const logp = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let h = Array.from(obs.subarray(i * net.obsSize, (i + 1) * net.obsSize), Number);
    chain.forEach((l, k) => {
      const layer = net.layers[l]!;
      const w = weights[2 * k]!;
      const b = weights[2 * k + 1]!;
      const out = new Array<number>(layer.outSize).fill(0);
      for (let o = 0; o < layer.outSize; o++) {
        let z = b[o]!;
        for (let j = 0; j < layer.inSize; j++) z += h[j]! * w[j * layer.outSize + o]!;
        out[o] = layer.activation === 'tanh' ? Math.tanh(z) : z;
      }
      h = out;
    });
    const top = Math.max(...h);
    const lse = top + Math.log(h.reduce((s, z) => s + Math.exp(z - top), 0));
    logp[i] = h[actions[i]!]! - lse;
    loss -= adv[i]! * (ref ? Math.exp(logp[i]! - ref[i]!) : 1);
  }
  return { loss, logp };
}

describe('central-difference Hessian-vector products', () => {
  it(`at ε = ${DEFAULT_EPSILON}, vᵀHv of the PPO surrogate on the 64-64 tanh policy agrees with a float64 reference to 1e-3`, () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 4 });
    const root = new Rng(3);
    env.reset(root.split('env').uint32());
    const agent = createAgent(agentSection.parse({ algo: 'ppo', numSteps: 64 }), env, root.split('agent')) as PpoAgent;
    // A few updates so the policy is not the near-uniform initial one.
    for (let u = 0; u < 3; u++) agent.learn(agent.collect() as PpoBatch, 0);
    const batch = agent.collect() as PpoBatch;
    const probe = agent.noiseProbe(batch);
    const net = agent.net;
    const variables = net.variablesOf(net.policyLayers);
    const theta = variables.map((v) => Float64Array.from(v.dataSync()));
    const rng = new Rng('direction');
    const dir = theta.map((t) => Float64Array.from(t, () => rng.normal()));
    const norm = Math.sqrt(dir.reduce((s, d) => s + d.reduce((a, x) => a + x * x, 0), 0));
    dir.forEach((d) => d.forEach((_, i) => (d[i]! /= norm)));
    const obs = batch.rollout.obs;
    const actions = batch.rollout.actions;
    const adv = normalized(batch.samples.advantages);
    const shifted = (h: number) => theta.map((t, v) => Float64Array.from(t, (x, i) => x + h * dir[v]![i]!));
    const ref = surrogate64(agent, theta, obs, actions, adv, null).logp;
    const reference = (h: number) =>
      (surrogate64(agent, shifted(h), obs, actions, adv, ref).loss - 2 * surrogate64(agent, theta, obs, actions, adv, ref).loss + surrogate64(agent, shifted(-h), obs, actions, adv, ref).loss) / (h * h);
    const exact = reference(1e-3);
    assert.ok(Math.abs(reference(2e-3) / exact - 1) < 1e-5, 'the float64 reference is converged in h');

    const curvature: CurvatureProbe = probe.curvature!();
    const rows = Int32Array.from({ length: probe.n }, (_, i) => i);
    const gradientAt = (h: number): Float64Array[] => {
      variables.forEach((v, k) => v.assign(tf.tensor(Float32Array.from(shifted(h)[k]!), v.shape)));
      const out: Float64Array[] = [];
      tf.tidy(() => {
        const f: GradientFactors = curvature.factors(rows);
        f.layers.forEach((layer, l) => {
          const delta = f.deltas.policy?.[l];
          if (!(delta instanceof tf.Tensor)) return;
          const u = tf.matMul(tf.transpose(withOnes(layer.input)), delta);
          const data = u.dataSync();
          const inSize = layer.input.shape[1];
          if (layer.kernel) out.push(Float64Array.from(data.subarray(0, inSize * delta.shape[1])));
          out.push(Float64Array.from(data.subarray(inSize * delta.shape[1])));
        });
      });
      return out;
    };
    const central = (eps: number) => {
      const plus = gradientAt(eps);
      const minus = gradientAt(-eps);
      let s = 0;
      plus.forEach((p, v) => p.forEach((x, i) => (s += dir[v]![i]! * (x - minus[v]![i]!))));
      return s / (2 * eps);
    };
    const errors = new Map<number, number>();
    for (const eps of [1e-4, 1e-3, DEFAULT_EPSILON, 1e-1]) errors.set(eps, Math.abs(central(eps) / exact - 1));
    variables.forEach((v, k) => v.assign(tf.tensor(Float32Array.from(theta[k]!), v.shape)));
    if (process.env.GRADNOISE_VERBOSE) console.log(`vᵀHv = ${exact}; relative error by ε: ${[...errors].map(([e, r]) => `${e}: ${r.toExponential(2)}`).join(', ')}`);
    assert.ok(errors.get(DEFAULT_EPSILON)! < 1e-3, `relative error at ε = ${DEFAULT_EPSILON}: ${errors.get(DEFAULT_EPSILON)}`);
    // The choice matters: round-off dominates far below it.
    assert.ok(errors.get(1e-4)! > errors.get(DEFAULT_EPSILON)!, 'float32 round-off should hurt at ε = 1e-4');
    agent.dispose();
  });
});

/** A supervised model as a NoiseProbe: one dense layer z = xW + b (or bias-only), loss ℓ_i = ½ Σ_j a_j (z_ij − y_ij)². */
interface Supervised {
  readonly kernel: tf.Variable | null;
  readonly bias: tf.Variable;
  readonly a: tf.Tensor1D;
  /**
   * Bias-only models may instead present their parameters as an explicit layer (as conv layers are): θ is these
   * variables flattened and concatenated (`bias` is the last of them), δ_i the whole per-sample gradient.
   */
  readonly flat?: readonly tf.Variable[];
}

function supervisedProbe(model: Supervised, x: tf.Tensor2D, y: tf.Tensor2D, numEnvs: number): NoiseProbe {
  const n = y.shape[0];
  const flat = model.flat;
  const theta = () => (flat ? (tf.concat(flat.map((v) => tf.reshape(v, [-1]))) as tf.Tensor1D) : model.bias);
  const out = flat ? flat.reduce((s, v) => s + v.size, 0) : model.bias.shape[0]!;
  const variables = flat ? [...flat] : model.kernel ? [model.kernel, model.bias] : [model.bias];
  const z = (rows: tf.Tensor2D, tap?: tf.Tensor2D) => {
    let pre = (model.kernel ? tf.add(tf.matMul(rows, model.kernel), model.bias) : tf.add(tf.zeros([rows.shape[0], out]), theta())) as tf.Tensor2D;
    if (tap) pre = tf.add(pre, tap);
    return pre;
  };
  const lossOf = (rows: Int32Array | null, tap?: tf.Tensor2D) => {
    const idx = rows ? tf.tensor1d(rows, 'int32') : null;
    const xs = idx ? (tf.gather(x, idx) as tf.Tensor2D) : x;
    const ys = idx ? (tf.gather(y, idx) as tf.Tensor2D) : y;
    return tf.mean(tf.mul(0.5, tf.sum(tf.mul(model.a, tf.square(tf.sub(z(xs, tap), ys))), 1))) as tf.Scalar;
  };
  const factorsOn = (rows: Int32Array | null): GradientFactors => {
    const idx = rows ? tf.tensor1d(rows, 'int32') : null;
    const xs = idx ? (tf.gather(x, idx) as tf.Tensor2D) : x;
    const ys = idx ? (tf.gather(y, idx) as tf.Tensor2D) : y;
    return {
      layers: [{ kernel: model.kernel, bias: model.bias, input: model.kernel ? xs : (tf.zeros([ys.shape[0], 0]) as tf.Tensor2D), ...(flat ? { flat } : {}) }],
      deltas: { policy: [tf.mul(model.a, tf.sub(z(xs), ys)) as tf.Tensor2D] },
    };
  };
  return {
    n,
    segments: Int32Array.from({ length: n }, (_, i) => Math.floor((i * numEnvs) / n)),
    episodes: Int32Array.from({ length: n }, (_, i) => i),
    components: {
      policy: {
        tapShapes: [[n, out]],
        tapped: (taps) => ({ loss: lossOf(null, taps[0]), inputs: [model.kernel ? x : (tf.zeros([n, 0]) as tf.Tensor2D)] }),
        subset: (rows) => lossOf(rows),
        variables,
      },
    },
    factors: () => factorsOn(null),
    curvature: () => ({ components: ['policy'], factors: (rows) => factorsOn(rows), loss: (_c, rows) => lossOf(rows) }),
  };
}

/** `updates` measurements of fresh data from `draw`; the policy summary. */
function runSupervised(model: Supervised, draw: (rng: Rng) => { x: tf.Tensor2D; y: tf.Tensor2D }, updates: number) {
  const monitor = new NoiseMonitor(monitorSection.parse({ every: 1, bNoise: true, bNoiseEvery: 1, confidence: 0.99 }));
  const rng = new Rng('supervised');
  const n = 256;
  for (let update = 1; update <= updates; update++) {
    const { x, y } = draw(rng);
    const before = tf.memory().numTensors;
    monitor.measure(supervisedProbe(model, x, y, 8), { update, envSteps: update * n });
    assert.equal(tf.memory().numTensors, before, 'the monitor leaves no tensors behind');
    tf.dispose([x, y]);
  }
  return monitor.summary().components.policy!;
}

describe('B_noise on supervised quadratic models with known H', () => {
  const n = 256;
  const gaussian = (rng: Rng, count: number, scale = 1) => Float32Array.from({ length: count }, () => scale * rng.normal());

  for (const [label, a] of [
    ['H ∝ I', [2, 2, 2]],
    ['H = diag(1, 3, 10)', [1, 3, 10]],
  ] as const) {
    it(`fixed Hessian ${label}: B_noise = Σa³s²/Σa³e², B_simple = Σa²s²/Σa²e²`, () => {
      const d = a.length;
      // Signal in the flat directions, noise in the stiff ones: with H = diag(1, 3, 10) B_noise is ~1.6 × B_simple.
      const e = Array.from({ length: d }, (_, j) => 0.5 - 0.2 * j);
      const s = Array.from({ length: d }, (_, j) => 0.2 * 2 ** j);
      const model: Supervised = { kernel: null, bias: tf.variable(tf.tensor1d(e)), a: tf.tensor1d([...a]) };
      const draw = (rng: Rng) => {
        const y = tf.mul(tf.tensor2d(gaussian(rng, n * d), [n, d]), tf.tensor1d(s)) as tf.Tensor2D;
        return { x: tf.zeros([n, 0]) as tf.Tensor2D, y };
      };
      const summary = runSupervised(model, draw, 60);
      const sum = (f: (j: number) => number) => a.reduce((acc, _, j) => acc + f(j), 0);
      const bSimple = sum((j) => a[j]! ** 2 * s[j]! ** 2) / sum((j) => a[j]! ** 2 * e[j]! ** 2);
      const bNoise = sum((j) => a[j]! ** 3 * s[j]! ** 2) / sum((j) => a[j]! ** 3 * e[j]! ** 2);
      const m = summary.mean;
      const bn = summary.bNoise!.mean;
      if (process.env.GRADNOISE_VERBOSE) console.log(`${label}: B_simple ${bSimple} vs ${m.bSimple} [${m.lo}, ${m.hi}]; B_noise ${bNoise} vs ${bn.bSimple} [${bn.lo}, ${bn.hi}]`);
      assert.ok(m.lo <= bSimple && bSimple <= m.hi, `B_simple ${bSimple} outside [${m.lo}, ${m.hi}]`);
      assert.ok(bn.resolved && bn.lo <= bNoise && bNoise <= bn.hi, `B_noise ${bNoise} outside [${bn.lo}, ${bn.hi}]`);
      assert.ok(Math.abs(bn.bSimple / bNoise - 1) < 0.15, `B_noise ${bn.bSimple} vs ${bNoise}`);
      // tr(HΣ) and GᵀHG themselves: H is exact here, so only the direction noise is left.
      assert.ok(Math.abs(bn.gradSq / sum((j) => a[j]! ** 3 * e[j]! ** 2) - 1) < 0.15, `GᵀHG ${bn.gradSq}`);
      if (label === 'H ∝ I') assert.ok(Math.abs(bn.bSimple / m.bSimple - 1) < 0.1, `H ∝ I: B_noise ${bn.bSimple} should equal B_simple ${m.bSimple}`);
      else assert.ok(bNoise / bSimple > 1.5 && bn.bSimple / m.bSimple > 1.3, `anisotropic H: measured B_noise ${bn.bSimple} should be well above B_simple ${m.bSimple}, as the closed forms say`);
      tf.dispose([model.bias, model.a]);
    });
  }

  it('an explicit (conv-style) layer: the same fixed-Hessian closed forms with θ split over a [2, 2] and a [2] variable', () => {
    const a = [1, 3, 10, 1, 3, 10];
    const e = [0.5, 0.3, 0.1, -0.2, 0.4, -0.1];
    const s = [0.2, 0.4, 0.8, 0.3, 0.6, 0.5];
    const w = tf.variable(tf.tensor2d(e.slice(0, 4), [2, 2]));
    const b = tf.variable(tf.tensor1d(e.slice(4)));
    const model: Supervised = { kernel: null, bias: b, a: tf.tensor1d(a), flat: [w, b] };
    const d = a.length;
    const draw = (rng: Rng) => ({ x: tf.zeros([n, 0]) as tf.Tensor2D, y: tf.mul(tf.tensor2d(gaussian(rng, n * d), [n, d]), tf.tensor1d(s)) as tf.Tensor2D });
    const before = [w, b].map((v) => v.dataSync().slice());
    const summary = runSupervised(model, draw, 60);
    const sum = (f: (j: number) => number) => a.reduce((acc, _, j) => acc + f(j), 0);
    const bNoise = sum((j) => a[j]! ** 3 * s[j]! ** 2) / sum((j) => a[j]! ** 3 * e[j]! ** 2);
    const bn = summary.bNoise!.mean;
    assert.ok(bn.resolved && bn.lo <= bNoise && bNoise <= bn.hi, `B_noise ${bNoise} outside [${bn.lo}, ${bn.hi}]`);
    assert.ok(Math.abs(bn.bSimple / bNoise - 1) < 0.15, `B_noise ${bn.bSimple} vs ${bNoise}`);
    assert.ok(Math.abs(bn.gradSq / sum((j) => a[j]! ** 3 * e[j]! ** 2) - 1) < 0.15, `GᵀHG ${bn.gradSq}`);
    // Every variable of the layer is moved and put back bit for bit.
    [w, b].forEach((v, k) => assert.deepEqual(v.dataSync(), before[k]));
    tf.dispose([w, b, model.a]);
  });

  it('linear regression, H = a·E[x̃x̃ᵀ] = a·I from noisy per-sample Hessians: B_noise = B_simple = ((d+2)|w|² + d·b² + (d+1)s²)/(|w|² + b²)', () => {
    const d = 3;
    const w = [0.3, -0.2, 0.1];
    const b = 0.2;
    const s = 1;
    const model: Supervised = { kernel: tf.variable(tf.tensor2d(w, [d, 1])), bias: tf.variable(tf.tensor1d([b])), a: tf.tensor1d([1.5]) };
    const draw = (rng: Rng) => ({ x: tf.tensor2d(gaussian(rng, n * d), [n, d]), y: tf.tensor2d(gaussian(rng, n, s), [n, 1]) });
    const summary = runSupervised(model, draw, 80);
    const w2 = w.reduce((acc, v) => acc + v * v, 0);
    const truth = ((d + 2) * w2 + d * b * b + (d + 1) * s * s) / (w2 + b * b);
    const m = summary.mean;
    const bn = summary.bNoise!.mean;
    if (process.env.GRADNOISE_VERBOSE) console.log(`regression: true ${truth}; B_simple ${m.bSimple} [${m.lo}, ${m.hi}]; B_noise ${bn.bSimple} [${bn.lo}, ${bn.hi}]`);
    assert.ok(m.lo <= truth && truth <= m.hi, `B_simple: ${truth} outside [${m.lo}, ${m.hi}]`);
    assert.ok(bn.resolved && bn.lo <= truth && truth <= bn.hi, `B_noise: ${truth} outside [${bn.lo}, ${bn.hi}]`);
    assert.ok(Math.abs(bn.bSimple / truth - 1) < 0.2, `B_noise ${bn.bSimple} vs ${truth}`);
    tf.dispose([model.kernel!, model.bias, model.a]);
  });
});
