/**
 * The NoiseProbe contract (src/monitor/probe.ts): `tapped` is the agent's loss on the whole batch, and per-sample
 * gradients recovered from the taps (n·x_iᵀδ_i, n·δ_i) equal autodiff gradients of `subset([i])`.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { normalizeAdvantages } from '../../agents/advantages.js';
import { a2cLoss, createA2cAgent, createPpoAgent, createReinforceAgent, reinforceLoss } from '../../agents/index.js';
import { policyGradientParts } from '../../agents/losses.js';
import type { ActorCritic } from '../../agents/networks.js';
import type { AgentNoiseProbe, ProbeComponent } from '../../agents/noise-probe.js';
import { toTensors, type SampleArrays } from '../../agents/samples.js';
import { agentSection, type A2cConfig, type PpoConfig, type ReinforceConfig } from '../../src/config/schema.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

const network = { hidden: [12, 12] };

/** Per-sample gradients of sample i from the taps, in the order of `component.variables`. */
function tapGradients(component: ProbeComponent, n: number, samples: readonly number[]): Float32Array[][] {
  return tf.tidy(() => {
    const zeros = component.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D);
    const inputs = component.tapped(zeros).inputs;
    const deltas = tf.grads((...taps: tf.Tensor[]) => component.tapped(taps as tf.Tensor2D[]).loss)(zeros);
    return samples.map((i) => {
      const grads: Float32Array[] = [];
      component.layers.forEach((layer, l) => {
        const delta = tf.mul(tf.slice(deltas[l]!, [i, 0], [1, layer.outSize]), n) as tf.Tensor2D;
        if (layer.inSize > 0) {
          const x = tf.slice(inputs[l]!, [i, 0], [1, layer.inSize]) as tf.Tensor2D;
          grads.push(tf.matMul(x, delta, true, false).dataSync() as Float32Array);
        }
        grads.push(delta.dataSync() as Float32Array);
      });
      return grads;
    });
  });
}

function subsetGradients(component: ProbeComponent, i: number): Float32Array[] {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(() => component.subset(Int32Array.of(i)), component.variables as tf.Variable[]);
    return component.variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
  });
}

function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, what: string, rel = 2e-4): void {
  assert.equal(a.length, b.length, `${what}: length`);
  let scale = 1e-6;
  for (let k = 0; k < b.length; k++) scale = Math.max(scale, Math.abs(b[k]!));
  for (let k = 0; k < b.length; k++) assert.ok(Math.abs(a[k]! - b[k]!) <= rel * scale, `${what}[${k}]: ${a[k]} vs ${b[k]}`);
}

function checkComponent(component: ProbeComponent, n: number, name: string): void {
  assert.equal(component.tapShapes.length, component.layers.length);
  const expectedVariables = component.layers.flatMap((l) => (l.weight ? [l.weight, l.bias] : [l.bias]));
  assert.deepEqual(component.variables, expectedVariables, `${name}: variables follow the tapped layers`);
  const samples = [0, 3, n - 1];
  const fromTaps = tapGradients(component, n, samples);
  samples.forEach((i, s) => {
    const fromSubset = subsetGradients(component, i);
    fromTaps[s]!.forEach((g, k) => assertClose(g, fromSubset[k]!, `${name} sample ${i} ${component.variables[k]!.name}`));
  });
  // The mean of per-sample gradients is the batch gradient.
  const all = tapGradients(component, n, Array.from({ length: n }, (_, i) => i));
  const batch = tf.tidy(() => {
    const zeros = component.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D);
    const { grads } = tf.variableGrads(() => component.tapped(zeros).loss, component.variables as tf.Variable[]);
    return component.variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
  });
  batch.forEach((g, k) => {
    const mean = g.map((_, e) => all.reduce((sum, sample) => sum + sample[k]![e]!, 0) / n);
    assertClose(mean, g, `${name} mean of per-sample gradients, variable ${k}`, 1e-3);
  });
}

function closeTo(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

function tappedLoss(component: ProbeComponent): number {
  return tf.tidy(() => component.tapped(component.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D)).loss.dataSync()[0]!);
}

function lossOf(net: ActorCritic, samples: SampleArrays, f: (data: ReturnType<typeof toTensors>) => tf.Scalar): number {
  return tf.tidy(() => f(toTensors(net, samples)).dataSync()[0]!);
}

describe('NoiseProbe', () => {
  for (const [label, envId, shared] of [
    ['PPO, CartPole, separate nets', 'CartPole-v1', false],
    ['PPO, CartPole, shared trunk', 'CartPole-v1', true],
    ['PPO, Pendulum (Gaussian)', 'Pendulum-v1', false],
  ] as const) {
    it(`${label}: tapped is the loss; taps give the per-sample gradients of subset()`, () => {
      const env = makeEnv(envId, { numEnvs: 2 });
      env.reset(3);
      const config = agentSection.parse({ algo: 'ppo', numSteps: 12, network: { ...network, shared }, entCoef: 0.05 }) as PpoConfig;
      const agent = createPpoAgent(config, env, new Rng(4));
      agent.learn(agent.collect(), 0); // move off the init and give Adam some state
      const batch = agent.collect();
      const probe = agent.noiseProbe(batch) as AgentNoiseProbe;
      const n = 24;
      assert.equal(probe.n, n);
      assert.deepEqual(Object.keys(probe.components).sort(), ['policy', 'total', 'value']);
      // PPO's first step at θ_old: plain policy-gradient loss on advantages normalised over the whole batch.
      const normalized = { ...batch.samples, advantages: normalizeAdvantages(batch.samples.advantages, new Float32Array(n)) };
      const parts = (data: ReturnType<typeof toTensors>) => policyGradientParts(agent.net, agent.net.forward(data.obs), data);
      const expectedPolicy = lossOf(agent.net, normalized, (d) => parts(d).policy!);
      const expectedValue = lossOf(agent.net, normalized, (d) => parts(d).value!);
      const expectedEntropy = lossOf(agent.net, normalized, (d) => parts(d).entropy!);
      const expectedTotal = expectedPolicy + config.vfCoef * expectedValue - config.entCoef * expectedEntropy;
      closeTo(tappedLoss(probe.components.policy!), expectedPolicy, 'policy loss');
      closeTo(tappedLoss(probe.components.value!), expectedValue, 'value loss');
      closeTo(tappedLoss(probe.components.total!), expectedTotal, 'total loss');
      for (const [name, component] of Object.entries(probe.components)) checkComponent(component!, n, `${label} ${name}`);
      // Segments: env of each sample (env-major); episodes: unique per (env, episode).
      assert.deepEqual(Array.from(probe.segments), Array.from({ length: n }, (_, i) => Math.floor(i / 12)));
      for (let i = 1; i < n; i++) {
        const sameEnv = probe.segments[i] === probe.segments[i - 1];
        const ended = batch.rollout.terminated[i - 1] === 1 || batch.rollout.truncated[i - 1] === 1;
        assert.equal(probe.episodes[i] === probe.episodes[i - 1], sameEnv && !ended);
      }
      // Adam's preconditioner, shaped like each variable, owned by the probe.
      for (const v of probe.components.total!.variables) {
        const p = probe.preconditioner!(v as tf.Variable)!;
        assert.deepEqual(p.shape, v.shape);
        assert.ok(p.dataSync().every((x) => x > 0 && Number.isFinite(x)), `${v.name}: preconditioner not positive`);
      }
      agent.dispose();
    });
  }

  it('A2C: tapped is exactly the loss of its one update; taps give per-sample gradients', () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 3 });
    env.reset(5);
    const config = agentSection.parse({ algo: 'a2c', numSteps: 5, network, normAdv: true }) as A2cConfig;
    const agent = createA2cAgent(config, env, new Rng(6));
    const batch = agent.collect();
    const probe = agent.noiseProbe(batch) as AgentNoiseProbe;
    assert.equal(probe.n, 15);
    closeTo(tappedLoss(probe.components.total!), lossOf(agent.net, batch.samples, (d) => a2cLoss(agent.net, d, config).total), 'A2C loss');
    for (const [name, component] of Object.entries(probe.components)) checkComponent(component!, 15, `A2C ${name}`);
    // RMSProp has a preconditioner too, but not before its first step.
    assert.equal(probe.preconditioner!(probe.components.total!.variables[0] as tf.Variable), null);
    agent.dispose();
  });

  for (const baseline of ['value', 'mean'] as const) {
    it(`REINFORCE (${baseline} baseline): complete episodes only; taps give per-sample gradients`, () => {
      const env = makeEnv('CartPole-v1', { numEnvs: 2 });
      env.reset(7);
      const config = agentSection.parse({ algo: 'reinforce', numSteps: 40, baseline, network, entCoef: 0.02 }) as ReinforceConfig;
      const agent = createReinforceAgent(config, env, new Rng(8));
      const batch = agent.collect();
      const finished = env.drainEpisodes();
      assert.equal(batch.episodeCount, finished.length);
      assert.equal(batch.n, finished.reduce((s, e) => s + e.length, 0));
      assert.ok(batch.n > 0 && batch.n <= 80, `batch of ${batch.n} samples`);
      const probe = agent.noiseProbe(batch) as AgentNoiseProbe;
      assert.deepEqual(Object.keys(probe.components).sort(), baseline === 'value' ? ['policy', 'total', 'value'] : ['policy', 'total']);
      closeTo(tappedLoss(probe.components.total!), lossOf(agent.net, batch.samples, (d) => reinforceLoss(agent.net, d, config).total), 'REINFORCE loss');
      for (const [name, component] of Object.entries(probe.components)) checkComponent(component!, batch.n, `REINFORCE ${name}`);
      agent.dispose();
    });
  }
});
