/**
 * The noise monitor's proof that it is right: on GaussianBandit-v0 with a FROZEN policy (REINFORCE, lr 0, no
 * baseline, no advantage normalisation, no entropy term) the true |G|², tr(Σ) and B_simple = tr(Σ)/|G|² of the
 * policy gradient have a closed form, and the monitor's run-mean figure must cover it. Then two invariances (bsuite;
 * docs/science.md): scaling every reward leaves B_simple unchanged, adding reward noise raises it (to the closed form with the
 * extra variance).
 *
 * ## Closed form
 *
 * One sample i is one pull: observation x = [1] (always), action a_i ~ π, reward r_i = μ_{a_i} + σ·ε_i, ε_i ~ N(0, 1),
 * μ = banditArmMeans(params) (gap for the best arm, 0 elsewhere), σ = the reward noise std. Episodes last one step, so
 * the return is G_i = r_i, and with baseline 'none' and normAdv false the advantage is A_i = r_i. The REINFORCE loss is
 * the mean over the batch of
 *
 *     ℓ_i = −r_i · log π(a_i),   π = softmax(z),
 *
 * (entCoef 0, no value term: the probe's policy and total components are both exactly this mean). With z the K logits,
 * ∂log π(a)/∂z = e_a − π, so the gradient of ℓ_i with respect to the logits is −u_i with
 *
 *     u_i = r_i (e_{a_i} − π).
 *
 * The policy MLP maps the constant input x through its hidden layers to z. With lr 0 the parameters θ stay at their
 * initial values, and because the input never changes, the Jacobian J = ∂z/∂θ (K × P) is the SAME matrix for every
 * sample. By the chain rule the per-sample gradient with respect to all policy parameters is g_i = −Jᵀu_i, hence
 *
 *     |g_i|² = u_iᵀ M u_i,   M = J Jᵀ (K × K, symmetric PSD),
 *     G = E[g] = −Jᵀ E[u],   |G|² = E[u]ᵀ M E[u],
 *     tr(Σ) = E|g|² − |G|² = tr(M E[uuᵀ]) − E[u]ᵀ M E[u] = tr(M Cov(u)).
 *
 * The moments of u follow from a ~ π and E[r | a] = μ_a, E[r² | a] = μ_a² + σ²:
 *
 *     E[u]    = Σ_a π_a μ_a (e_a − π),
 *     E[uuᵀ]  = Σ_a π_a (μ_a² + σ²) (e_a − π)(e_a − π)ᵀ,
 *
 * and the true noise scale is B_simple = (tr(M E[uuᵀ]) − E[u]ᵀ M E[u]) / (E[u]ᵀ M E[u]).
 *
 * The factor a linear layer with a constant input adds: for a single dense layer z = xW + b (hidden: []), ∂z_k/∂W_jk
 * = x_j and ∂z_k/∂b_k = 1, so M = (|x|² + 1)·I = 2·I for x = [1]. It multiplies |G|² and tr(Σ) alike and cancels in
 * B_simple. For an MLP the policy head alone contributes (|h|² + 1)·I (h = the last hidden activation at x = [1]); the
 * hidden layers add Wᵀ_head(J_h J_hᵀ)W_head, which scales with policyGain² and is NOT ∝ I in general (a narrow relu
 * net makes it clearly anisotropic), so M is computed here from the actual weights: one backward pass per logit.
 *
 * Everything random (actions, rewards, monitor) is seeded exactly as the trainer seeds a run, so each case is
 * deterministic; the tolerances below were chosen from the interval widths the cases produce (about ±7–20%), and each
 * case also checks that the interval EXCLUDES 2× and ½× the true value, so the comparison has the power to fail.
 *
 * Backend: wasm, set explicitly (about 10× faster than cpu for these tiny nets on a 2-core machine).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createAgent } from '../../agents/index.js';
import type { ReinforceAgent, ReinforceBatch } from '../../agents/reinforce.js';
import { banditArmMeans } from '../../envs/bandits/gaussian-bandit.js';
import { configSchema, type RunConfig } from '../../src/config/schema.js';
import { NoiseMonitor, type ComponentNoiseSummary, type NoiseRow } from '../../src/monitor/monitor.js';
import type { NoiseProbeComponent } from '../../src/monitor/probe.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';
import type { WrapperConfig } from '../../src/core/wrappers.js';

before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/**
 * Confidence of the intervals that must cover the true value. The cases are deterministic, but any change to a random
 * stream redraws them all: with 10 comparisons at 0.95 a correct monitor would then fail one 40% of the time, at
 * 0.99 about one time in ten. (Offline, over 200 seeds, the run-mean 95% interval covered the closed form in
 * 95.5% of runs where B_simple < n, and more often where B_simple > n, where the jackknife is conservative.)
 */
const CONFIDENCE = 0.99;
/** Point estimate vs the true B_simple: at most this relative error (the 99% intervals are about ±7–20% wide here). */
const POINT_TOLERANCE = 0.2;
/**
 * The run-mean tr(Σ) against the true one. These checks catch a uniform mis-scaling of the per-sample gradients, which
 * B_simple cannot see. With per-sample groups tr(Σ) rests on thousands of groups (≲ 3% standard error here); with
 * micro-batches of 8 on ~500 groups its standard error is ~5% (the σ = 0 case: −12% at 30 updates, −2.5% at 400).
 */
const TRACE_TOLERANCE = { sample: 0.1, microbatch: 0.25 } as const;

interface BanditCase {
  readonly label: string;
  readonly arms: number;
  readonly gap: number;
  /** The env's own reward noise std. */
  readonly noiseStd: number;
  readonly bestArm?: number;
  readonly hidden: readonly number[];
  readonly activation?: 'tanh' | 'relu';
  readonly policyGain: number;
  readonly numEnvs: number;
  readonly numSteps: number;
  readonly updates: number;
  readonly wrappers?: readonly WrapperConfig[];
  readonly seed?: number;
  /** Monitor settings (default: grouping 'sample', method 'fast'). */
  readonly grouping?: 'sample' | 'microbatch';
  readonly microBatch?: number;
  readonly method?: 'fast' | 'fallback';
}

function banditConfig(c: BanditCase): RunConfig {
  return configSchema.parse({
    env: {
      id: 'GaussianBandit-v0',
      numEnvs: c.numEnvs,
      params: { arms: c.arms, gap: c.gap, noiseStd: c.noiseStd, bestArm: c.bestArm ?? 0 },
      wrappers: c.wrappers ?? [],
    },
    agent: {
      algo: 'reinforce',
      lr: 0,
      numSteps: c.numSteps,
      baseline: 'none',
      normAdv: false,
      entCoef: 0,
      maxGradNorm: 0,
      network: { hidden: c.hidden, activation: c.activation ?? 'tanh', policyGain: c.policyGain },
    },
    monitor: {
      enabled: true,
      every: 1,
      grouping: c.grouping ?? 'sample',
      microBatch: c.microBatch ?? 8,
      method: c.method ?? 'fast',
      confidence: CONFIDENCE,
    },
    run: { seed: c.seed ?? 1, totalSteps: c.updates * c.numEnvs * c.numSteps, backend: 'wasm' },
  });
}

/** Reward variance per pull: the env's noise plus any rewardNoise wrapper, times any rewardScale² (in wrapper order). */
function rewardModel(c: BanditCase): { means: number[]; variance: number } {
  let means = banditArmMeans({ arms: c.arms, gap: c.gap, bestArm: c.bestArm ?? 0 });
  let variance = c.noiseStd ** 2;
  for (const w of c.wrappers ?? []) {
    if (w.type === 'rewardNoise') variance += w.std ** 2;
    else if (w.type === 'rewardScale') {
      means = means.map((m) => m * w.scale);
      variance *= w.scale ** 2;
    } else throw new Error(`rewardModel: wrapper ${w.type} has no closed form here`);
  }
  return { means, variance };
}

interface ClosedForm {
  /** π at x = [1]. */
  readonly pi: number[];
  /** M = J Jᵀ, J = ∂logits/∂θ over the policy parameters. */
  readonly M: number[][];
  /** |h|² + 1 for the policy head's input h at x = [1] (h = x for hidden: []). */
  readonly headFactor: number;
  readonly gradSq: number;
  readonly traceSigma: number;
  readonly bSimple: number;
}

/** The derivation in the header, evaluated at the network's current (frozen) weights. */
function closedForm(agent: ReinforceAgent, variables: readonly tf.Variable[], means: readonly number[], variance: number): ClosedForm {
  const net = agent.net;
  const K = net.actionDim;
  const x = tf.tensor2d([[1]]);
  // J, one row per logit: ∂z_k/∂θ by autodiff over exactly the variables the monitor differentiates.
  const J: Float64Array[] = [];
  for (let k = 0; k < K; k++) {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.slice(net.forward(x, undefined, 'policy').policy!, [0, k], [1, 1])) as tf.Scalar,
      [...variables],
    );
    J.push(Float64Array.from(variables.flatMap((v) => Array.from(grads[v.name]!.dataSync()))));
    tf.dispose([value, ...Object.values(grads)]);
  }
  const { logits, head } = tf.tidy(() => {
    const out = net.forward(x, undefined, 'policy');
    const headLayer = net.policyLayers[net.policyLayers.length - 1]!;
    return { logits: Array.from(out.policy!.dataSync()), head: Array.from(out.inputs[headLayer]!.dataSync()) };
  });
  x.dispose();
  const top = Math.max(...logits);
  const e = logits.map((z) => Math.exp(z - top));
  const sum = e.reduce((a, b) => a + b, 0);
  const pi = e.map((v) => v / sum);
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  const M = J.map((a) => J.map((b) => dot(a, b)));
  const Eu = new Array<number>(K).fill(0);
  const Euu = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let a = 0; a < K; a++) {
    const d = pi.map((p, j) => (j === a ? 1 : 0) - p); // e_a − π
    for (let i = 0; i < K; i++) {
      Eu[i]! += pi[a]! * means[a]! * d[i]!;
      for (let j = 0; j < K; j++) Euu[i]![j]! += pi[a]! * (means[a]! ** 2 + variance) * d[i]! * d[j]!;
    }
  }
  let trMEuu = 0;
  let gradSq = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      trMEuu += M[i]![j]! * Euu[j]![i]!;
      gradSq += Eu[i]! * M[i]![j]! * Eu[j]!;
    }
  }
  const traceSigma = trMEuu - gradSq;
  return { pi, M, headFactor: dot(head, head) + 1, gradSq, traceSigma, bSimple: traceSigma / gradSq };
}

function snapshot(variables: readonly tf.Variable[]): Float32Array[] {
  return variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
}

function loss(component: NoiseProbeComponent): number {
  return tf.tidy(() => component.tapped(component.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D)).loss.dataSync()[0]!);
}

/**
 * The first batch and probe against what the env really did: the batch holds exactly the pulls (env-major order),
 * advantage = return = reward, and the probe's loss is exactly mean_i ℓ_i = −mean_i r_i·log π(a_i).
 */
function checkFirstBatch(
  c: BanditCase,
  batch: ReinforceBatch,
  probe: ReturnType<ReinforceAgent['noiseProbe']>,
  seen: readonly { actions: Float64Array; rewards: Float64Array }[],
  pi: readonly number[],
): void {
  const n = c.numEnvs * c.numSteps;
  assert.equal(batch.n, n, `${c.label}: every pull is a complete one-step episode`);
  assert.equal(probe.n, n);
  assert.equal(seen.length, c.numSteps);
  let expectedLoss = 0;
  for (let env = 0; env < c.numEnvs; env++) {
    for (let t = 0; t < c.numSteps; t++) {
      const i = env * c.numSteps + t;
      const action = seen[t]!.actions[env]!;
      const reward = seen[t]!.rewards[env]!;
      assert.equal(batch.samples.actions[i], action, `${c.label}: sample ${i} action`);
      assert.equal(batch.samples.returns[i], Math.fround(reward), `${c.label}: sample ${i} return = reward`);
      assert.equal(batch.samples.advantages[i], Math.fround(reward), `${c.label}: sample ${i} advantage = reward (no baseline)`);
      expectedLoss -= reward * Math.log(pi[action]!);
    }
  }
  expectedLoss /= n;
  const { policy, total, value } = probe.components;
  assert.equal(value, undefined, `${c.label}: no value component without a value baseline`);
  const policyLoss = loss(policy!);
  const totalLoss = loss(total!);
  const scale = Math.max(1e-3, Math.abs(expectedLoss));
  assert.ok(Math.abs(policyLoss - expectedLoss) <= 2e-5 * scale, `${c.label}: probe policy loss ${policyLoss} vs mean ℓ_i ${expectedLoss}`);
  assert.equal(totalLoss, policyLoss, `${c.label}: total loss = policy loss (entCoef 0, no value term)`);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const subsetLoss = tf.tidy(() => policy!.subset(all).dataSync()[0]!);
  assert.ok(Math.abs(subsetLoss - policyLoss) <= 1e-6 * scale, `${c.label}: subset(all) ${subsetLoss} vs tapped ${policyLoss}`);
}

interface FrozenRun {
  readonly closed: ClosedForm;
  readonly policy: ComponentNoiseSummary;
  /** The policy rows of every measurement. */
  readonly rows: NoiseRow[];
  readonly warnings: readonly string[];
}

/**
 * One run as the trainer does it (same seeding: env ← root/env, agent ← root/agent, monitor ← root/monitor; per
 * update collect → measure before the update → learn), with lr 0, checking on the way that the policy stays frozen.
 */
function runFrozen(c: BanditCase): FrozenRun {
  const config = banditConfig(c);
  const env = makeEnv(config.env.id, { numEnvs: config.env.numEnvs, params: config.env.params, wrappers: config.env.wrappers });
  // Record what the agent actually got from the (wrapped) env.
  const seen: { actions: Float64Array; rewards: Float64Array }[] = [];
  const step = env.step.bind(env);
  env.step = (actions) => {
    const result = step(actions);
    seen.push({ actions: Float64Array.from(actions), rewards: Float64Array.from(result.rewards) });
    return result;
  };
  const root = new Rng(config.run.seed);
  env.reset(root.split('env').uint32());
  const agent = createAgent(config.agent, env, root.split('agent')) as ReinforceAgent;
  // Any warning means the fast path was not used as intended (e.g. its autodiff self-check failed): fail at once rather
  // than crawl through the per-sample autodiff fallback.
  const monitor = new NoiseMonitor(config.monitor, {
    rng: root.split('monitor'),
    onWarning: (message) => assert.fail(`${c.label}: monitor warning: ${message}`),
  });
  try {
    const variables = agent.net.variablesOf(agent.net.policyLayers);
    const { means, variance } = rewardModel(c);
    const closed = closedForm(agent, variables, means, variance);
    const initial = snapshot(agent.net.variables);
    const rows: NoiseRow[] = [];
    let envSteps = 0;
    for (let update = 1; update <= c.updates; update++) {
      seen.length = 0;
      const batch = agent.collect();
      envSteps += agent.stepsPerUpdate;
      const probe = agent.noiseProbe(batch);
      if (update === 1) {
        assert.deepEqual(
          probe.components.policy!.variables.map((v) => v.name),
          variables.map((v) => v.name),
          `${c.label}: the closed form differentiates the monitor's variables`,
        );
        checkFirstBatch(c, batch, probe, seen, closed.pi);
      }
      const measured = monitor.measure(probe, { update, envSteps });
      rows.push(...measured.filter((r) => r.component === 'policy'));
      agent.learn(batch, (envSteps - agent.stepsPerUpdate) / config.run.totalSteps);
    }
    const after = snapshot(agent.net.variables);
    initial.forEach((values, v) => assert.deepEqual(after[v], values, `${c.label}: lr 0 must leave variable ${v} untouched`));
    const summary = monitor.summary();
    return { closed, policy: summary.components.policy!, rows, warnings: summary.warnings };
  } finally {
    agent.dispose();
  }
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));

/** The closed-form checks shared by every case. */
function assertMatchesClosedForm(c: BanditCase, run: FrozenRun): void {
  const { closed, policy, rows, warnings } = run;
  const { bSimple, lo, hi, resolved, gradSq, traceSigma } = policy.mean;
  const truth = closed.bSimple;
  const tag = `${c.label}: true B_simple ${fmt(truth)}, measured ${fmt(bSimple)} [${fmt(lo)}, ${fmt(hi)}]`;
  assert.deepEqual(warnings, [], `${c.label}: ${warnings.join('; ')}`);
  const method = c.method ?? 'fast';
  const n = c.numEnvs * c.numSteps;
  const groups = (c.grouping ?? 'sample') === 'sample' ? n : Math.ceil(n / (c.microBatch ?? 8));
  assert.equal(policy.method, method);
  assert.equal(rows.length, c.updates);
  for (const row of rows) {
    assert.equal(row.method, method);
    assert.equal(row.n_groups, groups, `${c.label}: groups per measurement`);
  }
  assert.equal(policy.measurements, c.updates);
  assert.ok(resolved, `${tag}: the run mean must be resolved`);
  assert.ok(lo <= truth && truth <= hi, `${tag}: the interval must cover the true value`);
  assert.ok(Math.abs(bSimple / truth - 1) <= POINT_TOLERANCE, `${tag}: point estimate off by more than ${POINT_TOLERANCE * 100}%`);
  const traceTolerance = TRACE_TOLERANCE[c.grouping ?? 'sample'];
  assert.ok(Math.abs(traceSigma / closed.traceSigma - 1) <= traceTolerance, `${tag}: tr(Σ) ${traceSigma} vs true ${closed.traceSigma}`);
  assert.ok(Math.abs(gradSq / closed.gradSq - 1) <= POINT_TOLERANCE, `${tag}: |G|² ${gradSq} vs true ${closed.gradSq}`);
  // Power: a true value twice (or half) as large would have been rejected.
  assert.ok(!(lo <= 2 * truth && 2 * truth <= hi), `${tag}: the interval is too wide to tell 2× the true value apart`);
  assert.ok(!(lo <= truth / 2 && truth / 2 <= hi), `${tag}: the interval is too wide to tell ½× the true value apart`);
}

function assertIsotropic(label: string, M: readonly (readonly number[])[], factor: number, relTol: number): void {
  M.forEach((row, i) =>
    row.forEach((v, j) => {
      const expected = i === j ? factor : 0;
      assert.ok(Math.abs(v - expected) <= relTol * factor, `${label}: M[${i}][${j}] = ${v}, expected ${expected}`);
    }),
  );
}

/** Largest |M_ij − m̄·δ_ij| relative to m̄ = tr(M)/K: how far M is from a multiple of I. */
function anisotropy(M: readonly (readonly number[])[]): number {
  const K = M.length;
  const mean = M.reduce((s, row, i) => s + row[i]!, 0) / K;
  let worst = 0;
  M.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - (i === j ? mean : 0)) / mean))));
  return worst;
}

/** B_simple of the same policy and rewards with M replaced by I (what ignoring the network's Jacobian would predict). */
function isotropicBSimple(pi: readonly number[], means: readonly number[], variance: number): number {
  const K = pi.length;
  let eu2 = 0;
  let trEuu = 0;
  const Eu = new Array<number>(K).fill(0);
  for (let a = 0; a < K; a++) {
    const d = pi.map((p, j) => (j === a ? 1 : 0) - p);
    const d2 = d.reduce((s, v) => s + v * v, 0);
    trEuu += pi[a]! * (means[a]! ** 2 + variance) * d2;
    for (let i = 0; i < K; i++) Eu[i]! += pi[a]! * means[a]! * d[i]!;
  }
  for (const v of Eu) eu2 += v * v;
  return (trEuu - eu2) / eu2;
}

const CASES: readonly BanditCase[] = [
  // Two arms, near-uniform π (policyGain 0.01, the default), the default [64, 64] tanh net: B ≈ 5.
  { label: 'K=2 gap=1 σ=1 gain=0.01 [64,64]', arms: 2, gap: 1, noiseStd: 1, hidden: [64, 64], policyGain: 0.01, numEnvs: 8, numSteps: 32, updates: 30 },
  // Five arms, non-uniform π, low noise, best arm last: B ≈ 15.
  { label: 'K=5 gap=1 σ=0.5 gain=1 [64,64] best=4', arms: 5, gap: 1, noiseStd: 0.5, bestArm: 4, hidden: [64, 64], policyGain: 1, numEnvs: 8, numSteps: 32, updates: 40 },
  // Ten arms, strongly non-uniform π, a larger gap: B ≈ 70.
  { label: 'K=10 gap=2 σ=1 gain=2 [64,64]', arms: 10, gap: 2, noiseStd: 1, hidden: [64, 64], policyGain: 2, numEnvs: 8, numSteps: 64, updates: 40 },
  // Ten arms, near-uniform π: B ≈ 110.
  { label: 'K=10 gap=1 σ=1 gain=0.01 [64,64]', arms: 10, gap: 1, noiseStd: 1, hidden: [64, 64], policyGain: 0.01, numEnvs: 8, numSteps: 64, updates: 60 },
  // A single linear layer (M = 2·I exactly), noise 4× the gap: B ≈ 240.
  { label: 'K=5 gap=0.5 σ=2 gain=1 linear', arms: 5, gap: 0.5, noiseStd: 2, hidden: [], policyGain: 1, numEnvs: 16, numSteps: 64, updates: 100 },
  // A narrow relu net with a large head gain: M far from a multiple of I.
  { label: 'K=5 gap=1 σ=1 gain=3 relu[8] best=1', arms: 5, gap: 1, noiseStd: 1, bestArm: 1, hidden: [8], activation: 'relu', policyGain: 3, numEnvs: 8, numSteps: 64, updates: 60 },
  // Random micro-batches of 8 (B_small = 8, the grouped fast path): still unbiased, same closed form. B ≈ 15.
  { label: 'K=5 gap=1 σ=0.5 gain=1 [64,64] best=4 microbatch 8', arms: 5, gap: 1, noiseStd: 0.5, bestArm: 4, hidden: [64, 64], policyGain: 1, numEnvs: 8, numSteps: 32, updates: 40, grouping: 'microbatch', microBatch: 8 },
  // The per-group autodiff fallback (micro-batches of 8 to keep it cheap), no noise on the rewards: σ = 0. B ≈ 2.4.
  { label: 'K=3 gap=1 σ=0 gain=1 [16] fallback microbatch 8', arms: 3, gap: 1, noiseStd: 0, hidden: [16], policyGain: 1, numEnvs: 8, numSteps: 16, updates: 30, grouping: 'microbatch', microBatch: 8, method: 'fallback' },
];

describe('noise monitor: closed form on GaussianBandit-v0 with a frozen REINFORCE policy', () => {
  for (const c of CASES) {
    it(`${c.label}: run-mean B_simple covers the closed form`, () => {
      const run = runFrozen(c);
      const { closed } = run;
      const { means, variance } = rewardModel(c);
      if (c.hidden.length === 0) {
        // One dense layer with the constant input x = [1]: M = (|x|² + 1)·I = 2·I.
        assert.ok(Math.abs(closed.headFactor - 2) < 1e-12);
        assertIsotropic(c.label, closed.M, 2, 1e-6);
      } else if (c.policyGain <= 0.01) {
        // The hidden layers' share scales with policyGain² (1e-4 here): M ≈ (|h|² + 1)·I.
        assertIsotropic(c.label, closed.M, closed.headFactor, 2e-3);
      }
      if (c.activation === 'relu') {
        // Here M is clearly not ∝ I, and replacing it with I would give a B_simple the measurement rejects.
        assert.ok(anisotropy(closed.M) > 0.2, `${c.label}: anisotropy ${anisotropy(closed.M)}`);
        const naive = isotropicBSimple(closed.pi, means, variance);
        const { lo, hi } = run.policy.mean;
        assert.ok(naive < lo || naive > hi, `${c.label}: M = I would predict ${naive}, inside [${lo}, ${hi}]`);
      }
      assertMatchesClosedForm(c, run);
      if (process.env.GRADNOISE_VERBOSE) {
        const m = run.policy.mean;
        console.log(
          `${c.label}: π=[${closed.pi.map((p) => p.toFixed(3)).join(', ')}] anisotropy(M)=${anisotropy(closed.M).toFixed(3)} ` +
            `true=${closed.bSimple.toFixed(3)} measured=${m.bSimple.toFixed(3)} [${m.lo.toFixed(3)}, ${m.hi.toFixed(3)}] ` +
            `|G|² ${m.gradSq.toPrecision(4)}/${closed.gradSq.toPrecision(4)} trΣ ${m.traceSigma.toPrecision(4)}/${closed.traceSigma.toPrecision(4)}`,
        );
      }
    });
  }
});

describe('noise monitor: invariances on GaussianBandit-v0 (frozen REINFORCE policy)', () => {
  const base: BanditCase = { label: 'base', arms: 5, gap: 1, noiseStd: 1, hidden: [32], policyGain: 1, numEnvs: 8, numSteps: 64, updates: 40 };
  let baseRun: FrozenRun | undefined;
  /** The unwrapped run, shared by both tests. */
  const plainRun = () => (baseRun ??= runFrozen(base));

  it('scaling every reward by 100 leaves the policy B_simple unchanged', () => {
    const plain = plainRun();
    const scaled = runFrozen({ ...base, label: 'rewardScale 100', wrappers: [{ type: 'rewardScale', scale: 100 }] });
    // Same seed: the same actions and noise draws, every per-sample gradient × 100, so |G|² and tr(Σ) × 10⁴ per row.
    // Float32 gradients: agreement to ~1e-7 relative (tr(Σ) is the unit for |G|², which can be near 0 in one row).
    assert.equal(scaled.rows.length, plain.rows.length);
    let worstRow = 0;
    plain.rows.forEach((row, u) => {
      const other = scaled.rows[u]!;
      const unit = Math.abs(row.trace_sigma);
      const dT = Math.abs(other.trace_sigma / 1e4 - row.trace_sigma) / unit;
      const dG = Math.abs(other.grad_sq / 1e4 - row.grad_sq) / unit;
      worstRow = Math.max(worstRow, dT, dG);
      assert.ok(dT <= 1e-6, `update ${u + 1}: tr(Σ) ${other.trace_sigma} vs 1e4·${row.trace_sigma}`);
      assert.ok(dG <= 1e-6, `update ${u + 1}: |G|² ${other.grad_sq} vs 1e4·${row.grad_sq}`);
    });
    const a = plain.policy.mean;
    const b = scaled.policy.mean;
    assert.ok(a.resolved && b.resolved);
    const rel = Math.abs(b.bSimple / a.bSimple - 1);
    assert.ok(rel <= 1e-6, `B_simple ${a.bSimple} vs ${b.bSimple} with rewards × 100 (relative difference ${rel})`);
    assert.ok(Math.abs(b.lo / a.lo - 1) <= 1e-6 && Math.abs(b.hi / a.hi - 1) <= 1e-6, 'the interval must not move either');
    // And the closed form of the scaled run is the same number (M and π unchanged, both moments × 10⁴).
    assert.ok(Math.abs(scaled.closed.bSimple / plain.closed.bSimple - 1) < 1e-9);
    assertMatchesClosedForm(base, plain);
    if (process.env.GRADNOISE_VERBOSE) {
      console.log(`rewardScale: plain ${a.bSimple} [${a.lo}, ${a.hi}], ×100 ${b.bSimple} [${b.lo}, ${b.hi}], relative difference ${rel.toExponential(2)} (worst row ${worstRow.toExponential(2)}); true ${plain.closed.bSimple}`);
    }
  });

  it('adding reward noise (std 2) raises the policy B_simple, to the closed form with σ² + 4', () => {
    const plain = plainRun();
    const noisyCase: BanditCase = { ...base, label: 'rewardNoise 2', wrappers: [{ type: 'rewardNoise', std: 2 }] };
    const noisy = runFrozen(noisyCase);
    const a = plain.policy.mean;
    const b = noisy.policy.mean;
    // G is unchanged (the noise has mean 0) while E[r² | a] rises by 4: tr(Σ) up, B_simple up.
    assert.ok(b.lo > a.hi, `noisy [${b.lo}, ${b.hi}] must lie above plain [${a.lo}, ${a.hi}]`);
    assert.ok(b.bSimple > 2 * a.bSimple, `B_simple ${a.bSimple} → ${b.bSimple}`);
    assert.ok(noisy.closed.bSimple > 2 * plain.closed.bSimple);
    assert.ok(Math.abs(noisy.closed.gradSq / plain.closed.gradSq - 1) < 1e-12, 'reward noise leaves the true |G|² unchanged');
    assertMatchesClosedForm(noisyCase, noisy);
    if (process.env.GRADNOISE_VERBOSE) {
      console.log(`rewardNoise: plain ${a.bSimple} [${a.lo}, ${a.hi}] (true ${plain.closed.bSimple}), std 2 ${b.bSimple} [${b.lo}, ${b.hi}] (true ${noisy.closed.bSimple})`);
    }
  });
});
