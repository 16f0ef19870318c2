/**
 * Learning smoke tests: tiny budgets, fixed seeds, clear improvement. Run on the wasm backend (several times faster
 * than cpu here); determinism is checked on both backends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createAgent, type UpdateStats } from '../../agents/index.js';
import { agentSection } from '../../src/config/schema.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;

/** Train for `steps` env steps; returns every finished episode's return, in order, and the stats of each update. */
function train(raw: Record<string, unknown>, envId: string, numEnvs: number, steps: number, seed: number) {
  const env = makeEnv(envId, { numEnvs });
  env.reset(seed);
  const agent = createAgent(agentSection.parse(raw), env, new Rng(seed).split('agent'));
  const returns: number[] = [];
  const stats: UpdateStats[] = [];
  const bestArm: number[] = [];
  for (let done = 0; done < steps; done += agent.stepsPerUpdate) {
    const batch = agent.collect();
    if ('samples' in (batch as object) && envId.startsWith('GaussianBandit')) {
      const actions = (batch as { samples: { actions: Float32Array } }).samples.actions;
      bestArm.push(actions.filter((a) => a === 0).length / actions.length);
    }
    stats.push(agent.learn(batch, done / steps));
    returns.push(...env.drainEpisodes().map((e) => e.return));
  }
  agent.dispose();
  return { returns, stats, bestArm };
}

describe('learning', () => {
  it('PPO (CleanRL settings) raises the CartPole return clearly within ~25k steps', async (t) => {
    await tf.setBackend('wasm');
    const { returns } = train({ algo: 'ppo', numSteps: 128 }, 'CartPole-v1', 4, 24_576, 1);
    const first = mean(returns.slice(0, 20));
    const last = mean(returns.slice(-20));
    assert.ok(first < 40, `random policy should score ~22, got ${first}`);
    t.diagnostic(`PPO: mean return ${first.toFixed(1)} → ${last.toFixed(1)}`);
    assert.ok(last > 75 && last > first + 40, `PPO: mean return ${first.toFixed(1)} → ${last.toFixed(1)}`);
  });

  it('A2C improves on CartPole within ~16k steps', async (t) => {
    await tf.setBackend('wasm');
    const { returns } = train({ algo: 'a2c', numSteps: 5 }, 'CartPole-v1', 8, 16_000, 1);
    const first = mean(returns.slice(0, 20));
    const last = mean(returns.slice(-20));
    t.diagnostic(`A2C: mean return ${first.toFixed(1)} → ${last.toFixed(1)}`);
    assert.ok(last > 60 && last > first + 30, `A2C: mean return ${first.toFixed(1)} → ${last.toFixed(1)}`);
  });

  it('REINFORCE picks the best arm of GaussianBandit-v0 far more often', async (t) => {
    await tf.setBackend('cpu');
    const { bestArm } = train({ algo: 'reinforce', numSteps: 8, baseline: 'mean' }, 'GaussianBandit-v0', 8, 8 * 8 * 20, 1);
    t.diagnostic(`REINFORCE: best arm picked ${bestArm[0]!.toFixed(2)} → ${mean(bestArm.slice(-5)).toFixed(2)} of the time`);
    assert.ok(bestArm[0]! < 0.3, `first batch picks the best arm ${bestArm[0]} of the time`);
    assert.ok(mean(bestArm.slice(-5)) > 0.6, `last batches pick the best arm ${mean(bestArm.slice(-5))} of the time`);
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`same seed, same stats; another seed, other stats (${backend})`, async () => {
      await tf.setBackend(backend);
      for (const [raw, envId] of [
        [{ algo: 'ppo', numSteps: 32, network: { hidden: [16, 16] } }, 'CartPole-v1'],
        [{ algo: 'ppo', numSteps: 16, network: { hidden: [16] }, targetKl: 0.001 }, 'Pendulum-v1'],
        [{ algo: 'a2c', numSteps: 5, network: { hidden: [16] } }, 'CartPole-v1'],
        [{ algo: 'reinforce', numSteps: 32, baseline: 'value', network: { hidden: [16] } }, 'CartPole-v1'],
      ] as const) {
        const a = train(raw, envId, 2, 4 * 2 * raw.numSteps, 5);
        const b = train(raw, envId, 2, 4 * 2 * raw.numSteps, 5);
        const c = train(raw, envId, 2, 4 * 2 * raw.numSteps, 6);
        assert.deepEqual(a.stats, b.stats, `${raw.algo} on ${envId}: runs with one seed differ`);
        assert.deepEqual(a.returns, b.returns);
        assert.notDeepEqual(a.stats, c.stats, `${raw.algo} on ${envId}: seeds 5 and 6 gave the same stats`);
      }
    });
  }
});
