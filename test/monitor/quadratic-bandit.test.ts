/**
 * B_simple AND B_noise against closed forms on QuadraticBandit-v0, through `gradnoise train`'s code path (`train()`:
 * config → env → agent → monitor → run folder), with a FROZEN Gaussian policy (REINFORCE, lr 0, no baseline, raw
 * rewards, no entropy term, no clipping).
 *
 * ## Closed form
 * The policy net has no hidden layer: μ = W·x + b with x = [1] (W is [1, d]) and a state-independent log-std ρ, so
 * θ = (W, b, ρ), μ = W + b, σ = e^ρ. One sample: a = μ + σ∘z, z ~ N(0, I), reward r = −Σ_k c_k y_k² + s·ξ with
 * y = a − target = e + σ∘z, e = μ − target, s = noiseStd, ξ ~ N(0, 1). The per-sample loss is ℓ = −r·log π(a), with
 *     ∂ℓ/∂μ_j = −r z_j/σ_j = ∂ℓ/∂W_j = ∂ℓ/∂b_j,     ∂ℓ/∂ρ_j = −r (z_j² − 1).
 * The objective is the expected loss −J(θ) = Σ_j c_j (e_j² + σ_j²) (Gaussian moments; E[ℓ-gradient] = ∇(−J) by the
 * score identity), so
 *     G:  G_W = G_b = 2c∘e,  G_ρ = 2c∘σ²;
 *     H = ∇²(−J): per dimension the (W_j, b_j) block 2c_j·[[1, 1], [1, 1]] and ∂²/∂ρ_j² = 4c_jσ_j², nothing else;
 *     Σ: Var(∂ℓ/∂μ_j) = E[r² z_j²]/σ_j² − (2c_je_j)²,  Var(∂ℓ/∂ρ_j) = E[r² (z_j² − 1)²] − (2c_jσ_j²)²,
 * hence |G|² = Σ_j 2(2c_je_j)² + (2c_jσ_j²)², tr(Σ) = Σ_j 2Var(∂ℓ/∂μ_j) + Var(∂ℓ/∂ρ_j),
 *     GᵀHG = Σ_j 32 c_j³e_j² + 16 c_j³σ_j⁶,     tr(HΣ) = Σ_j 8 c_j Var(∂ℓ/∂μ_j) + 4 c_jσ_j² Var(∂ℓ/∂ρ_j)
 * (only the diagonal blocks of Σ meet H; Cov(∂ℓ/∂W_j, ∂ℓ/∂b_j) = Var(∂ℓ/∂μ_j)). The expectations E[r² f(z_j)] follow
 * from independence across dimensions and the moments E[y^p z^q] = Σ_i C(p, i) e^{p−i} σ^i E[z^{i+q}] (`moment`).
 * The monitor's curvature loss is −r·π_θ(a)/π_θ₀(a), whose expectation under the behaviour policy is exactly −J(θ):
 * its expected Hessian is H above.
 *
 * Each case checks that the run-mean figures' intervals cover the closed form, that the point values are close, and
 * that a value twice or half as large would have been rejected (the comparison can fail).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createAgent } from '../../agents/index.js';
import type { ReinforceAgent } from '../../agents/reinforce.js';
import { quadraticCurvatures } from '../../envs/bandits/quadratic-bandit.js';
import { configSchema, type RunConfig } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import type { NoiseFigure } from '../../src/monitor/monitor.js';
import { makeEnv } from '../../src/run/registry.js';
import { train } from '../../src/run/trainer.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-quadratic-'));
before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Case {
  readonly label: string;
  readonly dims: number;
  readonly curvatureRatio: number;
  readonly target: number;
  readonly noiseStd: number;
  readonly logStdInit: number;
  readonly policyGain: number;
  readonly updates: number;
}

function caseConfig(c: Case): RunConfig {
  return configSchema.parse({
    env: { id: 'QuadraticBandit-v0', numEnvs: 8, params: { dims: c.dims, curvatureRatio: c.curvatureRatio, target: c.target, noiseStd: c.noiseStd } },
    agent: {
      algo: 'reinforce',
      lr: 0,
      numSteps: 64,
      baseline: 'none',
      normAdv: false,
      entCoef: 0,
      maxGradNorm: 0,
      network: { hidden: [], policyGain: c.policyGain, logStdInit: c.logStdInit },
    },
    monitor: { every: 1, bNoise: true, bNoiseEvery: 1, confidence: 0.99 },
    run: { seed: 1, totalSteps: c.updates * 8 * 64, backend: 'wasm' },
  });
}

/** E[z^k] for z ~ N(0, 1). */
function normalMoment(k: number): number {
  if (k % 2 === 1) return 0;
  let m = 1;
  for (let i = k - 1; i > 1; i -= 2) m *= i;
  return m;
}

/** E[y^p z^q] for y = e + σz. */
function moment(e: number, sigma: number, p: number, q: number): number {
  let total = 0;
  let binom = 1;
  for (let i = 0; i <= p; i++) {
    total += binom * e ** (p - i) * sigma ** i * normalMoment(i + q);
    binom = (binom * (p - i)) / (i + 1);
  }
  return total;
}

interface ClosedForm {
  readonly gradSq: number;
  readonly traceSigma: number;
  readonly gHg: number;
  readonly traceHSigma: number;
}

/** The header's closed form at mean μ and std σ. `f` is a polynomial in z (coefficients by power). */
function closedForm(mu: readonly number[], sigma: readonly number[], c: Case): ClosedForm {
  const d = c.dims;
  const curv = quadraticCurvatures(c);
  const e = mu.map((m) => m - c.target);
  // E[r² f(z_j)] = E[Q² f(z_j)] + s² E[f(z_j)], Q = Σ_k c_k y_k², by pairs (k, l) and independence.
  const expectRSq = (j: number, f: readonly number[]) => {
    const ef = (p: number, k: number) => f.reduce((s, coef, q) => s + coef * moment(e[k]!, sigma[k]!, p, q), 0);
    const y2 = (k: number) => moment(e[k]!, sigma[k]!, 2, 0);
    const y4 = (k: number) => moment(e[k]!, sigma[k]!, 4, 0);
    const fj = f.reduce((s, coef, q) => s + coef * normalMoment(q), 0);
    let total = c.noiseStd ** 2 * fj;
    for (let k = 0; k < d; k++) {
      for (let l = 0; l < d; l++) {
        const ckl = curv[k]! * curv[l]!;
        if (k === l) total += ckl * (k === j ? ef(4, j) : y4(k) * fj);
        else if (k === j) total += ckl * ef(2, j) * y2(l);
        else if (l === j) total += ckl * ef(2, j) * y2(k);
        else total += ckl * y2(k) * y2(l) * fj;
      }
    }
    return total;
  };
  let gradSq = 0;
  let traceSigma = 0;
  let gHg = 0;
  let traceHSigma = 0;
  for (let j = 0; j < d; j++) {
    const cj = curv[j]!;
    const s2 = sigma[j]! ** 2;
    const gMu = 2 * cj * e[j]!;
    const gRho = 2 * cj * s2;
    const varMu = expectRSq(j, [0, 0, 1]) / s2 - gMu ** 2;
    const varRho = expectRSq(j, [1, 0, -2, 0, 1]) - gRho ** 2;
    gradSq += 2 * gMu ** 2 + gRho ** 2;
    traceSigma += 2 * varMu + varRho;
    gHg += 32 * cj ** 3 * e[j]! ** 2 + 16 * cj ** 3 * s2 ** 3;
    traceHSigma += 8 * cj * varMu + 4 * cj * s2 * varRho;
  }
  return { gradSq, traceSigma, gHg, traceHSigma };
}

/** μ and σ of the policy `train` will start from (same config, same seeding), read from a twin agent. */
function initialPolicy(config: RunConfig): { mu: number[]; sigma: number[] } {
  const env = makeEnv(config.env.id, { numEnvs: config.env.numEnvs, params: config.env.params });
  const root = new Rng(config.run.seed);
  env.reset(root.split('env').uint32());
  const agent = createAgent(config.agent, env, root.split('agent')) as ReinforceAgent;
  try {
    const net = agent.net;
    const head = net.layers[net.policyLayers[0]!]!;
    const w = head.weight!.dataSync();
    const b = head.bias.dataSync();
    const logStd = net.layers[net.logStdLayer]!.bias.dataSync();
    return { mu: Array.from(b, (v, j) => v + w[j]!), sigma: Array.from(logStd, (v) => Math.exp(v)) };
  } finally {
    agent.dispose();
  }
}

/** Interval covers the truth, point within `tolerance`, and `factor`× or 1/`factor`× the truth would be rejected. */
function assertCovers(label: string, fig: NoiseFigure, truth: number, tolerance: number, factor: number): void {
  assert.ok(fig.resolved, `${label}: the run mean must be resolved`);
  assert.ok(fig.lo <= truth && truth <= fig.hi, `${label}: ${truth} outside [${fig.lo}, ${fig.hi}] (point ${fig.bSimple})`);
  assert.ok(Math.abs(fig.bSimple / truth - 1) <= tolerance, `${label}: point ${fig.bSimple} vs ${truth}`);
  assert.ok(!(fig.lo <= factor * truth && factor * truth <= fig.hi) && !(fig.lo <= truth / factor && truth / factor <= fig.hi), `${label}: [${fig.lo}, ${fig.hi}] cannot tell ${factor}× or 1/${factor}× apart`);
}

const CASES: readonly Case[] = [
  { label: 'd=4 ratio 10 target 1 noise 0', dims: 4, curvatureRatio: 10, target: 1, noiseStd: 0, logStdInit: 0, policyGain: 1, updates: 100 },
  { label: 'd=2 ratio 100 target 0.5 noise 2 σ=0.5', dims: 2, curvatureRatio: 100, target: 0.5, noiseStd: 2, logStdInit: Math.log(0.5), policyGain: 1, updates: 60 },
  { label: 'd=3 ratio 3 target 2 noise 1 σ=1', dims: 3, curvatureRatio: 3, target: 2, noiseStd: 1, logStdInit: 0, policyGain: 1, updates: 100 },
];

describe('noise monitor: B_simple and B_noise on QuadraticBandit-v0 through train() (frozen Gaussian policy)', () => {
  for (const c of CASES) {
    it(`${c.label}: run-mean B_simple and B_noise cover the closed form`, async () => {
      const config = caseConfig(c);
      const { mu, sigma } = initialPolicy(config);
      const truth = closedForm(mu, sigma, c);
      const summary = await train(config, { runDir: path.join(tmp, c.label.replace(/[^a-z0-9]+/gi, '_')) });
      assert.equal(summary.status, 'completed', summary.error);
      const policy = summary.noise!.components.policy!;
      assert.deepEqual(summary.noise!.warnings.filter((w) => !/groups \(< 16\)/.test(w)), []);
      const bSimple = truth.traceSigma / truth.gradSq;
      const bNoise = truth.traceHSigma / truth.gHg;
      if (process.env.GRADNOISE_VERBOSE) {
        const m = policy.mean;
        const bn = policy.bNoise!.mean;
        console.log(`${c.label}: B_simple true ${bSimple.toFixed(2)} measured ${m.bSimple.toFixed(2)} [${m.lo.toFixed(2)}, ${m.hi.toFixed(2)}]; B_noise true ${bNoise.toFixed(2)} measured ${bn.bSimple.toFixed(2)} [${bn.lo.toFixed(2)}, ${bn.hi.toFixed(2)}]; tr(HΣ) ${bn.traceSigma.toPrecision(4)}/${truth.traceHSigma.toPrecision(4)} GᵀHG ${bn.gradSq.toPrecision(4)}/${truth.gHg.toPrecision(4)}`);
      }
      // The closed forms differ from each other (H is not ∝ I), so matching both is not one check twice.
      assert.ok(Math.abs(bNoise / bSimple - 1) > 0.1, `B_noise ${bNoise} and B_simple ${bSimple} should differ here`);
      assertCovers(`${c.label} B_simple`, policy.mean, bSimple, 0.2, 2);
      // B_noise is less precise: the curvature itself is estimated from half a batch (the surrogate's per-sample
      // Hessian −r·(∇log π ∇log πᵀ + ∇²log π) is very noisy), and the interval says so (about ×/÷ 2 here).
      assertCovers(`${c.label} B_noise`, policy.bNoise!.mean, bNoise, 0.25, 3);
      // Its parts share the curvature's noise, so each alone is looser than their ratio.
      assert.ok(Math.abs(policy.bNoise!.mean.gradSq / truth.gHg - 1) < 0.35, `GᵀHG ${policy.bNoise!.mean.gradSq} vs ${truth.gHg}`);
      assert.ok(Math.abs(policy.bNoise!.mean.traceSigma / truth.traceHSigma - 1) < 0.35, `tr(HΣ) ${policy.bNoise!.mean.traceSigma} vs ${truth.traceHSigma}`);
    });
  }
});
