/** PPO's fused loss (agents/ppo.ts): the same loss and gradients as autodiff of the composite loss `ppoLoss`. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { categoricalTerms, gaussianTerms } from '../../agents/distributions.js';
import { lossAndGrads } from '../../agents/gradient-step.js';
import { ActorCritic } from '../../agents/networks.js';
import { ppoFusedLoss, ppoLoss } from '../../agents/ppo.js';
import { toTensors, type SampleArrays } from '../../agents/samples.js';
import { networkSection, ppoSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';
import { close } from '../helpers/close.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('ppoFusedLoss', () => {
  const build = (space: Space, shared: boolean) => {
    const rng = new Rng('fused');
    const obsSize = 3;
    const n = 40;
    const net = new ActorCritic(obsSize, space, networkSection.parse({ hidden: [8, 8], shared, policyGain: 1 }), rng.split('init'), { value: true });
    const actionSize = space instanceof Box ? space.size : 1;
    const arrays: SampleArrays = {
      obs: Float32Array.from({ length: n * obsSize }, () => rng.normal()),
      actions: Float32Array.from({ length: n * actionSize }, () => (space instanceof Discrete ? rng.int(space.n) : rng.normal())),
      advantages: Float32Array.from({ length: n }, () => rng.normal()),
      returns: Float32Array.from({ length: n }, () => rng.normal()),
      oldLogProbs: new Float32Array(n),
      oldValues: new Float32Array(n),
    };
    // Old log-probs and values far enough from the current ones that both clipped branches are hit.
    tf.tidy(() => {
      const out = net.forward(tf.tensor2d(arrays.obs, [n, obsSize]));
      const data = toTensors(net, arrays);
      const terms = space instanceof Discrete ? categoricalTerms(out.policy!, data.actions) : gaussianTerms(out.policy!, out.logStd!, data.actions);
      const logProb = terms.logProb.dataSync();
      const values = out.value!.dataSync();
      for (let i = 0; i < n; i++) {
        arrays.oldLogProbs[i] = logProb[i]! + 0.6 * rng.normal();
        arrays.oldValues[i] = values[i]! + 0.5 * rng.normal();
      }
    });
    return { net, arrays };
  };

  for (const [label, space, shared] of [
    ['categorical, separate', new Discrete(3), false],
    ['categorical, shared', new Discrete(2), true],
    ['Gaussian, separate', new Box(-1, 1, [2]), false],
  ] as const) {
    for (const clipVloss of [true, false]) {
      it(`has the loss and gradients of the composite PPO loss (${label}, clipVloss ${clipVloss})`, () => {
        const { net, arrays } = build(space, shared);
        const config = ppoSection.parse({ algo: 'ppo', clipVloss, entCoef: 0.05, vfCoef: 0.7, clipCoef: 0.2 });
        const data = toTensors(net, arrays);
        tf.tidy(() => {
          let readout: { total: number; policyLoss: number; valueLoss: number; entropy: number; logRatio: Float32Array } | null = null;
          const fused = lossAndGrads(() => ppoFusedLoss(net, net.forward(data.obs), data, config, (r) => (readout = r)), net.variables);
          const reference = ppoLoss(net, data, config);
          const auto = lossAndGrads(() => ppoLoss(net, data, config).total, net.variables);
          close(fused.loss.dataSync()[0]!, auto.loss.dataSync()[0]!, 1e-5, 'loss');
          close(readout!.total, auto.loss.dataSync()[0]!, 1e-5, 'readout total');
          close(readout!.policyLoss, reference.policy.dataSync()[0]!, 1e-5, 'policy');
          close(readout!.valueLoss, reference.value.dataSync()[0]!, 1e-5, 'value');
          close(readout!.entropy, reference.entropy.dataSync()[0]!, 1e-5, 'entropy');
          const logRatio = reference.logRatio.dataSync();
          const clippedCount = Array.from(logRatio).filter((l) => Math.abs(Math.exp(l) - 1) > 0.2).length;
          assert.ok(clippedCount > 5 && clippedCount < 35, `test batch should mix clipped and unclipped samples (${clippedCount})`);
          net.variables.forEach((v, k) => {
            const a = fused.grads[k]!.dataSync();
            const b = auto.grads[k]!.dataSync();
            const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
            a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-4 * scale, `${v.name}[${i}]: ${x} vs ${b[i]}`));
          });
        });
        tf.dispose(Object.values(data).filter((t) => t instanceof tf.Tensor));
        net.dispose();
      });
    }
  }
});
