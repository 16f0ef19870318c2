import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { policyTerms } from '../../agents/distributions.js';
import { createA2cAgent, createAgent, createPpoAgent, createReinforceAgent } from '../../agents/index.js';
import { toTensors } from '../../agents/samples.js';
import { agentSection, type A2cConfig, type PpoConfig, type ReinforceConfig } from '../../src/config/schema.js';
import { DivergedError } from '../../src/core/errors.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

const small = { network: { hidden: [8] } };

describe('agents', () => {
  it('createAgent picks the algorithm from the config', () => {
    for (const algo of ['reinforce', 'a2c', 'ppo'] as const) {
      const env = makeEnv('CartPole-v1', { numEnvs: 2 });
      env.reset(1);
      const agent = createAgent(agentSection.parse({ algo, ...small }), env, new Rng(1));
      assert.equal(agent.algo, algo);
      assert.equal(agent.stepsPerUpdate, 2 * (algo === 'a2c' ? 5 : 128));
      agent.dispose();
    }
  });

  it('PPO runs epochs × minibatches steps, anneals lr linearly and stops early past targetKl', () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 2 });
    env.reset(1);
    const config = agentSection.parse({ algo: 'ppo', numSteps: 16, updateEpochs: 3, numMinibatches: 4, lr: 0.01, ...small }) as PpoConfig;
    const agent = createPpoAgent(config, env, new Rng(1));
    const stats = agent.learn(agent.collect(), 0.25);
    assert.equal(agent.optimizer.steps, 12);
    assert.ok(Math.abs(stats.lr - 0.0075) < 1e-12, `lr ${stats.lr}`);
    assert.ok(stats.approxKl >= 0 && stats.clipFrac >= 0 && stats.clipFrac <= 1, `approxKl ${stats.approxKl}, clipFrac ${stats.clipFrac}`);
    agent.dispose();

    const early = createPpoAgent({ ...config, targetKl: 1e-12 }, env, new Rng(1));
    early.learn(early.collect(), 0);
    assert.equal(early.optimizer.steps, 4, 'one epoch, then the KL check stops the update');
    early.dispose();

    const constant = createPpoAgent({ ...config, annealLr: false }, env, new Rng(1));
    assert.equal(constant.learn(constant.collect(), 0.9).lr, 0.01);
    constant.dispose();
  });

  for (const envId of ['CartPole-v1', 'Pendulum-v1']) {
    it(`the rollout's plain-TS log-probs equal tfjs log-probs of the stored actions, so PPO's first ratio is 1 (${envId})`, () => {
      const env = makeEnv(envId, { numEnvs: 3 });
      env.reset(1);
      const agent = createPpoAgent(agentSection.parse({ algo: 'ppo', numSteps: 30, network: { hidden: [16, 16] } }) as PpoConfig, env, new Rng(1));
      agent.learn(agent.collect(), 0);
      const { rollout, samples } = agent.collect();
      const logProbs = tf.tidy(() => {
        const data = toTensors(agent.net, samples);
        const out = agent.net.forward(data.obs);
        return policyTerms(agent.net, out.policy!, out.logStd, data.actions).logProb.dataSync();
      });
      rollout.logProbs.forEach((lp, i) => assert.ok(Math.abs(lp - logProbs[i]!) < 1e-4, `sample ${i}: ${lp} vs ${logProbs[i]}`));
      agent.dispose();
    });
  }

  it('rollouts (A2C, PPO) keep V(final observation) at truncated steps only', () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 2, maxEpisodeSteps: 6 });
    env.reset(1);
    const agent = createPpoAgent(agentSection.parse({ algo: 'ppo', numSteps: 20, ...small }) as PpoConfig, env, new Rng(1));
    const { rollout } = agent.collect();
    let truncations = 0;
    for (let i = 0; i < rollout.truncated.length; i++) {
      if (rollout.truncated[i]) {
        truncations++;
        assert.notEqual(rollout.finalValues[i], 0);
      } else {
        assert.equal(rollout.finalValues[i], 0);
      }
    }
    assert.ok(truncations >= 4, `${truncations} truncations`);
    agent.dispose();
  });

  it('REINFORCE bootstraps truncated episodes from V(final observation) only with a value baseline', () => {
    const lastStepReturns = (baseline: 'value' | 'mean') => {
      const env = makeEnv('CartPole-v1', { numEnvs: 2, maxEpisodeSteps: 5 });
      env.reset(1);
      const config = agentSection.parse({ algo: 'reinforce', numSteps: 12, baseline, ...small }) as ReinforceConfig;
      const agent = createReinforceAgent(config, env, new Rng(1));
      const batch = agent.collect();
      const out: number[] = [];
      for (let i = 0; i < batch.n; i++) if (i === batch.n - 1 || batch.episodes[i + 1] !== batch.episodes[i]) out.push(batch.samples.returns[i]!);
      // Carry-over: 12 steps per env and 5-step episodes give 2 complete episodes per env; 2 steps per env wait and
      // start the first episode of the next collect (2 + 12 steps: again 2 complete episodes, 4 steps waiting).
      assert.equal(batch.n, 20);
      assert.equal(agent.collect().n, 20);
      agent.dispose();
      return out;
    };
    for (const g of lastStepReturns('mean')) assert.equal(g, 1);
    for (const g of lastStepReturns('value')) assert.notEqual(g, 1);
  });

  it('REINFORCE with no finished episode gives an empty batch and a no-op update', () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 1 });
    env.reset(1);
    const agent = createReinforceAgent(agentSection.parse({ algo: 'reinforce', numSteps: 3, ...small }) as ReinforceConfig, env, new Rng(1));
    const batch = agent.collect();
    assert.equal(agent.batchSize(batch), 0);
    assert.deepEqual(agent.noiseProbe(batch).components, {});
    const stats = agent.learn(batch, 0);
    assert.ok(Object.values(stats).every(Number.isFinite), 'stats stay finite');
    assert.equal(agent.optimizer.steps, 0);
    agent.dispose();
  });

  it('throws DivergedError (with the 1-based update number) when the loss is not finite', () => {
    const env = makeEnv('CartPole-v1', { numEnvs: 2 });
    env.reset(1);
    const agent = createA2cAgent(agentSection.parse({ algo: 'a2c', ...small }) as A2cConfig, env, new Rng(1));
    agent.learn(agent.collect(), 0);
    const batch = agent.collect();
    batch.samples.returns[0] = Number.NaN;
    assert.throws(() => agent.learn(batch, 0), (e: unknown) => e instanceof DivergedError && e.update === 2);
    agent.dispose();
  });
});
