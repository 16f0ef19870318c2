import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimateNoise,
  fiellerInterval,
  noiseScale,
  NoiseSmoother,
  NoiseWindow,
  normalQuantile,
  poolMoments,
  tQuantile,
  twoBatchEstimate,
  type GroupStats,
  type NoiseEstimate,
} from '../../src/monitor/estimator.js';
import { Rng } from '../../src/core/rng.js';

/**
 * Synthetic per-sample gradients g = G + L z (z standard normal), so E g = G and Cov g = Σ = L Lᵀ, with known
 * |G|² and tr(Σ). `measure` draws one rollout of n samples split into groups of the given sizes and returns the
 * monitor's input statistics.
 */
class GradientModel {
  readonly dim: number;
  readonly gradSq: number;
  readonly traceSigma: number;
  private readonly g: Float64Array;
  private readonly l: Float64Array;

  constructor(dim: number, gradSq: number, traceSigma: number, rng: Rng) {
    this.dim = dim;
    this.g = new Float64Array(dim);
    if (gradSq > 0) {
      for (let a = 0; a < dim; a++) this.g[a] = rng.normal();
      const scale = Math.sqrt(gradSq / this.g.reduce((s, v) => s + v * v, 0));
      for (let a = 0; a < dim; a++) this.g[a]! *= scale;
    }
    // A full covariance with unequal eigenvalues: L lower-triangular with random entries, rescaled to the trace.
    this.l = new Float64Array(dim * dim);
    for (let a = 0; a < dim; a++) for (let b = 0; b <= a; b++) this.l[a * dim + b] = rng.normal() * (b === a ? 2 : 1);
    const trace = this.l.reduce((s, v) => s + v * v, 0);
    for (let i = 0; i < this.l.length; i++) this.l[i]! *= Math.sqrt(traceSigma / trace);
    this.gradSq = this.g.reduce((s, v) => s + v * v, 0);
    this.traceSigma = this.l.reduce((s, v) => s + v * v, 0);
  }

  get bSimple(): number {
    return this.traceSigma / this.gradSq;
  }

  /** GᵀΣG and tr(Σ²), which fix the variance of the |G|² estimate. */
  moments(): { gSigmaG: number; traceSigmaSq: number } {
    const d = this.dim;
    const sigma = new Float64Array(d * d);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) for (let c = 0; c < d; c++) sigma[a * d + b]! += this.l[a * d + c]! * this.l[b * d + c]!;
    let gSigmaG = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) gSigmaG += this.g[a]! * sigma[a * d + b]! * this.g[b]!;
    return { gSigmaG, traceSigmaSq: sigma.reduce((s, v) => s + v * v, 0) };
  }

  measure(sizes: readonly number[], rng: Rng): GroupStats {
    const d = this.dim;
    const sums = new Float64Array(sizes.length * d);
    const z = new Float64Array(d);
    sizes.forEach((m, k) => {
      for (let i = 0; i < m; i++) {
        for (let b = 0; b < d; b++) z[b] = rng.normal();
        for (let a = 0; a < d; a++) {
          let v = this.g[a]!;
          for (let b = 0; b <= a; b++) v += this.l[a * d + b]! * z[b]!;
          sums[k * d + a]! += v;
        }
      }
    });
    const total = new Float64Array(d);
    for (let k = 0; k < sizes.length; k++) for (let a = 0; a < d; a++) total[a]! += sums[k * d + a]!;
    const sumSq = new Float64Array(sizes.length);
    const sumDot = new Float64Array(sizes.length);
    let totalSq = 0;
    for (let a = 0; a < d; a++) totalSq += total[a]! * total[a]!;
    for (let k = 0; k < sizes.length; k++) {
      for (let a = 0; a < d; a++) {
        sumSq[k]! += sums[k * d + a]! ** 2;
        sumDot[k]! += sums[k * d + a]! * total[a]!;
      }
    }
    return { sizes: Float64Array.from(sizes), sumSq, sumDot, totalSq };
  }
}

const perSample = (n: number) => Array.from({ length: n }, () => 1);
const meanOf = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sdOf = (xs: readonly number[]) => {
  const m = meanOf(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

/** Mean of the estimates within `k` standard errors of the truth. */
function assertUnbiased(estimates: readonly number[], truth: number, label: string, k = 4): void {
  const mean = meanOf(estimates);
  const se = sdOf(estimates) / Math.sqrt(estimates.length);
  assert.ok(Math.abs(mean - truth) < k * se, `${label}: mean ${mean.toFixed(4)} vs true ${truth.toFixed(4)} (SE ${se.toFixed(4)})`);
}

describe('estimateNoise (two-batch estimator, App. A.1)', () => {
  it('is unbiased for |G|² and tr(Σ) with per-sample groups, in the RL regime where single estimates are often negative', () => {
    const rng = new Rng('unbiased-sample');
    const model = new GradientModel(12, 1, 150, rng);
    const estimates = Array.from({ length: 3000 }, () => estimateNoise(model.measure(perSample(32), rng)));
    assertUnbiased(estimates.map((e) => e.gradSq), model.gradSq, '|G|²');
    assertUnbiased(estimates.map((e) => e.traceSigma), model.traceSigma, 'tr(Σ)');
    // B_simple = 150 ≫ n = 32: a good share of single-measurement |G|² estimates are negative, as docs/science.md warns.
    assert.ok(estimates.filter((e) => e.gradSq <= 0).length > 300, 'estimates.filter((e) => e.gradSq <= 0).length > 300');
    assert.equal(estimates[0]!.bSmall, 1);
    assert.equal(estimates[0]!.n, 32);
  });

  it('gives the same expectations with groups (B_small > 1), equal or unequal in size', () => {
    const rng = new Rng('unbiased-groups');
    const model = new GradientModel(8, 2, 40, rng);
    for (const sizes of [
      [4, 4, 4, 4, 4, 4, 4, 4],
      [1, 2, 3, 5, 8, 13, 1, 7],
    ]) {
      const estimates = Array.from({ length: 4000 }, () => estimateNoise(model.measure(sizes, rng)));
      assertUnbiased(estimates.map((e) => e.gradSq), model.gradSq, `|G|² groups ${sizes}`);
      assertUnbiased(estimates.map((e) => e.traceSigma), model.traceSigma, `tr(Σ) groups ${sizes}`);
      assert.equal(estimates[0]!.bSmall, sizes.reduce((s, m) => s + m, 0) / sizes.length);
    }
  });

  it('matches the paper formula for equal groups and the per-sample formulas of docs/science.md', () => {
    const rng = new Rng('formula');
    const model = new GradientModel(5, 1, 10, rng);
    const m = 4;
    const stats = model.measure([m, m, m, m, m, m], rng);
    const n = 24;
    const smallSq = meanOf(Array.from(stats.sumSq, (q) => q / (m * m)));
    const paper = twoBatchEstimate(m, n, smallSq, stats.totalSq / (n * n));
    const ours = estimateNoise(stats);
    assert.ok(Math.abs(ours.gradSq - paper.gradSq) < 1e-9 * Math.abs(paper.traceSigma), 'Math.abs(ours.gradSq - paper.gradSq) < 1e-9 * Math.abs(paper.traceSigma)');
    assert.ok(Math.abs(ours.traceSigma - paper.traceSigma) < 1e-9 * Math.abs(paper.traceSigma), 'Math.abs(ours.traceSigma - paper.traceSigma) < 1e-9 * Math.abs(paper.traceSigma)');

    const single = model.measure(perSample(10), rng);
    const meanSq = meanOf(Array.from(single.sumSq));
    const bigSq = single.totalSq / 100;
    const est = estimateNoise(single);
    assert.ok(Math.abs(est.traceSigma - (10 / 9) * (meanSq - bigSq)) < 1e-9 * meanSq, 'Math.abs(est.traceSigma - (10 / 9) * (meanSq - bigSq)) < 1e-9 * meanSq');
    assert.ok(Math.abs(est.gradSq - (10 * bigSq - meanSq) / 9) < 1e-9 * meanSq, 'Math.abs(est.gradSq - (10 * bigSq - meanSq) / 9) < 1e-9 * meanSq');
  });

  it('jackknife variance matches the spread of the estimates (conservative when B_simple ≫ n), and intervals cover', () => {
    const rng = new Rng('jackknife');
    // B_simple = 5 < n = 64: the linear (ζ1) term dominates and the jackknife is close to exact.
    const model = new GradientModel(10, 1, 5, rng);
    const estimates = Array.from({ length: 1500 }, () => estimateNoise(model.measure(perSample(64), rng)));
    const ratio = meanOf(estimates.map((e) => e.gradSqVar)) / sdOf(estimates.map((e) => e.gradSq)) ** 2;
    assert.ok(ratio > 0.85 && ratio < 1.3, `jackknife / empirical variance of |G|²: ${ratio}`);
    const q = tQuantile(0.975, 63);
    const covered = estimates.filter((e) => Math.abs(e.gradSq - model.gradSq) <= q * Math.sqrt(e.gradSqVar)).length / estimates.length;
    assert.ok(covered > 0.9, `coverage of the 95% |G|² interval: ${covered}`);
    const scales = estimates.map((e) => noiseScale(e, 0.95));
    const resolved = scales.filter((s) => s.resolved);
    assert.ok(resolved.length > 0.9 * scales.length, `resolved ${resolved.length}/${scales.length}`);
    const bCovered = scales.filter((s) => s.lo <= model.bSimple && model.bSimple <= s.hi).length / scales.length;
    assert.ok(bCovered > 0.9, `coverage of the 95% B_simple interval: ${bCovered}`);
    const invCovered = scales.filter((s) => s.inverseLo <= 1 / model.bSimple && 1 / model.bSimple <= s.inverseHi).length / scales.length;
    assert.ok(invCovered > 0.9, `coverage of the 95% |G|²/tr(Σ) interval: ${invCovered}`);

    // Exact check of the jackknife against theory. |G|² is a degree-2 U-statistic with ζ1 = GᵀΣG and residual
    // variance δ2 = tr(Σ²): Var = 4ζ1/n + 2δ2/(n(n−1)), while E[jackknife] = 4ζ1/n + 4δ2/(n(n−2)) — conservative,
    // by up to 2× when B_simple ≫ n (δ2 dominates). Check both, in that regime.
    const noisy = new GradientModel(10, 1, 100, rng);
    const n = 64;
    const noisyEstimates = Array.from({ length: 3000 }, () => estimateNoise(noisy.measure(perSample(n), rng)));
    const { gSigmaG, traceSigmaSq } = noisy.moments();
    const theoryVar = (4 * gSigmaG) / n + (2 * traceSigmaSq) / (n * (n - 1));
    const theoryJackknife = (4 * gSigmaG) / n + (4 * traceSigmaSq) / (n * (n - 2));
    const empiricalVar = sdOf(noisyEstimates.map((e) => e.gradSq)) ** 2;
    const jackknifeVar = meanOf(noisyEstimates.map((e) => e.gradSqVar));
    assert.ok(Math.abs(empiricalVar / theoryVar - 1) < 0.12, `Var |G|²: empirical ${empiricalVar} vs theory ${theoryVar}`);
    assert.ok(Math.abs(jackknifeVar / theoryJackknife - 1) < 0.08, `jackknife: mean ${jackknifeVar} vs theory ${theoryJackknife}`);
    assert.ok(theoryJackknife / theoryVar > 1.5, 'the test sits in the regime where the jackknife is conservative');
  });

  it('has no variance below 3 groups and no estimate below 2', () => {
    const rng = new Rng('few');
    const model = new GradientModel(3, 1, 1, rng);
    const two = estimateNoise(model.measure([3, 4], rng));
    assert.ok(Number.isFinite(two.gradSq) && Number.isNaN(two.gradSqVar), 'Number.isFinite(two.gradSq) && Number.isNaN(two.gradSqVar)');
    assert.equal(noiseScale(two, 0.95).resolved, false);
    const one = estimateNoise(model.measure([5], rng));
    assert.ok(Number.isNaN(one.gradSq), 'Number.isNaN(one.gradSq)');
  });
});

describe('smoothed and pooled B_simple', () => {
  /** One run: `count` measurements of n samples, every measurement n env steps apart; a window of 20 measurements' steps. */
  function run(model: GradientModel, rng: Rng, count: number, n: number, horizon: number) {
    const smoother = new NoiseSmoother(horizon);
    const window = new NoiseWindow(20 * n);
    const all: NoiseEstimate[] = [];
    for (let t = 1; t <= count; t++) {
      const estimate = estimateNoise(model.measure(perSample(n), rng));
      smoother.add(estimate, t * n);
      window.add(estimate, t * n);
      all.push(estimate);
    }
    assert.equal(window.moments().count, Math.min(count, 20), 'the window holds the measurements of its last 20·n env steps');
    return { ema: noiseScale(smoother.moments(), 0.95), window: noiseScale(window.moments(), 0.95), pooled: noiseScale(poolMoments(all), 0.95), all };
  }

  it('the ratio of EMAs converges to tr(Σ)/|G|² and its interval covers it in most repetitions', () => {
    const rng = new Rng('coverage');
    const model = new GradientModel(10, 1, 100, rng);
    const n = 64;
    const reps = 150;
    let covered = 0;
    let resolved = 0;
    let windowCovered = 0;
    const values: number[] = [];
    const widths: number[] = [];
    const raws: number[] = [];
    for (let r = 0; r < reps; r++) {
      const { ema, window, all } = run(model, rng, 150, n, 50 * n);
      raws.push(...all.map((e) => e.gradSq));
      if (ema.resolved) {
        resolved++;
        values.push(ema.bSimple);
        widths.push((ema.hi - ema.lo) / model.bSimple);
      }
      if (ema.lo <= model.bSimple && model.bSimple <= ema.hi) covered++;
      if (window.lo <= model.bSimple && model.bSimple <= window.hi) windowCovered++;
    }
    // Single measurements are hopeless here (B_simple = 100 > n = 64: |G|² ≤ 0 in a large share) ...
    assert.ok(raws.filter((g) => g <= 0).length > 0.2 * raws.length, 'raws.filter((g) => g <= 0).length > 0.2 * raws.length');
    // ... the smoothed figure is resolved, close to the truth, and covered by its 95% interval, which is not vacuous.
    assert.ok(resolved >= 0.95 * reps, `resolved in ${resolved}/${reps}`);
    const median = [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    assert.ok(Math.abs(median / model.bSimple - 1) < 0.1, `median smoothed B_simple ${median} vs true ${model.bSimple}`);
    assert.ok(covered >= 0.85 * reps, `EMA interval covered the truth in ${covered}/${reps}`);
    assert.ok(meanOf(widths) < 1.2, `mean relative interval width ${meanOf(widths)}`);
    assert.ok(windowCovered >= 0.85 * reps, `window interval covered the truth in ${windowCovered}/${reps}`);
  });

  it('long runs converge: the pooled ratio of means approaches the truth with a narrow interval', () => {
    const rng = new Rng('converge');
    const model = new GradientModel(10, 1, 100, rng);
    const { pooled } = run(model, rng, 2000, 64, 1e6);
    assert.ok(pooled.resolved, 'pooled.resolved');
    assert.ok(Math.abs(pooled.bSimple / model.bSimple - 1) < 0.1, `pooled ${pooled.bSimple} vs ${model.bSimple}`);
    assert.ok(pooled.lo <= model.bSimple && model.bSimple <= pooled.hi, 'pooled.lo <= model.bSimple && model.bSimple <= pooled.hi');
    assert.ok(pooled.hi / pooled.lo < 1.5, `interval [${pooled.lo}, ${pooled.hi}]`);
  });

  it('flags G = 0 as unresolved: NaN point value, a finite lower bound, hi = ∞', () => {
    const rng = new Rng('zero');
    const model = new GradientModel(10, 0, 100, rng);
    const reps = 100;
    let resolved = 0;
    for (let r = 0; r < reps; r++) {
      const { ema, window } = run(model, rng, 60, 32, 50 * 32);
      if (ema.resolved) resolved++;
      else {
        assert.ok(Number.isNaN(ema.bSimple), 'Number.isNaN(ema.bSimple)');
        assert.equal(ema.hi, Infinity);
        assert.ok(Number.isFinite(ema.lo) && ema.lo >= 0, 'Number.isFinite(ema.lo) && ema.lo >= 0');
        // The inverse |G|²/tr(Σ) stays finite, and its interval contains 0.
        assert.ok(ema.inverseLo <= 0 && ema.inverseHi >= 0 && Number.isFinite(ema.inverseHi), 'ema.inverseLo <= 0 && ema.inverseHi >= 0 && Number.isFinite(ema.inverseHi)');
      }
      if (window.resolved) resolved++;
    }
    // One-sided 2.5% false-resolution rate per figure; allow slack.
    assert.ok(resolved <= 0.1 * 2 * reps, `resolved ${resolved} of ${2 * reps} figures with G = 0`);
  });

  it('EMA weights decay as exp(−Δsteps/horizon), bias-corrected', () => {
    const horizon = 1000;
    const smoother = new NoiseSmoother(horizon);
    const steps = [100, 300, 1500, 1600];
    const values = [1, 2, 3, 4];
    steps.forEach((s, i) => smoother.add({ gradSq: values[i]!, traceSigma: 10 * values[i]!, gradSqVar: 1, traceSigmaVar: 1, covariance: 0, df: 10 }, s));
    const last = steps[steps.length - 1]!;
    const weights = steps.map((s) => Math.exp(-(last - s) / horizon));
    const wsum = weights.reduce((a, b) => a + b, 0);
    const expected = weights.reduce((a, w, i) => a + w * values[i]!, 0) / wsum;
    const m = smoother.moments();
    assert.ok(Math.abs(m.gradSq - expected) < 1e-12, 'Math.abs(m.gradSq - expected) < 1e-12');
    assert.ok(Math.abs(m.gradSqVar - weights.reduce((a, w) => a + w * w, 0) / wsum ** 2) < 1e-12, 'Math.abs(m.gradSqVar - weights.reduce((a, w) => a + w * w, 0) / wsum ** 2) < 1e-12');
    assert.ok(Math.abs(m.effectiveCount - wsum ** 2 / weights.reduce((a, w) => a + w * w, 0)) < 1e-12, 'Math.abs(m.effectiveCount - wsum ** 2 / weights.reduce((a, w) => a + w * w, 0)) < 1e-12');
    // The first value is the first measurement (no zero-initialisation bias).
    const fresh = new NoiseSmoother(horizon);
    fresh.add({ gradSq: 5, traceSigma: 50, gradSqVar: 1, traceSigmaVar: 1, covariance: 0, df: 10 }, 10);
    assert.equal(fresh.moments().gradSq, 5);
  });
});

describe('intervals and quantiles', () => {
  it('t and normal quantiles match tables', () => {
    assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5, 'Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5');
    assert.ok(Math.abs(normalQuantile(0.05) + 1.644854) < 1e-5, 'Math.abs(normalQuantile(0.05) + 1.644854) < 1e-5');
    assert.ok(Math.abs(tQuantile(0.975, 1) - 12.706) < 1e-3, 'Math.abs(tQuantile(0.975, 1) - 12.706) < 1e-3');
    assert.ok(Math.abs(tQuantile(0.975, 2) - 4.303) < 1e-3, 'Math.abs(tQuantile(0.975, 2) - 4.303) < 1e-3');
    assert.ok(Math.abs(tQuantile(0.975, 3) - 3.182) < 5e-3, 'Math.abs(tQuantile(0.975, 3) - 3.182) < 5e-3');
    assert.ok(Math.abs(tQuantile(0.975, 10) - 2.228) < 1e-3, 'Math.abs(tQuantile(0.975, 10) - 2.228) < 1e-3');
    assert.ok(Math.abs(tQuantile(0.95, 30) - 1.697) < 1e-3, 'Math.abs(tQuantile(0.95, 30) - 1.697) < 1e-3');
  });

  it("Fieller's interval is bounded exactly when the denominator is significant, and reciprocal to the inverse's", () => {
    const q = 1.96;
    const bounded = fiellerInterval(100, 1, 25, 0.04, 0.6, q, true);
    assert.ok(bounded.bounded && bounded.lo < 100 && bounded.hi > 100, 'bounded.bounded && bounded.lo < 100 && bounded.hi > 100');
    // The ends solve (num − ρ·den)² = q²·(varNum − 2ρ·cov + ρ²·varDen).
    for (const rho of [bounded.lo, bounded.hi]) {
      const lhs = (100 - rho * 1) ** 2;
      const rhs = q * q * (25 - 2 * rho * 0.6 + rho * rho * 0.04);
      assert.ok(Math.abs(lhs - rhs) < 1e-8 * lhs, `Fieller end ${rho}: ${lhs} vs ${rhs}`);
    }
    const inverse = fiellerInterval(1, 100, 0.04, 25, 0.6, q);
    assert.ok(Math.abs(inverse.lo - 1 / bounded.hi) < 1e-9 && Math.abs(inverse.hi - 1 / bounded.lo) < 1e-9, 'Math.abs(inverse.lo - 1 / bounded.hi) < 1e-9 && Math.abs(inverse.hi - 1 / bounded.lo) < 1e-9');
    // Denominator within 1.96 SE of 0: unbounded above, but B_simple is still at least lo.
    const open = fiellerInterval(100, 0.3, 25, 0.04, 0, q, true);
    assert.equal(open.bounded, false);
    assert.equal(open.hi, Infinity);
    assert.ok(open.lo > 50 && open.lo < 100 / 0.3, 'open.lo > 50 && open.lo < 100 / 0.3');
  });
});
