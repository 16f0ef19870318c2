/**
 * The written-out PPO update (agents/dense-backward.ts): the gradients and readout of the taped fused loss, to the
 * bit, on wasm and cpu, for every dense net shape PPO builds; and fewer kernels per minibatch on wasm.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { writtenOut } from '../../agents/dense-backward.js';
import { lossAndGrads } from '../../agents/gradient-step.js';
import { ActorCritic } from '../../agents/networks.js';
import { ppoFusedLoss, ppoWrittenOutGrads, type PpoLossReadout } from '../../agents/ppo.js';
import { toTensors } from '../../agents/samples.js';
import { ppoSection } from '../../src/config/schema.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';
import { restoreBackendAfterSuite } from '../helpers/backend.js';
import { ppoCase } from '../helpers/ppo-samples.js';

function setup(space: Space, network: Record<string, unknown>) {
  const { net, samples } = ppoCase('written-out', space, network);
  return { net, data: toTensors(net, samples) };
}

type Result = { grads: Float32Array[]; readout: PpoLossReadout; kernels: number };

async function gradients(net: ActorCritic, data: ReturnType<typeof toTensors>, how: 'tape' | 'written-out', clipVloss: boolean): Promise<Result> {
  const config = ppoSection.parse({ algo: 'ppo', clipVloss, entCoef: 0.05, vfCoef: 0.7, clipCoef: 0.2 });
  let readout: PpoLossReadout | null = null;
  let grads: Float32Array[] = [];
  const keep = (r: PpoLossReadout) => (readout = { ...r, logRatio: r.logRatio.slice() });
  const info = await tf.profile(() => {
    tf.tidy(() => {
      const g =
        how === 'tape'
          ? lossAndGrads(() => ppoFusedLoss(net, net.forward(data.obs), data, config, keep), net.variables).grads
          : ppoWrittenOutGrads(net, data, config, keep);
      grads = g.map((t) => t!.dataSync() as Float32Array);
    });
    return [];
  });
  return { grads, readout: readout!, kernels: info.kernels.length };
}

const CASES: readonly [string, Space, Record<string, unknown>][] = [
  ['categorical, separate 64-64 tanh (cartpole-ppo)', new Discrete(2), { hidden: [64, 64] }],
  ['categorical, shared trunk, relu', new Discrete(3), { hidden: [16, 8], shared: true, activation: 'relu' }],
  ['categorical, no hidden layer', new Discrete(3), { hidden: [] }],
  ['Gaussian, separate tanh', new Box(-1, 1, [2]), { hidden: [16, 16] }],
  ['Gaussian, shared trunk', new Box(-1, 1, [1]), { hidden: [8], shared: true }],
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`written-out PPO gradients on ${backend}`, () => {
    restoreBackendAfterSuite();
    for (const [label, space, network] of CASES) {
      for (const clipVloss of [true, false]) {
        it(`equal the tape's to the bit: ${label}, clipVloss ${clipVloss}`, async () => {
          await tf.setBackend(backend);
          const { net, data } = setup(space, network);
          assert.ok(writtenOut(net));
          const tape = await gradients(net, data, 'tape', clipVloss);
          const direct = await gradients(net, data, 'written-out', clipVloss);
          assert.equal(direct.grads.length, net.variables.length);
          net.variables.forEach((v, k) => {
            assert.deepEqual(direct.grads[k]!.length, v.size, v.name);
            const a = direct.grads[k]!;
            const b = tape.grads[k]!;
            for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${v.name}[${i}]: ${a[i]} vs ${b[i]}`);
            assert.ok(b.some((x) => x !== 0), `${v.name} has a gradient`);
          });
          assert.deepEqual(direct.readout, tape.readout);
          // The tape's Identity per op and zero gradient of the observations go (170 → 144 kernels on wasm here).
          if (backend === 'wasm' && label.includes('cartpole')) {
            assert.ok(direct.kernels <= tape.kernels - 20, `kernels ${direct.kernels} vs the tape's ${tape.kernels}`);
          }
          tf.dispose(Object.values(data).filter((t) => t instanceof tf.Tensor));
          net.dispose();
        });
      }
    }

    it('leaves no tensor behind', async () => {
      await tf.setBackend(backend);
      const { net, data } = setup(new Discrete(2), { hidden: [64, 64] });
      const config = ppoSection.parse({ algo: 'ppo' });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) tf.tidy(() => void ppoWrittenOutGrads(net, data, config, () => {}));
      assert.equal(tf.memory().numTensors, before);
      tf.dispose(Object.values(data).filter((t) => t instanceof tf.Tensor));
      net.dispose();
    });
  });
}
