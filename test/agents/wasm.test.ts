/**
 * The wasm backend runs its own dense-layer gradient (explicit transposes) and tanh (2σ(2z) − 1); both must give the
 * numbers the stock ops give on cpu.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { lossAndGrads } from '../../agents/gradient-step.js';
import { createPpoAgent } from '../../agents/index.js';
import { ActorCritic, PlainForward } from '../../agents/networks.js';
import { ppoFusedLoss } from '../../agents/ppo.js';
import { toTensors, type SampleArrays } from '../../agents/samples.js';
import { agentSection, networkSection, ppoSection, type PpoConfig } from '../../src/config/schema.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';

function evaluate(net: ActorCritic, arrays: SampleArrays, withTaps: boolean) {
  const config = ppoSection.parse({ algo: 'ppo' });
  return tf.tidy(() => {
    const data = toTensors(net, arrays);
    const out = net.forward(data.obs);
    const { loss, grads } = lossAndGrads(() => ppoFusedLoss(net, net.forward(data.obs), data, config, () => {}), net.variables);
    let tapGrads: Float32Array[] = [];
    if (withTaps) {
      const taps = net.layers.map((l) => tf.zeros([data.n, l.outSize]) as tf.Tensor2D);
      tapGrads = tf
        .grads((...t: tf.Tensor[]) => {
          const r = net.forward(data.obs, t as tf.Tensor2D[]);
          const heads = tf.add(tf.sum(tf.square(r.policy!)), tf.sum(tf.mul(r.value!, r.value!)));
          return (r.logStd ? tf.add(heads, tf.sum(tf.square(r.logStd))) : heads) as tf.Scalar;
        })(taps)
        .map((g) => g.dataSync() as Float32Array);
    }
    return {
      policy: out.policy!.dataSync() as Float32Array,
      value: out.value!.dataSync() as Float32Array,
      loss: loss.dataSync()[0]!,
      grads: grads.map((g) => (g ? (g.dataSync() as Float32Array) : new Float32Array(0))),
      tapGrads,
    };
  });
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1e-3;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!) / scale);
  return max;
}

describe('wasm backend', () => {
  for (const [label, space, activation, obsShape] of [
    ['Discrete, tanh', new Discrete(3), 'tanh', [4]],
    ['Box, relu', new Box(-1, 1, [2]), 'relu', [4]],
    // The conv torso's im2col matmul with its own gradient (wasm has no Conv2DBackpropFilter).
    ['Discrete, conv torso', new Discrete(3), 'relu', [5, 4, 2]],
  ] as [string, Space, 'tanh' | 'relu', number[]][]) {
    it(`forward, loss gradients and tap gradients match the cpu backend (${label})`, async () => {
      await tf.setBackend('cpu');
      const rng = new Rng('wasm');
      const obsSize = obsShape.reduce((a, b) => a * b, 1);
      const torso = obsShape.length === 3 ? 'conv' : 'mlp';
      const net = new ActorCritic(obsSize, space, networkSection.parse({ torso, hidden: [32, 32], activation, policyGain: 1 }), rng, { value: true, obsShape });
      const n = 50;
      const actionSize = space instanceof Box ? space.size : 1;
      const arrays: SampleArrays = {
        obs: Float32Array.from({ length: n * obsSize }, () => rng.normal()),
        actions: Float32Array.from({ length: n * actionSize }, () => (space instanceof Discrete ? rng.int(space.n) : rng.normal())),
        advantages: Float32Array.from({ length: n }, () => rng.normal()),
        returns: Float32Array.from({ length: n }, () => rng.normal()),
        oldLogProbs: Float32Array.from({ length: n }, () => -1 + 0.3 * rng.normal()),
        oldValues: Float32Array.from({ length: n }, () => rng.normal()),
      };
      const onCpu = evaluate(net, arrays, true);
      await tf.setBackend('wasm');
      const onWasm = evaluate(net, arrays, true);
      assert.ok(maxRelDiff(onWasm.policy, onCpu.policy) < 1e-5, `policy ${maxRelDiff(onWasm.policy, onCpu.policy)}`);
      assert.ok(maxRelDiff(onWasm.value, onCpu.value) < 1e-5, `value ${maxRelDiff(onWasm.value, onCpu.value)}`);
      assert.ok(Math.abs(onWasm.loss - onCpu.loss) < 1e-5 * Math.max(1, Math.abs(onCpu.loss)), `loss ${onWasm.loss} vs ${onCpu.loss}`);
      onCpu.grads.forEach((g, k) => assert.ok(maxRelDiff(onWasm.grads[k]!, g) < 1e-4, `${net.variables[k]!.name}: ${maxRelDiff(onWasm.grads[k]!, g)}`));
      onCpu.tapGrads.forEach((g, k) => assert.ok(maxRelDiff(onWasm.tapGrads[k]!, g) < 1e-4, `tap ${k}: ${maxRelDiff(onWasm.tapGrads[k]!, g)}`));
      const plain = new PlainForward(net);
      const policy = new Float64Array(n * net.actionDim);
      const value = new Float64Array(n);
      plain.both(arrays.obs, n, policy, value);
      assert.ok(maxRelDiff(policy, onWasm.policy) < 1e-5, `plain vs wasm policy ${maxRelDiff(policy, onWasm.policy)}`);
      assert.ok(maxRelDiff(value, onWasm.value) < 1e-5, `plain vs wasm value ${maxRelDiff(value, onWasm.value)}`);
      net.dispose();
    });
  }

  it('keeps the tensor count flat over PPO updates', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const env = makeEnv('CartPole-v1', { numEnvs: 2 });
    env.reset(1);
    const agent = createPpoAgent(agentSection.parse({ algo: 'ppo', numSteps: 32 }) as PpoConfig, env, new Rng(1));
    const counts: number[] = [];
    for (let u = 0; u < 10; u++) {
      const batch = agent.collect();
      agent.noiseProbe(batch);
      agent.learn(batch, u / 10);
      counts.push(tf.memory().numTensors);
    }
    agent.dispose();
    assert.ok(counts.every((c) => c === counts[0]), `tensor counts drift: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, before);
  });
});
