/**
 * PPO's loss head in plain TS (agents/ppo-plain-head.ts) against the taped fused loss: the same gradients w.r.t. every
 * variable and the same readout, to float32 rounding, on wasm and cpu, for every dense net shape PPO builds, both
 * value-loss variants and both clipped branches; fewer kernels per minibatch; no tensor left behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { lossAndGrads } from '../../agents/gradient-step.js';
import { ActorCritic } from '../../agents/networks.js';
import { ppoPlainHeadGrads } from '../../agents/ppo-plain-head.js';
import { ppoFusedLoss, type PpoLossReadout } from '../../agents/ppo.js';
import { disposeTensors, toTensors, type SampleArrays } from '../../agents/samples.js';
import { ppoSection } from '../../src/config/schema.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';
import { restoreBackendAfterSuite } from '../helpers/backend.js';
import { PPO_CASE_ROWS, ppoCase } from '../helpers/ppo-samples.js';

const N = PPO_CASE_ROWS;
const setup = (space: Space, network: Record<string, unknown>) => ppoCase('plain-head', space, network);

type Result = { grads: Float32Array[]; readout: PpoLossReadout; kernels: number };

async function gradients(net: ActorCritic, samples: SampleArrays, how: 'tape' | 'plain', clipVloss: boolean): Promise<Result> {
  const config = ppoSection.parse({ algo: 'ppo', clipVloss, entCoef: 0.05, vfCoef: 0.7, clipCoef: 0.2 });
  let readout: PpoLossReadout | null = null;
  let grads: Float32Array[] = [];
  const keep = (r: PpoLossReadout) => (readout = { ...r, logRatio: r.logRatio.slice() });
  const data = how === 'tape' ? toTensors(net, samples) : null;
  const info = await tf.profile(() => {
    tf.tidy(() => {
      const g = data ? lossAndGrads(() => ppoFusedLoss(net, net.forward(data.obs), data, config, keep), net.variables).grads : ppoPlainHeadGrads(net, samples, config, keep);
      grads = g.map((t) => t!.dataSync() as Float32Array);
    });
    return [];
  });
  if (data) disposeTensors(data);
  return { grads, readout: readout!, kernels: info.kernels.length };
}

/** |a − b| within float32 rounding of the larger entries of b. */
function near(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, what);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 2e-6 * scale + 1e-9, `${what}[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
}

const CASES: readonly [string, Space, Record<string, unknown>][] = [
  ['categorical, separate 64-64 tanh (cartpole-ppo)', new Discrete(2), { hidden: [64, 64] }],
  ['categorical, shared trunk, relu', new Discrete(3), { hidden: [16, 8], shared: true, activation: 'relu' }],
  ['Gaussian, separate tanh', new Box(-1, 1, [2]), { hidden: [16, 16] }],
  ['Gaussian, shared trunk', new Box(-1, 1, [1]), { hidden: [8], shared: true }],
];

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`plain-TS PPO loss head on ${backend}`, () => {
    restoreBackendAfterSuite();
    for (const [label, space, network] of CASES) {
      for (const clipVloss of [true, false]) {
        it(`gives the tape's gradients and readout: ${label}, clipVloss ${clipVloss}`, async () => {
          await tf.setBackend(backend);
          const { net, samples } = setup(space, network);
          const tape = await gradients(net, samples, 'tape', clipVloss);
          const plain = await gradients(net, samples, 'plain', clipVloss);
          assert.equal(plain.grads.length, net.variables.length);
          net.variables.forEach((v, k) => {
            near(plain.grads[k]!, tape.grads[k]!, v.name);
            assert.ok(tape.grads[k]!.some((x) => x !== 0), `${v.name} has a gradient`);
          });
          for (const part of ['policyLoss', 'valueLoss', 'entropy', 'total'] as const) near([plain.readout[part]], [tape.readout[part]], part);
          near(plain.readout.logRatio, tape.readout.logRatio, 'logRatio');
          // Both surrogate branches are taken (otherwise the clipped one is not tested).
          const clipped = Array.from(tape.readout.logRatio).filter((x) => Math.abs(Math.exp(x) - 1) > 0.2).length;
          assert.ok(clipped > 0 && clipped < N, `clipped ${clipped} of ${N}`);
          if (backend === 'wasm' && label.includes('cartpole')) {
            assert.ok(plain.kernels <= tape.kernels - 60, `kernels ${plain.kernels} vs the tape's ${tape.kernels}`);
          }
          net.dispose();
        });
      }
    }

    it('leaves no tensor behind', async () => {
      await tf.setBackend(backend);
      const { net, samples } = setup(new Box(-1, 1, [2]), { hidden: [16, 16] });
      const config = ppoSection.parse({ algo: 'ppo' });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) tf.tidy(() => void ppoPlainHeadGrads(net, samples, config, () => {}));
      assert.equal(tf.memory().numTensors, before);
      net.dispose();
    });
  });
}
