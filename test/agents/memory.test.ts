import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createAgent } from '../../agents/index.js';
import { agentSection } from '../../src/config/schema.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

/** Collect, probe (taps + backward, as the monitor does), learn; tensor count after each update. */
function tensorCounts(raw: Record<string, unknown>, envId: string, updates: number): number[] {
  const env = makeEnv(envId, { numEnvs: 2 });
  env.reset(1);
  const agent = createAgent(agentSection.parse({ network: { hidden: [8] }, ...raw }), env, new Rng(2));
  const counts: number[] = [];
  for (let u = 0; u < updates; u++) {
    const batch = agent.collect();
    const probe = agent.noiseProbe(batch);
    tf.tidy(() => {
      for (const component of Object.values(probe.components)) {
        const taps = component!.tapShapes.map((s) => tf.zeros([s[0], s[1]]) as tf.Tensor2D);
        tf.grads((...t: tf.Tensor[]) => component!.tapped(t as tf.Tensor2D[]).loss)(taps);
        component!.subset(Int32Array.of(0, 1));
        for (const v of component!.variables) probe.preconditioner?.(v as tf.Variable);
      }
    });
    agent.learn(batch, u / updates);
    counts.push(tf.memory().numTensors);
  }
  agent.dispose();
  return counts;
}

describe('tensor memory', () => {
  for (const [raw, envId, updates] of [
    [{ algo: 'ppo', numSteps: 16, updateEpochs: 2, numMinibatches: 2 }, 'CartPole-v1', 30],
    [{ algo: 'ppo', numSteps: 16, updateEpochs: 1, numMinibatches: 2 }, 'Pendulum-v1', 10],
    [{ algo: 'a2c', numSteps: 5 }, 'CartPole-v1', 30],
    [{ algo: 'reinforce', numSteps: 16, baseline: 'value' }, 'CartPole-v1', 30],
    [{ algo: 'ppo', numSteps: 8, updateEpochs: 1, numMinibatches: 2, network: { torso: 'conv', hidden: [8] } }, 'Breakout-MinAtar-v0', 10],
    [{ algo: 'a2c', numSteps: 5, network: { torso: 'conv', hidden: [8], shared: true } }, 'SpaceInvaders-MinAtar-v0', 10],
    [{ algo: 'reinforce', numSteps: 16, baseline: 'value', network: { torso: 'conv', hidden: [8] } }, 'Breakout-MinAtar-v0', 6],
  ] as const) {
    it(`${raw.algo} on ${envId}: the tensor count stays flat over ${updates} updates with the probe used each time`, () => {
      const before = tf.memory().numTensors;
      const counts = tensorCounts(raw, envId, updates);
      assert.ok(counts.every((c) => c === counts[0]), `tensor counts drift: ${counts.join(', ')}`);
      assert.equal(tf.memory().numTensors, before, 'dispose() frees every tensor the agent made');
    });
  }
});
