/**
 * Recurrent PPO (agents/recurrent-ppo.ts) on MemoryChain: the state is carried across rollouts and reset at episode
 * ends, training recomputes exactly the log-probabilities and values seen while acting (BPTT from the stored
 * initial states), the noise probe has one sample per env segment and the monitor measures it through the fallback,
 * a seed fixes everything, and no tensors leak.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { checkTorso, createAgent } from '../../agents/index.js';
import { createRecurrentPpoAgent, type RecurrentBatch, type RecurrentPpoAgent } from '../../agents/recurrent-ppo.js';
import { agentSection, monitorSection, type PpoConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { NoiseMonitor } from '../../src/monitor/monitor.js';
import { makeEnv } from '../../src/run/registry.js';

before(async () => {
  await tf.setBackend('cpu');
});

const config = agentSection.parse({ algo: 'ppo', numSteps: 8, numMinibatches: 2, updateEpochs: 2, network: { torso: 'gru', recurrentHidden: 6 } }) as PpoConfig;

function agentOn(seed: number, numEnvs = 4): RecurrentPpoAgent {
  const env = makeEnv('MemoryChain-v0', { numEnvs, params: { memoryLength: 2 } });
  env.reset(seed);
  return createRecurrentPpoAgent(config, env, new Rng(seed));
}

/** log π(a) and V from one BPTT pass over the whole batch from its stored initial states. */
function recompute(agent: RecurrentPpoAgent, batch: RecurrentBatch): { logProbs: Float32Array; values: Float32Array } {
  const { rollout } = batch;
  return tf.tidy(() => {
    const net = agent.net;
    const h0 = tf.tensor2d(batch.initialState, [rollout.numEnvs, net.hiddenSize]);
    const out = net.heads(net.sequence(tf.tensor2d(rollout.obs, [rollout.numEnvs * rollout.numSteps, rollout.obsSize]), h0, batch.starts, rollout.numSteps));
    const logp = tf.logSoftmax(out.policy);
    const taken = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(rollout.actions, 'int32'), net.actionDim)), 1);
    return { logProbs: taken.dataSync() as Float32Array, values: out.value.dataSync() as Float32Array };
  });
}

function maxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('recurrent PPO', () => {
  it('marks episode starts where the previous step ended an episode, also across rollouts', () => {
    const agent = agentOn(1);
    const T = config.numSteps;
    let previous: RecurrentBatch | null = null;
    for (let u = 0; u < 3; u++) {
      const batch = agent.collect();
      const { rollout } = batch;
      for (let e = 0; e < rollout.numEnvs; e++) {
        for (let t = 0; t < T; t++) {
          const i = e * T + t;
          const expected = t > 0 ? rollout.terminated[i - 1]! || rollout.truncated[i - 1]! : previous ? previous.rollout.terminated[e * T + T - 1]! || previous.rollout.truncated[e * T + T - 1]! : 1;
          assert.equal(batch.starts[i], expected, `env ${e} step ${t} of rollout ${u}`);
        }
      }
      // MemoryChain(2) episodes last 3 steps: some start inside every rollout of 8.
      assert.ok(batch.starts.some((s, i) => s === 1 && i % T !== 0));
      previous = batch;
    }
    agent.dispose();
  });

  it('training recomputes the acting log-probabilities and values (state carried, reset at episode ends)', () => {
    const agent = agentOn(2);
    const first = agent.collect();
    agent.learn(first, 0);
    const batch = agent.collect();
    // The second rollout starts from the carried state, not from zero.
    assert.ok(batch.initialState.some((v) => Math.abs(v) > 1e-4));
    const again = recompute(agent, batch);
    assert.ok(maxGap(again.logProbs, batch.rollout.logProbs) < 1e-5, 'log π(a)');
    assert.ok(maxGap(again.values, batch.rollout.values) < 1e-5, 'V');
    // Without the resets the recomputation no longer matches what the policy saw.
    const noResets = recompute(agent, { ...batch, starts: new Float32Array(batch.starts.length) });
    assert.ok(maxGap(noResets.values, batch.rollout.values) > 1e-4);
    agent.dispose();
  });

  it('one noise sample per env segment, measured by the fallback; gradient shapes; the tensor count stays flat', () => {
    const agent = agentOn(3, 6);
    const monitor = new NoiseMonitor(monitorSection.parse({ grouping: 'sample', every: 1, method: 'fallback' }), { onWarning: () => undefined });
    const counts: number[] = [];
    for (let update = 1; update <= 4; update++) {
      const batch = agent.collect();
      const probe = agent.noiseProbe(batch);
      assert.equal(probe.n, 6);
      assert.equal(agent.batchSize(batch), 6);
      tf.tidy(() => {
        const c = probe.components.total!;
        const { grads } = tf.variableGrads(() => c.subset(Int32Array.of(0, 2)), c.variables as tf.Variable[]);
        for (const v of c.variables) assert.deepEqual(grads[v.name]!.shape, v.shape);
      });
      const rows = monitor.measure(probe, { update, envSteps: update * agent.stepsPerUpdate });
      assert.deepEqual(rows.map((r) => r.method), ['fallback', 'fallback', 'fallback']);
      assert.ok(rows.every((r) => Number.isFinite(r.grad_sq) && Number.isFinite(r.trace_sigma)));
      agent.learn(batch, update / 4);
      counts.push(tf.memory().numTensors);
    }
    assert.ok(counts.every((c) => c === counts[0]), `tensor counts drift: ${counts.join(', ')}`);
    agent.dispose();
  });

  it('a seed fixes rollouts and parameters; another seed differs', () => {
    const run = (seed: number) => {
      const agent = agentOn(seed);
      for (let u = 0; u < 2; u++) agent.learn(agent.collect(), u / 2);
      const batch = agent.collect();
      const params = agent.net.variables.map((v) => Array.from(v.dataSync()));
      agent.dispose();
      return { actions: Array.from(batch.rollout.actions), params };
    };
    const a = run(5);
    assert.deepEqual(run(5), a);
    assert.notDeepEqual(run(6).params, a.params);
  });

  it('refuses the GRU torso outside PPO or with continuous actions, and the conv torso on flat observations', () => {
    const memory = makeEnv('MemoryChain-v0', { numEnvs: 1 });
    const pendulum = makeEnv('Pendulum-v1', { numEnvs: 1 });
    assert.throws(() => checkTorso(agentSection.parse({ algo: 'a2c', network: { torso: 'gru' } }), memory), ConfigError);
    assert.throws(() => checkTorso(agentSection.parse({ algo: 'ppo', network: { torso: 'gru' } }), pendulum), ConfigError);
    assert.throws(() => createAgent(agentSection.parse({ algo: 'ppo', network: { torso: 'conv' } }), memory, new Rng(1)), ConfigError);
    checkTorso(agentSection.parse({ algo: 'ppo', network: { torso: 'gru' } }), memory);
  });
});
