/** The memory estimate: its arithmetic on a config worked by hand, and the refusals it leads to. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { checkRunFits, envDims, estimateRunBytes, formatBytes, MAX_BUFFER_ELEMENTS } from '../../src/run/memory.js';
import { makeEnv } from '../../src/run/registry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CARTPOLE = { obsSize: 4, actionSize: 1, policyOutputs: 2 };
const GiB = 2 ** 30;

function ppo(set: { numEnvs?: number; numSteps?: number; hidden?: number[]; shared?: boolean } = {}) {
  return parseConfig({
    env: { id: 'CartPole-v1', numEnvs: set.numEnvs ?? 4 },
    agent: { algo: 'ppo', numSteps: set.numSteps ?? 128, network: { hidden: set.hidden ?? [64, 64], shared: set.shared ?? false } },
    run: { totalSteps: Number.MAX_SAFE_INTEGER },
  });
}

describe('memory estimate', () => {
  it('adds up the parts of a CartPole PPO run as worked by hand', () => {
    const estimate = estimateRunBytes(ppo(), CARTPOLE);
    const bytes = Object.fromEntries(estimate.parts.map((p) => [p.name, p.bytes]));
    // 4 copies × (obs+finalObs 8·4 + 22, acting input 8·4, two float64 layer buffers 16·64, actions 8·1)
    assert.equal(bytes['env and acting buffers'], 4 * (54 + 32 + 1024 + 8));
    // 512 samples × (12·obs + 8·action + 60)
    assert.equal(bytes['rollout buffers'], 512 * (48 + 8 + 60));
    // policy 4→64→64→2 has 4610 weights and biases, value 4→64→64→1 has 4545; 16 bytes each plus Adam's 8
    assert.equal(bytes['network parameters and optimizer state'], (4610 + 4545) * 24);
    // the monitor's pass over all 512 samples × 128 hidden units × 8 bytes × 2 towers
    assert.equal(bytes.activations, 512 * 128 * 8 * 2);
    assert.equal(estimate.total, 4472 + 59392 + 219720 + 1048576);
    assert.deepEqual(estimate.largestBuffer, { name: 'one layer of activations', elements: 512 * 64, path: 'agent.numSteps' });
  });

  it('counts the conv torso: its patches and outputs per sample and tower, and the dense stack on its 1,024 outputs', () => {
    const breakout = { obsSize: 400, actionSize: 1, policyOutputs: 3, obsShape: [10, 10, 4] };
    const raw = (torso: 'mlp' | 'conv') =>
      parseConfig({
        env: { id: 'Breakout-MinAtar-v0', numEnvs: 64 },
        agent: { algo: 'ppo', numSteps: 128, network: { torso, hidden: [128], activation: 'relu' } },
        run: { totalSteps: Number.MAX_SAFE_INTEGER },
      });
    const part = (e: ReturnType<typeof estimateRunBytes>, name: string) => e.parts.find((p) => p.name === name)!.bytes;
    const mlp = estimateRunBytes(raw('mlp'), breakout);
    const conv = estimateRunBytes(raw('conv'), breakout);
    // 8,192 samples (the monitor's pass) × 2 towers × 64 positions × (36 patch floats + 16 outputs and their gradients)
    assert.equal(part(conv, 'activations') - part(mlp, 'activations'), 8192 * 2 * 64 * (4 * 36 + 8 * 16));
    // dense 1024 → 128 → 3 and 1024 → 128 → 1 instead of 400 → ..., plus two 3×3×4×16 kernels with biases
    const params = (1024 * 128 + 128 + 128 * 3 + 3) + (1024 * 128 + 128 + 128 + 1) + 2 * (36 * 16 + 16);
    assert.equal(part(conv, 'network parameters and optimizer state'), params * 24);
  });

  it('scales with what it counts', () => {
    const base = estimateRunBytes(ppo(), CARTPOLE);
    const wide = estimateRunBytes(ppo({ numEnvs: 8 }), CARTPOLE);
    const rollout = (e: typeof base) => e.parts.find((p) => p.name === 'rollout buffers')!.bytes;
    assert.equal(rollout(wide), 2 * rollout(base));
    const shared = estimateRunBytes(ppo({ shared: true }), CARTPOLE);
    assert.ok(shared.total < base.total, 'one tower instead of two');
  });

  it('refuses what cannot fit, naming the path that drives it, the estimate and the limit', () => {
    assert.throws(
      () => checkRunFits(ppo({ numEnvs: 1e9 }), CARTPOLE, 16 * GiB),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.path === 'env.numEnvs' &&
        error.value === 1e9 &&
        /this run needs at least [\d.]+ [KMGTP]iB \(activations [\d.]+ [KMGTP]iB, .*rollout buffers .*\), more than the 16\.0 GiB of memory here/.test(error.message),
    );
    assert.throws(() => checkRunFits(ppo({ numSteps: 1e8 }), CARTPOLE, 16 * GiB), (e: unknown) => e instanceof ConfigError && e.path === 'agent.numSteps');
    assert.throws(
      () => checkRunFits(ppo({ hidden: [1e6, 1e6] }), CARTPOLE, 16 * GiB),
      (e: unknown) => e instanceof ConfigError && e.path === 'agent.network.hidden' && /needs at least 43\.7 TiB \(network parameters and optimizer state 43\.7 TiB\)/.test(e.message),
    );
    // On a machine big enough for the total, one buffer can still be too large for JavaScript.
    assert.throws(
      () => checkRunFits(ppo({ hidden: [1e6, 1e6] }), CARTPOLE, 2 ** 60),
      (e: unknown) => e instanceof ConfigError && e.path === 'agent.network.hidden' && /a weight matrix \(float64 copy\) would need one buffer of 1\.00e\+12 values; JavaScript holds at most/.test(e.message),
    );
    assert.ok(MAX_BUFFER_ELEMENTS >= 2 ** 31);
    assert.ok(checkRunFits(ppo(), CARTPOLE, 16 * GiB).total < 2 * 2 ** 20);
  });

  it('lets every shipped config run in well under 1 GiB', () => {
    const dir = path.join(repo, 'configs');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 4);
    for (const file of files) {
      const config = loadConfig(path.join(dir, file));
      const env = makeEnv(config.env.id, { numEnvs: 1, level: config.env.level, params: config.env.params });
      const estimate = checkRunFits(config, envDims(env), GiB / 4);
      assert.ok(estimate.total > 0, file);
    }
  });

  it('formats sizes in binary units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(16 * GiB), '16.0 GiB');
    assert.equal(formatBytes(3e18), '2665 PiB');
  });
});
