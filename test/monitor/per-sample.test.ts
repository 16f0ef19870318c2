import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { monitorSection } from '../../src/config/schema.js';
import type { GroupStats } from '../../src/monitor/estimator.js';
import { NOISE_COLUMNS, NoiseMonitor } from '../../src/monitor/monitor.js';
import {
  fallbackGradStats,
  FastPathUnsupportedError,
  fastGradStats,
  groupsFromIds,
  microBatchGroups,
  singleSampleGroups,
  type GroupAssignment,
  type Preconditioner,
} from '../../src/monitor/per-sample.js';
import type { NoiseProbe, NoiseProbeComponent } from '../../src/monitor/probe.js';
import { DivergedError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

/**
 * A hand-built actor-critic probe over tf.variables: a 2-layer tanh MLP policy with a softmax cross-entropy
 * (policy-gradient) loss ℓ_i = −A_i·log π(a_i|s_i), a 2-layer tanh MLP value net with squared error, a Gaussian head
 * whose state-independent log-std is tapped as a bias-only layer, and their weighted sum as `total`.
 */
interface Layer {
  kernel: tf.Variable | null;
  bias: tf.Variable;
  tanh: boolean;
}

let variableCount = 0;
function layer(rng: Rng, inSize: number, outSize: number, tanh: boolean): Layer {
  const id = variableCount++;
  const values = (count: number, scale: number) => Float32Array.from({ length: count }, () => rng.normal() * scale);
  return {
    kernel: inSize > 0 ? tf.variable(tf.tensor2d(values(inSize * outSize, 1 / Math.sqrt(inSize)), [inSize, outSize]), true, `test${id}/kernel`) : null,
    bias: tf.variable(tf.tensor1d(values(outSize, 0.3)), true, `test${id}/bias`),
    tanh,
  };
}

function layerVariables(layers: readonly Layer[]): tf.Variable[] {
  return layers.flatMap((l) => (l.kernel ? [l.kernel, l.bias] : [l.bias]));
}

/** Forward through `layers` (a bias-only layer gets an [n, 0] input), adding taps and recording inputs when given. */
function forward(layers: readonly Layer[], x: tf.Tensor2D, taps?: tf.Tensor2D[], inputs?: tf.Tensor2D[]): tf.Tensor2D {
  const n = x.shape[0];
  let h = x;
  for (const l of layers) {
    const input = l.kernel ? h : (tf.zeros([n, 0]) as tf.Tensor2D);
    inputs?.push(input);
    let z = (l.kernel ? tf.add(tf.matMul(input, l.kernel), l.bias) : tf.add(tf.zeros([n, l.bias.shape[0]!]), l.bias)) as tf.Tensor2D;
    if (taps) z = tf.add(z, taps.shift()!);
    h = l.tanh ? tf.tanh(z) : z;
  }
  return h;
}

interface Data {
  obs: tf.Tensor2D;
  actions: tf.Tensor1D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
  continuous: tf.Tensor2D;
}

/** A component: heads (layer stacks on the observation) and a per-sample loss from their outputs on a row subset. */
function component(
  heads: readonly (readonly Layer[])[],
  perSample: (outputs: tf.Tensor2D[], rows: Int32Array | null) => tf.Tensor1D,
  data: Data,
  extraVariables: tf.Variable[] = [],
): NoiseProbeComponent {
  const n = data.obs.shape[0];
  return {
    tapShapes: heads.flatMap((head) => head.map((l) => [n, l.bias.shape[0]!] as const)),
    tapped(taps) {
      const queue = [...taps];
      const inputs: tf.Tensor2D[] = [];
      const outputs = heads.map((head) => forward(head, data.obs, queue, inputs));
      return { loss: tf.mean(perSample(outputs, null)) as tf.Scalar, inputs };
    },
    subset(indices) {
      const obs = tf.gather(data.obs, tf.tensor1d(indices, 'int32')) as tf.Tensor2D;
      return tf.mean(perSample(heads.map((head) => forward(head, obs)), indices)) as tf.Scalar;
    },
    variables: [...heads.flatMap(layerVariables), ...extraVariables],
  };
}

function pick<T extends tf.Tensor>(t: T, rows: Int32Array | null): T {
  return rows ? (tf.gather(t, tf.tensor1d(rows, 'int32')) as T) : t;
}

function makeProbe(seed: string, n: number) {
  const rng = new Rng(seed);
  const policy = [layer(rng, 3, 16, true), layer(rng, 16, 2, false)];
  const value = [layer(rng, 3, 16, true), layer(rng, 16, 1, false)];
  const mean = [layer(rng, 3, 8, true), layer(rng, 8, 2, false)];
  const logStd = [layer(rng, 0, 2, false)];
  const data: Data = {
    obs: tf.tensor2d(Float32Array.from({ length: n * 3 }, () => rng.normal()), [n, 3]),
    actions: tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(2)), 'int32'),
    advantages: tf.tensor1d(Float32Array.from({ length: n }, () => rng.normal())),
    returns: tf.tensor1d(Float32Array.from({ length: n }, () => rng.normal() + 1)),
    continuous: tf.tensor2d(Float32Array.from({ length: n * 2 }, () => rng.normal()), [n, 2]),
  };
  const policyLoss = ([logits]: tf.Tensor2D[], rows: Int32Array | null) => {
    const logp = tf.logSoftmax(logits!);
    const taken = tf.sum(tf.mul(logp, tf.oneHot(pick(data.actions, rows), 2)), 1);
    return tf.neg(tf.mul(pick(data.advantages, rows), taken)) as tf.Tensor1D;
  };
  const valueLoss = ([v]: tf.Tensor2D[], rows: Int32Array | null) => tf.square(tf.sub(tf.reshape(v!, [-1]), pick(data.returns, rows))) as tf.Tensor1D;
  const gaussianLoss = ([mu, logstd]: tf.Tensor2D[], rows: Int32Array | null) => {
    const z = tf.div(tf.sub(pick(data.continuous, rows), mu!), tf.exp(logstd!));
    return tf.sum(tf.add(logstd!, tf.mul(0.5, tf.square(z))), 1) as tf.Tensor1D;
  };
  const components = {
    policy: component([policy], policyLoss, data),
    value: component([value], valueLoss, data),
    total: component(
      [policy, value],
      ([logits, v], rows) => tf.add(policyLoss([logits!], rows), tf.mul(0.5, valueLoss([v!], rows))) as tf.Tensor1D,
      data,
    ),
  };
  const gaussian = component([mean, logStd], gaussianLoss, data);
  // Taps (and variables) the loss does not depend on: their δ is zero, not an error.
  const unused = component([policy, value], ([logits], rows) => policyLoss([logits!], rows), data);
  // P: a fixed positive diagonal per variable (as Adam's 1/(√v̂+ε) would be).
  const preconditioners = new Map<string, tf.Tensor>();
  for (const v of [...layerVariables(policy), ...layerVariables(value), ...layerVariables(mean), ...layerVariables(logStd)]) {
    preconditioners.set(v.name, tf.tensor(Float32Array.from({ length: v.size }, () => 0.2 + rng.uniform() * 3), v.shape));
  }
  const preconditioner: Preconditioner = (v) => preconditioners.get(v.name) ?? null;
  const probe: NoiseProbe = {
    n,
    segments: Int32Array.from({ length: n }, (_, i) => i % 4),
    episodes: episodeIds(n),
    components,
    preconditioner,
  };
  const dispose = () => {
    for (const t of [...Object.values(data), ...preconditioners.values()]) t.dispose();
    for (const v of [...layerVariables(policy), ...layerVariables(value), ...layerVariables(mean), ...layerVariables(logStd)]) v.dispose();
  };
  return { probe, gaussian, unused, preconditioner, policy, dispose, data };
}

/** Episodes of very unequal lengths (1..13, several size buckets), numbered 100, 101, ... in rollout order. */
function episodeIds(n: number): Int32Array {
  const lengths = [1, 2, 3, 13, 5, 1, 8, 2, 3];
  const ids = new Int32Array(n);
  let episode = 0;
  let left = lengths[0]!;
  for (let i = 0; i < n; i++) {
    if (left === 0) {
      episode++;
      left = lengths[episode % lengths.length]!;
    }
    ids[i] = 100 + episode;
    left--;
  }
  return ids;
}

/** Elementwise |a − b| ≤ tol·(|b| + 1e-3·max|b|). */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    assert.ok(Math.abs(a - b) <= tol * (Math.abs(b) + 1e-3 * scale), `${label}[${i}]: ${a} vs ${b}`);
  }
}

function assertSameStats(actual: GroupStats, expected: GroupStats, label: string): void {
  assert.deepEqual(Array.from(actual.sizes), Array.from(expected.sizes), `${label}: sizes`);
  assertClose(actual.sumSq, expected.sumSq, `${label}: sumSq`);
  assertClose(actual.sumDot, expected.sumDot, `${label}: sumDot`);
  assertClose([actual.totalSq], [expected.totalSq], `${label}: totalSq`);
}

/** n²·|∇loss|² by ordinary autodiff of the mean loss (optionally P-scaled). */
function ordinaryTotalSq(c: NoiseProbeComponent, n: number, preconditioner?: Preconditioner): number {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(() => c.subset(Int32Array.from({ length: n }, (_, i) => i)), [...c.variables]);
    let sq = 0;
    for (const v of c.variables) {
      const grad = grads[v.name] ?? tf.zerosLike(v);
      const g = preconditioner ? tf.mul(grad, preconditioner(v)!) : grad;
      sq += tf.sum(tf.square(g)).dataSync()[0]!;
    }
    return n * n * sq;
  });
}

describe('per-sample gradient statistics', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  const n = 48;
  const groupings = (probe: NoiseProbe): [string, GroupAssignment][] => [
    ['sample', singleSampleGroups(n)],
    ['segment', groupsFromIds(probe.segments)],
    ['episode', groupsFromIds(probe.episodes)],
    ['microbatch', microBatchGroups(n, 5, new Rng('mb'))],
  ];

  it('fast path equals per-sample / per-group autodiff for every grouping and component', () => {
    const { probe, gaussian, unused, dispose } = makeProbe('fast-vs-fallback', n);
    const cases = [...Object.entries(probe.components), ['gaussian (bias-only log-std)', gaussian], ['policy loss with unused value taps', unused]] as const;
    for (const [name, c] of cases) {
      for (const [grouping, groups] of groupings(probe)) {
        const fast = fastGradStats(c!, groups, { verify: true });
        const slow = fallbackGradStats(c!, groups);
        assert.equal(fast.method, 'fast');
        assert.ok(fast.verifyError! < 1e-5, `${name}: verify error ${fast.verifyError}`);
        assertSameStats(fast.total, slow.total, `${name}/${grouping}`);
      }
      // |ḡ|² is the ordinary gradient's squared norm (totalSq = n²|ḡ|²).
      const fast = fastGradStats(c!, singleSampleGroups(n));
      assertClose([fast.total.totalSq], [ordinaryTotalSq(c!, n)], `${name}: |U|² vs autodiff`);
    }
    dispose();
  });

  it('per-sample norms are |∇ℓ_i|², and group norms include the cross terms (≠ Σ_i |g_i|²)', () => {
    const { probe, dispose } = makeProbe('direct', n);
    const c = probe.components.policy!;
    const fast = fastGradStats(c, singleSampleGroups(n));
    for (const i of [0, 7, 31]) {
      const direct = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => c.subset(Int32Array.of(i)), [...c.variables]);
        return Object.values(grads).reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0);
      });
      assertClose([fast.total.sumSq[i]!], [direct], `|g_${i}|²`);
    }
    const segments = groupsFromIds(probe.segments);
    const grouped = fastGradStats(c, segments);
    const naive = new Float64Array(segments.count);
    segments.ids.forEach((k, i) => (naive[k]! += fast.total.sumSq[i]!));
    for (let k = 0; k < segments.count; k++) {
      assert.ok(Math.abs(grouped.total.sumSq[k]! - naive[k]!) > 1e-3 * naive[k]!, 'a group norm is not the sum of its samples’ norms');
    }
    dispose();
  });

  it('preconditioned statistics (diagonal P) agree between the fast path and autodiff', () => {
    const { probe, gaussian, preconditioner, dispose } = makeProbe('preconditioned', n);
    for (const [name, c] of [['policy', probe.components.policy!], ['total', probe.components.total!], ['gaussian', gaussian]] as const) {
      for (const [grouping, groups] of groupings(probe)) {
        const fast = fastGradStats(c, groups, { preconditioner });
        const slow = fallbackGradStats(c, groups, { preconditioner });
        assert.ok(fast.preconditioned && slow.preconditioned, 'fast.preconditioned && slow.preconditioned');
        assertSameStats(fast.preconditioned, slow.preconditioned, `${name}/${grouping} (P)`);
        assertSameStats(fast.total, slow.total, `${name}/${grouping} (plain, alongside P)`);
      }
      assertClose([fastGradStats(c, singleSampleGroups(n), { preconditioner }).preconditioned!.totalSq], [ordinaryTotalSq(c, n, preconditioner)], `${name}: |P∘U|²`);
    }
    // No preconditioner available yet (e.g. before the optimizer's first step): no preconditioned stats.
    assert.equal(fastGradStats(probe.components.policy!, singleSampleGroups(n), { preconditioner: () => null }).preconditioned, null);
    dispose();
  });

  it('per-layer breakdown: same labels and values on both paths, summing to the total', () => {
    const { probe, dispose } = makeProbe('layers', n);
    const c = probe.components.total!;
    const groups = groupsFromIds(probe.episodes);
    const fast = fastGradStats(c, groups, { perLayer: true });
    const slow = fallbackGradStats(c, groups, { perLayer: true });
    assert.deepEqual(fast.layers.map((l) => l.label), ['layer0', 'layer1', 'layer2', 'layer3']);
    assert.deepEqual(slow.layers.map((l) => l.label), ['layer0', 'layer1', 'layer2', 'layer3']);
    fast.layers.forEach((l, i) => assertSameStats(l.stats, slow.layers[i]!.stats, l.label));
    const summed = fast.layers.reduce((s, l) => s + l.stats.totalSq, 0);
    assertClose([summed], [fast.total.totalSq], 'Σ layers');
    dispose();
  });

  it('refuses the fast path when a variable is not a tapped layer, and verify catches a broken tap', () => {
    const { probe, data, policy, dispose } = makeProbe('unsupported', n);
    const extra = tf.variable(tf.scalar(0.5), true, `test${variableCount++}/extra`);
    const c = probe.components.policy!;
    const withExtra: NoiseProbeComponent = { ...c, tapped: c.tapped, subset: c.subset, tapShapes: c.tapShapes, variables: [...c.variables, extra] };
    assert.throws(() => fastGradStats(withExtra, singleSampleGroups(n)), FastPathUnsupportedError);
    // A probe that adds the tap after the activation breaks δ = ∂loss/∂(pre-activation).
    const broken: NoiseProbeComponent = {
      ...c,
      tapped(taps) {
        const inputs: tf.Tensor2D[] = [data.obs];
        const h = tf.add(tf.tanh(tf.add(tf.matMul(data.obs, policy[0]!.kernel!), policy[0]!.bias)), taps[0]!) as tf.Tensor2D;
        inputs.push(h);
        const logits = tf.add(tf.add(tf.matMul(h, policy[1]!.kernel!), policy[1]!.bias), taps[1]!) as tf.Tensor2D;
        const logp = tf.logSoftmax(logits);
        const taken = tf.sum(tf.mul(logp, tf.oneHot(data.actions, 2)), 1);
        return { loss: tf.neg(tf.mean(tf.mul(data.advantages, taken))) as tf.Scalar, inputs };
      },
    };
    assert.ok(fastGradStats(broken, singleSampleGroups(n), { verify: true }).verifyError! > 1e-2, 'fastGradStats(broken, singleSampleGroups(n), { verify: true }).verifyError! > 1e-2');
    extra.dispose();
    dispose();
  });
});

describe('NoiseMonitor', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  const n = 40;

  it('rows carry the noise.csv columns in order, one per component, every `every` updates', () => {
    const { probe, dispose } = makeProbe('rows', n);
    const monitor = new NoiseMonitor(monitorSection.parse({ every: 2, grouping: 'segment' }));
    const first = monitor.measure(probe, { update: 1, envSteps: n });
    assert.deepEqual(first.map((r) => r.component), ['policy', 'value', 'total']);
    for (const row of first) {
      assert.deepEqual(Object.keys(row), [...NOISE_COLUMNS]);
      assert.equal(row.b_big, n);
      assert.equal(row.n_groups, 4);
      assert.equal(row.b_small, n / 4);
      assert.equal(row.grouping, 'segment');
      assert.equal(row.method, 'fast');
      assert.equal(row.layer, 'all');
      assert.ok(Number.isFinite(row.grad_sq) && Number.isFinite(row.trace_sigma) && row.trace_sigma > 0, 'Number.isFinite(row.grad_sq) && Number.isFinite(row.trace_sigma) && row.trace_sigma > 0');
      // The first EMA value is the first measurement.
      assert.ok(Math.abs(row.grad_sq_ema - row.grad_sq) <= 1e-12 * Math.abs(row.trace_sigma), 'Math.abs(row.grad_sq_ema - row.grad_sq) <= 1e-12 * Math.abs(row.trace_sigma)');
      assert.ok(Number.isNaN(row.pre_b_simple), 'Number.isNaN(row.pre_b_simple)');
    }
    assert.equal(monitor.shouldMeasure(2), false);
    assert.deepEqual(monitor.measure(probe, { update: 2, envSteps: 2 * n }), []);
    assert.equal(monitor.measure(probe, { update: 3, envSteps: 3 * n }).length, 3);
    assert.equal(monitor.summary().components.policy!.measurements, 2);
    dispose();
  });

  it('fast and fallback monitors report the same figures; preconditioned and per-layer rows appear when asked', () => {
    const { probe, dispose } = makeProbe('methods', n);
    const settings = { grouping: 'episode', every: 1, perLayer: true, preconditioned: true } as const;
    const fast = new NoiseMonitor(monitorSection.parse({ ...settings, method: 'fast' }));
    const slow = new NoiseMonitor(monitorSection.parse({ ...settings, method: 'fallback' }));
    for (let update = 1; update <= 3; update++) {
      const a = fast.measure(probe, { update, envSteps: update * n });
      const b = slow.measure(probe, { update, envSteps: update * n });
      a.forEach((row, i) => {
        const other = b[i]!;
        assert.equal(other.method, 'fallback');
        for (const key of ['grad_sq', 'trace_sigma', 'grad_sq_ema', 'pre_grad_sq', 'pre_trace_sigma'] as const) {
          assertClose([row[key]], [other[key]], `${row.component}.${key}`, 1e-3);
        }
        assert.ok(Number.isFinite(row.pre_trace_sigma), 'Number.isFinite(row.pre_trace_sigma)');
      });
      assert.deepEqual(
        fast.layerRows.filter((r) => r.component === 'total').map((r) => r.layer),
        ['layer0', 'layer1', 'layer2', 'layer3'],
      );
    }
    dispose();
  });

  it('falls back with a warning when the probe does not fit the fast path', () => {
    const { probe, dispose } = makeProbe('warn', n);
    const extra = tf.variable(tf.zeros([3]), true, `test${variableCount++}/extra`);
    const c = probe.components.value!;
    const odd: NoiseProbe = { ...probe, components: { value: { ...c, tapped: c.tapped, subset: c.subset, tapShapes: c.tapShapes, variables: [...c.variables, extra] } } };
    const warnings: string[] = [];
    const monitor = new NoiseMonitor(monitorSection.parse({ grouping: 'segment' }), { onWarning: (m) => warnings.push(m) });
    const rows = monitor.measure(odd, { update: 1, envSteps: n });
    assert.equal(rows[0]!.method, 'fallback');
    const fastPath = warnings.filter((w) => /fallback/.test(w));
    assert.equal(fastPath.length, 1);
    assert.match(fastPath[0]!, /value: .*extra/);
    extra.dispose();
    dispose();
  });

  it('throws DivergedError on a non-finite gradient', () => {
    const { probe, dispose } = makeProbe('nan', n);
    const c = probe.components.policy!;
    const nanProbe: NoiseProbe = {
      ...probe,
      components: {
        policy: {
          ...c,
          tapped: (taps) => {
            const out = c.tapped(taps);
            return { loss: tf.mul(out.loss, NaN) as tf.Scalar, inputs: out.inputs };
          },
          subset: (rows) => tf.mul(c.subset(rows), NaN) as tf.Scalar,
        },
      },
    };
    for (const method of ['fast', 'fallback'] as const) {
      assert.throws(() => new NoiseMonitor(monitorSection.parse({ method })).measure(nanProbe, { update: 7, envSteps: n }), DivergedError);
    }
    dispose();
  });

  it('keeps tf.memory flat across many measurements (fast, fallback, preconditioned, per-layer)', () => {
    const { probe, dispose } = makeProbe('memory', n);
    const monitors = [
      new NoiseMonitor(monitorSection.parse({ every: 1, perLayer: true, preconditioned: true })),
      new NoiseMonitor(monitorSection.parse({ every: 1, grouping: 'episode', preconditioned: true })),
      new NoiseMonitor(monitorSection.parse({ every: 1, grouping: 'microbatch', method: 'fallback', perLayer: true })),
    ];
    const measureAll = (update: number) => monitors.forEach((m) => m.measure(probe, { update, envSteps: update * n }));
    measureAll(1);
    const before = tf.memory().numTensors;
    for (let update = 2; update <= 25; update++) measureAll(update);
    assert.equal(tf.memory().numTensors, before);
    const summary = monitors[0]!.summary();
    assert.equal(summary.components.policy!.measurements, 25);
    assert.ok(['resolved', 'unresolved'].includes(summary.components.policy!.status));
    assert.ok(summary.components.total!.preconditioned, 'summary.components.total!.preconditioned');
    dispose();
  });
});

describe('NoiseMonitor summary on a known noise scale', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('recovers B_simple of a linear model with Gaussian noise: start/end windows, run mean, final', () => {
    // ℓ_i = ½|W x_i + b − y_i|², y = W* x + b* + noise: at W = W*, b = b* the gradient mean is 0, so shift b to get
    // a known G. Per-sample gradient of b: (b − b*) − ε_i ⇒ |G_b|² = |b − b*|², Σ_b = σ²I. W's gradient
    // (b − b* − ε_i) x_iᵀ adds tr(Σ_W) = σ²·E|x|² and |G_W|² = 0 (x has mean 0). Hence
    // B_simple = σ²(1 + E|x|²)·out / |b − b*|².
    const rng = new Rng('linear');
    const inSize = 2;
    const outSize = 2;
    const sigma = 1;
    const shift = 0.25;
    const trueB = (sigma ** 2 * (1 + inSize) * outSize) / (outSize * shift ** 2);
    const kernel = tf.variable(tf.zeros([inSize, outSize]), true, `test${variableCount++}/kernel`);
    const bias = tf.variable(tf.fill([outSize], shift), true, `test${variableCount++}/bias`);
    const monitor = new NoiseMonitor(monitorSection.parse({ every: 1, emaHorizon: 30 * 64, windowSteps: 20 * 64 }));
    const n = 64;
    for (let update = 1; update <= 120; update++) {
      const x = tf.tensor2d(Float32Array.from({ length: n * inSize }, () => rng.normal()), [n, inSize]);
      const y = tf.tensor2d(Float32Array.from({ length: n * outSize }, () => sigma * rng.normal()), [n, outSize]);
      const perSample = (xs: tf.Tensor2D, ys: tf.Tensor2D, tap?: tf.Tensor2D) => {
        let z = tf.add(tf.matMul(xs, kernel), bias) as tf.Tensor2D;
        if (tap) z = tf.add(z, tap);
        return tf.mul(0.5, tf.sum(tf.square(tf.sub(z, ys)), 1));
      };
      const c: NoiseProbeComponent = {
        tapShapes: [[n, outSize]],
        tapped: (taps) => ({ loss: tf.mean(perSample(x, y, taps[0]!)) as tf.Scalar, inputs: [x] }),
        subset: (rows) => {
          const idx = tf.tensor1d(rows, 'int32');
          return tf.mean(perSample(tf.gather(x, idx) as tf.Tensor2D, tf.gather(y, idx) as tf.Tensor2D)) as tf.Scalar;
        },
        variables: [kernel, bias],
      };
      monitor.measure({ n, segments: new Int32Array(n), episodes: new Int32Array(n), components: { policy: c } }, { update, envSteps: update * n });
      x.dispose();
      y.dispose();
    }
    const s = monitor.summary().components.policy!;
    assert.equal(s.status, 'resolved');
    for (const [label, fig] of [['mean', s.mean], ['final', s.final], ['end', s.windows.end], ['q2', s.windows.q2]] as const) {
      assert.ok(fig.lo <= trueB && trueB <= fig.hi, `${label}: true ${trueB} outside [${fig.lo}, ${fig.hi}] (B ${fig.bSimple})`);
    }
    assert.ok(Math.abs(s.mean.bSimple / trueB - 1) < 0.15, `run mean ${s.mean.bSimple} vs ${trueB}`);
    assert.equal(s.quarters.length, 4);
    assert.equal(s.windows.start.measurements, 20);
    // A stationary process: growth (last / first quarter) near 1, its conservative bound below it.
    assert.ok(s.growth > 0.6 && s.growth < 1.6, `growth ${s.growth}`);
    assert.ok(s.growthLo <= s.growth && s.growthLo > 0.2, `growthLo ${s.growthLo}`);
    kernel.dispose();
    bias.dispose();
  });
});
