import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeEnv } from '../../src/run/registry.js';
import { benchConfig, useBackend } from '../../src/bench/setup.js';
import { PHASES, profilePhases, profileRow, timedEnv, type PhaseProfile } from '../../src/bench/train-profile.js';

describe('bench train profile', () => {
  it('timedEnv steps the same env, counts the time in step and passes everything else through', () => {
    const plain = makeEnv('CartPole-v1', { numEnvs: 3 });
    const inner = makeEnv('CartPole-v1', { numEnvs: 3 });
    const elapsed = { ms: 0 };
    const wrapped = timedEnv(inner, elapsed);
    plain.reset(7);
    wrapped.reset(7);
    assert.equal(wrapped.numEnvs, 3);
    assert.equal(wrapped.id, 'CartPole-v1');
    for (let t = 0; t < 200; t++) {
      const actions = [t % 2, (t >> 1) % 2, 1];
      const a = plain.step(actions);
      const b = wrapped.step(actions);
      assert.deepEqual(Array.from(b.obs), Array.from(a.obs));
      assert.deepEqual(Array.from(b.rewards), Array.from(a.rewards));
    }
    assert.ok(elapsed.ms > 0);
    assert.equal(wrapped.drainEpisodes().length, plain.drainEpisodes().length);
  });

  it('times every phase of tiny PPO updates and counts the rollout matMul FLOPs from the layer sizes', async () => {
    assert.ok((await useBackend('cpu', false)).ok);
    const { config } = benchConfig(['env.numEnvs=2', 'agent.numSteps=16', 'agent.network.hidden=[8]', 'monitor.enabled=false']);
    const profile = await profilePhases(config, 1, 3);
    assert.equal(profile.batch, 32);
    assert.equal(profile.updates, 2, 'the last update is profiled for FLOPs, not timed');
    for (const phase of PHASES) assert.ok(Number.isFinite(profile.ms[phase]) && profile.ms[phase] >= 0, `${phase}: ${profile.ms[phase]}`);
    assert.equal(profile.ms.monitor < 1, true, 'monitor off costs nothing');
    assert.ok(profile.ms.update > 0 && profile.ms.env > 0 && profile.ms.bookkeeping > 0);
    // CartPole: 4 inputs, 2 logits. Policy 4→8→2, critic 4→8→1: 2·(32 + 16) + 2·(32 + 8) = 176 FLOPs per sample.
    assert.equal(profile.flops.rollout, 32 * 176);
    // Each of the 4 epochs runs every sample forward once (176) and backward (more): between 1× and 4× the forward work.
    const forwardPerEpochs = 4 * 32 * 176;
    assert.ok(profile.flops.learn >= forwardPerEpochs && profile.flops.learn <= 4 * forwardPerEpochs, `learn FLOPs ${profile.flops.learn}`);
    assert.equal(profile.flops.perEnvStep, (profile.flops.learn + profile.flops.rollout) / 32);
  });

  it('unaccounted time is the trainer time beyond the profiled loop, and fractions are of the machine rate', () => {
    const phases: PhaseProfile = {
      ms: { env: 1, acting: 2, advantages: 0.5, update: 4, monitor: 0, bookkeeping: 0.5 },
      totalMs: 8,
      updates: 5,
      warmupUpdates: 1,
      batch: 100,
      flops: { learn: 4e6, rollout: 1e6, perEnvStep: 5e4 },
    };
    const row = profileRow('wasm', phases, 9, { denseShapeGflops: 2, squareGflops: 10, gflops: 10 });
    assert.equal(row.unaccountedMs, 1);
    // Loop: 5e6 FLOPs in 8 ms = 0.625 GFLOP/s of 10; update: 4e6 in 4 ms = 1 GFLOP/s of 10.
    assert.ok(Math.abs(row.fractionOfLimit.loop - 0.0625) < 1e-12);
    assert.ok(Math.abs(row.fractionOfLimit.update - 0.1) < 1e-12);
  });
});
