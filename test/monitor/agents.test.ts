/**
 * The monitor on the agents' real NoiseProbes: the fast path accepts their hand-derived factors (no fallback, the
 * autodiff self-check passed), agrees with the per-group autodiff fallback for every grouping, B_noise runs on them
 * (curvature checks passed), and nothing leaves tensors behind or moves the parameters.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createAgent } from '../../agents/index.js';
import { agentSection, monitorSection } from '../../src/config/schema.js';
import { NoiseMonitor } from '../../src/monitor/monitor.js';
import { makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

describe('NoiseMonitor on agent probes', () => {
  for (const [label, envId, agent] of [
    ['PPO, CartPole, separate nets', 'CartPole-v1', { algo: 'ppo', numSteps: 16, network: { hidden: [16, 16] } }],
    ['PPO, CartPole, shared trunk', 'CartPole-v1', { algo: 'ppo', numSteps: 16, network: { hidden: [16, 16], shared: true } }],
    ['A2C, Pendulum (Gaussian log-std)', 'Pendulum-v1', { algo: 'a2c', numSteps: 8, network: { hidden: [16] } }],
    ['REINFORCE, CartPole', 'CartPole-v1', { algo: 'reinforce', numSteps: 32, network: { hidden: [16] } }],
    // Conv layers: explicit per-sample gradients in the fast path, and explicit layers in B_noise's curvature passes.
    ['PPO, Breakout-MinAtar, conv torso', 'Breakout-MinAtar-v0', { algo: 'ppo', numSteps: 8, network: { torso: 'conv', hidden: [16], activation: 'relu' } }],
  ] as const) {
    it(`${label}: fast path used and equal to the fallback, for every grouping`, () => {
      const env = makeEnv(envId, { numEnvs: 4 });
      env.reset(1);
      const learner = createAgent(agentSection.parse(agent), env, new Rng(2));
      learner.learn(learner.collect(), 0);
      for (const grouping of ['block', 'sample', 'segment', 'episode'] as const) {
        // Block length fixed: the fallback measures no autocorrelation, and both must use the same groups here.
        const settings = { grouping, every: 1, preconditioned: true, perLayer: true, blockSteps: 4, bNoise: grouping === 'block', bNoiseEvery: 1, bNoiseUnits: 3 };
        const warnings: string[] = [];
        const fast = new NoiseMonitor(monitorSection.parse({ ...settings, method: 'fast' }), { onWarning: (m) => warnings.push(m) });
        const slow = new NoiseMonitor(monitorSection.parse({ ...settings, method: 'fallback' }));
        const counts: number[] = [];
        for (let update = 1; update <= 3; update++) {
          const batch = learner.collect();
          const probe = learner.noiseProbe(batch);
          // The probe creates (and owns) its preconditioner tensors on first request: do that before counting.
          for (const c of Object.values(probe.components)) for (const v of c!.variables) probe.preconditioner?.(v);
          const net = (learner as unknown as { net: { variables: readonly tf.Variable[] } }).net;
          const params = net.variables.map((v) => Float32Array.from(v.dataSync()));
          const before = tf.memory().numTensors;
          const a = fast.measure(probe, { update, envSteps: update * probe.n });
          const b = slow.measure(probe, { update, envSteps: update * probe.n });
          // B_noise's curvature probe keeps tensors of its own (reference log-probs, gathered halves) until the probe is disposed.
          if (!settings.bNoise) assert.equal(tf.memory().numTensors, before, `${label}/${grouping}: the monitor left ${tf.memory().numTensors - before} tensors behind`);
          net.variables.forEach((v, i) => assert.deepEqual(Float32Array.from(v.dataSync()), params[i], `${label}: B_noise must restore ${v.name} exactly`));
          const relevant = warnings.filter((w) => !/groups \(< 16\)|cannot make/.test(w));
          assert.deepEqual(relevant, [], `${label}/${grouping}: ${relevant.join('; ')}`);
          assert.deepEqual(a.map((r) => r.method), a.map(() => 'fast'));
          if (settings.bNoise && !warnings.some((w) => /cannot make/.test(w))) {
            for (const row of a.filter((r) => r.component !== 'total')) assert.ok(Number.isFinite(row.g_h_g) && Number.isFinite(row.trace_h_sigma), `${label}: ${row.component} B_noise parts`);
          }
          a.forEach((row, i) => {
            const other = b[i]!;
            for (const key of ['grad_sq', 'trace_sigma', 'pre_grad_sq', 'pre_trace_sigma'] as const) {
              const scale = Math.abs(other.trace_sigma) + Math.abs(other.pre_trace_sigma);
              // NaN on both sides is fine: fewer than 2 groups (e.g. one REINFORCE episode) have no estimate.
              const same = (Number.isNaN(row[key]) && Number.isNaN(other[key])) || Math.abs(row[key] - other[key]) <= 1e-3 * scale;
              assert.ok(same, `${label}/${grouping}/${row.component}.${key}: ${row[key]} vs ${other[key]}`);
            }
          });
          learner.learn(batch, update / 10);
          counts.push(tf.memory().numTensors);
        }
        assert.ok(counts.every((c) => c === counts[0]), `${label}/${grouping}: tensors after each update (probe released): ${counts.join(', ')}`);
      }
      learner.dispose();
    });
  }
});
