/**
 * Correlated rollouts with a known effective noise.
 *
 * AR(1) gradients: in each of E env segments of T steps, g_t = G + ξ_t with ξ_t = φ ξ_{t−1} + √(1 − φ²)·L z_t
 * (stationary, Cov ξ_t = Σ = LLᵀ). A batch of whole segments has Cov(ḡ) = Σ_eff/n with
 *     Σ_eff = c_T(φ)·Σ,   c_T(φ) = 1 + 2 Σ_{l=1}^{T−1} (1 − l/T) φ^l,
 * so the noise scale this batch sees is B_eff = c_T tr(Σ)/|G|². Per-sample grouping assumes independence; its
 * estimates have expectations E tr(Σ)_sample = tr(Σ)(1 − (c_T − 1)/(n − 1)) and E|G|²_sample = |G|² +
 * (c_T − 1)tr(Σ)/(n − 1) (expand E Σ|g_i|² and E|U|²), which fixes how far off it is. The monitor's default grouping
 * (blocks from the measured autocorrelation, with neighbour terms) must recover B_eff within its interval, and its
 * per-sample column must sit at the known wrong value.
 *
 * Outcome-dependent episode lengths: the estimator's ratio form against the fixed-size form on episodes whose length
 * depends on their gradients.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { monitorSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { estimateNoise, poolMoments, noiseScale, type GroupStats } from '../../src/monitor/estimator.js';
import { NoiseMonitor, type NoiseRow } from '../../src/monitor/monitor.js';
import type { NoiseProbe } from '../../src/monitor/probe.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** c_T(φ) of the header. */
function segmentFactor(phi: number, T: number): number {
  let c = 1;
  for (let l = 1; l < T; l++) c += 2 * (1 - l / T) * phi ** l;
  return c;
}

interface Ar1 {
  readonly dim: number;
  readonly phi: number;
  readonly numEnvs: number;
  readonly steps: number;
  /** Per-dimension std of the stationary noise (Σ diagonal) and the mean gradient. */
  readonly std: readonly number[];
  readonly mean: readonly number[];
}

/** One rollout of AR(1) gradients, env-major ([n, dim]); each segment starts from the stationary distribution. */
function drawAr1(model: Ar1, rng: Rng): Float32Array {
  const { dim, phi, numEnvs, steps } = model;
  const out = new Float32Array(numEnvs * steps * dim);
  const innovation = Math.sqrt(1 - phi * phi);
  const xi = new Float64Array(dim);
  for (let e = 0; e < numEnvs; e++) {
    for (let j = 0; j < dim; j++) xi[j] = model.std[j]! * rng.normal();
    for (let t = 0; t < steps; t++) {
      if (t > 0) for (let j = 0; j < dim; j++) xi[j] = phi * xi[j]! + innovation * model.std[j]! * rng.normal();
      for (let j = 0; j < dim; j++) out[(e * steps + t) * dim + j] = model.mean[j]! + xi[j]!;
    }
  }
  return out;
}

/** A probe whose per-sample gradients are given: a bias-only layer b with ℓ_i = g_i·b, so ∂ℓ_i/∂b = g_i. */
function gradientProbe(gradients: Float32Array, dim: number, numEnvs: number, bias: tf.Variable): { probe: NoiseProbe; dispose: () => void } {
  const n = gradients.length / dim;
  const g = tf.tensor2d(gradients, [n, dim]);
  const loss = (rows: tf.Tensor2D, tap?: tf.Tensor2D) => tf.mean(tf.sum(tf.mul(rows, tap ? tf.add(bias, tap) : bias), 1)) as tf.Scalar;
  const probe: NoiseProbe = {
    n,
    segments: Int32Array.from({ length: n }, (_, i) => Math.floor((i * numEnvs) / n)),
    episodes: Int32Array.from({ length: n }, (_, i) => Math.floor((i * numEnvs) / n)),
    components: {
      policy: {
        tapShapes: [[n, dim]],
        tapped: (taps) => ({ loss: loss(g, taps[0]), inputs: [tf.zeros([n, 0]) as tf.Tensor2D] }),
        subset: (rows) => loss(tf.gather(g, tf.tensor1d(rows, 'int32')) as tf.Tensor2D),
        variables: [bias],
      },
    },
    factors: () => ({ layers: [{ kernel: null, bias, input: tf.zeros([n, 0]) as tf.Tensor2D }], deltas: { policy: [g] } }),
  };
  return { probe, dispose: () => g.dispose() };
}

describe('AR(1)-correlated gradients with known Σ_eff', () => {
  for (const c of [
    // τ = (1 + φ)/(1 − φ) = 9: blocks of ≥ 18 steps, 7 per segment, 112 groups.
    { label: 'φ = 0.8, 16 envs × 128 steps', phi: 0.8, numEnvs: 16, steps: 128, updates: 60, groupsAtLeast: 16, bEff: 500 },
    // τ = 39 > segment/2: whole segments (8 groups, warned about), still unbiased for this batch.
    { label: 'φ = 0.95, 8 envs × 64 steps', phi: 0.95, numEnvs: 8, steps: 64, updates: 120, groupsAtLeast: 8, bEff: 150 },
  ]) {
    it(`${c.label}: the default grouping recovers B_eff within its interval; per-sample is off by the known factor`, () => {
      const dim = 6;
      const std = [1, 0.8, 0.6, 1.2, 0.5, 1];
      const n = c.numEnvs * c.steps;
      const trace = std.reduce((s, v) => s + v * v, 0);
      const factor = segmentFactor(c.phi, c.steps);
      // G along a fixed direction, scaled so that B_eff = c.bEff (resolvable, a fraction of the batch).
      const direction = [1, -0.8, 0.6, 0, 0.4, -0.6];
      const scale = Math.sqrt((factor * trace) / c.bEff / direction.reduce((s, v) => s + v * v, 0));
      const model: Ar1 = { dim, phi: c.phi, numEnvs: c.numEnvs, steps: c.steps, std, mean: direction.map((v) => v * scale) };
      const gradSq = model.mean.reduce((s, v) => s + v * v, 0);
      const truth = (factor * trace) / gradSq;
      const sampleExpected = (trace * (1 - (factor - 1) / (n - 1))) / (gradSq + ((factor - 1) * trace) / (n - 1));
      const bias = tf.variable(tf.zeros([dim]));
      const warnings: string[] = [];
      const monitor = new NoiseMonitor(monitorSection.parse({ every: 1, confidence: 0.99 }), { onWarning: (m) => warnings.push(m), rng: new Rng('ar1-monitor') });
      const rng = new Rng(`ar1-${c.phi}`);
      const rows: NoiseRow[] = [];
      for (let update = 1; update <= c.updates; update++) {
        const { probe, dispose } = gradientProbe(drawAr1(model, rng), dim, c.numEnvs, bias);
        rows.push(...monitor.measure(probe, { update, envSteps: update * n }));
        dispose();
      }
      bias.dispose();
      const s = monitor.summary().components.policy!;
      const last = rows[rows.length - 1]!;
      if (process.env.GRADNOISE_VERBOSE) {
        console.log(
          `${c.label}: c_T ${factor.toFixed(2)}, τ̂ ${last.autocorr_time.toFixed(2)}, blocks ${last.block_steps.toFixed(1)} steps × ${last.n_groups}; ` +
            `B_eff ${truth.toFixed(1)} measured ${s.mean.bSimple.toFixed(1)} [${s.mean.lo.toFixed(1)}, ${s.mean.hi.toFixed(1)}]; ` +
            `per-sample expected ${sampleExpected.toFixed(1)} measured ${s.perSample!.mean.bSimple.toFixed(1)} [${s.perSample!.mean.lo.toFixed(1)}, ${s.perSample!.mean.hi.toFixed(1)}]; inflation ${s.inflation!.toFixed(2)}`,
        );
      }
      // The measured autocorrelation time is that of the process, and the blocks follow it.
      const tau = (1 + c.phi) / (1 - c.phi);
      assert.ok(Math.abs(last.autocorr_time / tau - 1) < 0.3, `τ̂ ${last.autocorr_time} vs ${tau}`);
      assert.ok(last.n_groups >= c.groupsAtLeast, `${last.n_groups} groups`);
      assert.ok(last.block_steps >= Math.min(c.steps, 1.5 * tau), `blocks of ${last.block_steps} steps for τ = ${tau}`);
      assert.equal(warnings.some((w) => /groups \(< 16\)/.test(w)), last.n_groups < 16);
      // The default figure covers the truth; the per-sample one sits at its own (wrong) expectation, far below. (Its
      // interval cannot be trusted either: the per-sample jackknife assumes independent samples and is too narrow.)
      assert.ok(s.mean.resolved && s.mean.lo <= truth && truth <= s.mean.hi, `B_eff ${truth} outside [${s.mean.lo}, ${s.mean.hi}]`);
      assert.ok(Math.abs(s.mean.bSimple / truth - 1) < 0.15, `default ${s.mean.bSimple} vs ${truth}`);
      const sample = s.perSample!.mean;
      assert.ok(Math.abs(sample.bSimple / sampleExpected - 1) < 0.1, `per-sample ${sample.bSimple} vs its expectation ${sampleExpected}`);
      assert.ok(sample.hi < truth, `per-sample [${sample.lo}, ${sample.hi}] should lie below B_eff ${truth}`);
      assert.ok(Math.abs(s.inflation! / (factor / (1 - (factor - 1) / (n - 1))) - 1) < 0.15, `inflation ${s.inflation} vs c_T ${factor}`);
    });
  }
});

describe('outcome-dependent episode lengths', () => {
  /**
   * Episode k has a latent outcome o_k ~ N(0, 1) and length 2 when o_k < 0, else 10; its samples' gradients are
   * G + o_k·v + η (η ~ N(0, s²I)). The batch gradient of whole episodes estimates G_eff = E[u]/E[m] = G + (E[m o]/E[m])·v
   * and its per-sample effective noise is E|u − m G_eff|²/E[m].
   */
  it('the ratio form (randomSizes) is unbiased where the fixed-size form is not', () => {
    const rng = new Rng('episodes');
    const dim = 4;
    const G = [0.3, -0.1, 0.2, 0];
    const v = [0, 0.5, 0, 0.5];
    const s = 1;
    const h = Math.sqrt(2 / Math.PI); // E[o | o > 0]
    const meanM = 6;
    const c = (0.5 * (2 * -h + 10 * h)) / meanM;
    const gEff = G.map((g, j) => g + c * v[j]!);
    const v2 = v.reduce((a, x) => a + x * x, 0);
    const em2 = 0.5 * 4 * (1 + 2 * c * h + c * c) + 0.5 * 100 * (1 - 2 * c * h + c * c);
    const trueTrace = (em2 * v2 + meanM * dim * s * s) / meanM;
    const trueGradSq = gEff.reduce((a, x) => a + x * x, 0);
    const fixed: ReturnType<typeof estimateNoise>[] = [];
    const ratio: ReturnType<typeof estimateNoise>[] = [];
    for (let r = 0; r < 1500; r++) {
      const sums: number[][] = [];
      const sizes: number[] = [];
      for (let k = 0; k < 24; k++) {
        const o = rng.normal();
        const m = o < 0 ? 2 : 10;
        const u = G.map((g, j) => m * (g + o * v[j]!));
        for (let i = 0; i < m; i++) for (let j = 0; j < dim; j++) u[j]! += s * rng.normal();
        sums.push(u);
        sizes.push(m);
      }
      const dot = (a: readonly number[], b: readonly number[]) => a.reduce((acc, x, j) => acc + x * b[j]!, 0);
      const total = G.map((_, j) => sums.reduce((acc, u) => acc + u[j]!, 0));
      const weighted = G.map((_, j) => sums.reduce((acc, u, k) => acc + sizes[k]! * u[j]!, 0));
      const stats: GroupStats = { sizes, sumSq: sums.map((u) => dot(u, u)), sumDot: sums.map((u) => dot(u, total)), totalSq: dot(total, total) };
      fixed.push(estimateNoise(stats));
      ratio.push(estimateNoise({ ...stats, randomSizes: true, weightedDot: sums.map((u) => dot(u, weighted)) }));
    }
    const pooledRatio = poolMoments(ratio);
    const pooledFixed = poolMoments(fixed);
    const z = (est: number, truth: number, variance: number) => Math.abs(est - truth) / Math.sqrt(variance);
    if (process.env.GRADNOISE_VERBOSE) {
      console.log(`episodes: tr true ${trueTrace.toFixed(3)} ratio ${pooledRatio.traceSigma.toFixed(3)} fixed ${pooledFixed.traceSigma.toFixed(3)}; |G|² true ${trueGradSq.toFixed(4)} ratio ${pooledRatio.gradSq.toFixed(4)} fixed ${pooledFixed.gradSq.toFixed(4)}`);
    }
    assert.ok(z(pooledRatio.traceSigma, trueTrace, pooledRatio.traceSigmaVar) < 4, `ratio tr(Σ) ${pooledRatio.traceSigma} vs ${trueTrace}`);
    assert.ok(z(pooledRatio.gradSq, trueGradSq, pooledRatio.gradSqVar) < 4, `ratio |G|² ${pooledRatio.gradSq} vs ${trueGradSq}`);
    assert.ok(z(pooledFixed.traceSigma, trueTrace, pooledFixed.traceSigmaVar) > 6, `the fixed-size form should be visibly biased: tr(Σ) ${pooledFixed.traceSigma} vs ${trueTrace}`);
    // The jackknife variances are honest: the spread of single estimates matches them.
    const spread = ratio.reduce((a, e) => a + (e.traceSigma - pooledRatio.traceSigma) ** 2, 0) / (ratio.length - 1);
    const mean = ratio.reduce((a, e) => a + e.traceSigmaVar, 0) / ratio.length;
    assert.ok(mean / spread > 0.8 && mean / spread < 1.5, `jackknife ${mean} vs empirical ${spread}`);
    assert.ok(noiseScale(pooledRatio, 0.95).resolved);
  });
});
