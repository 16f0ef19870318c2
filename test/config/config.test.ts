/** Config loading: defaults, path-and-value errors, overrides, and the checks that span sections. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverrides, parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';

const base = { env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo' } };

describe('config', () => {
  it('fills defaults per algorithm', () => {
    const ppo = parseConfig(base);
    assert.equal(ppo.agent.algo, 'ppo');
    assert.equal(ppo.agent.lr, 2.5e-4);
    assert.equal(ppo.monitor.enabled, true);
    const a2c = parseConfig({ ...base, agent: { algo: 'a2c' } });
    assert.equal(a2c.agent.numSteps, 5);
    assert.equal(a2c.agent.optimizer.type, 'rmsprop');
    assert.ok(Object.isFrozen(ppo.agent.network.hidden), 'resolved config is frozen');
  });

  it('rejects unknown keys and bad values with the path and the value', () => {
    const cases: [unknown, string, unknown][] = [
      [{ ...base, extra: 1 }, 'extra', 1],
      [{ ...base, env: { id: 'CartPole-v1', numEnvs: 0 } }, 'env.numEnvs', 0],
      [{ ...base, agent: { algo: 'ppo', lr: -1 } }, 'agent.lr', -1],
      [{ ...base, agent: { algo: 'a2c', clipCoef: 0.1 } }, 'agent.clipCoef', 0.1],
      [{ ...base, agent: { algo: 'dqn' } }, 'agent.algo', 'dqn'],
      [{ ...base, monitor: { grouping: 'batches' } }, 'monitor.grouping', 'batches'],
      [{ ...base, env: { id: 'CartPole-v1', wrappers: [{ type: 'rewardNoise', std: -1 }] } }, 'env.wrappers.0.std', -1],
    ];
    for (const [raw, path, value] of cases) {
      assert.throws(() => parseConfig(raw), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.path, path);
        assert.deepEqual(error.value, value);
        return true;
      });
    }
  });

  it('applies --set overrides, parsing JSON values', () => {
    const config = applyOverrides(base, { set: ['agent.lr=0.001', 'env.id=Acrobot-v1', 'agent.network.hidden=[32,32]'], seed: 9 });
    assert.equal(config.agent.lr, 0.001);
    assert.equal(config.env.id, 'Acrobot-v1');
    assert.deepEqual(config.agent.network.hidden, [32, 32]);
    assert.equal(config.run.seed, 9);
    assert.throws(() => applyOverrides(base, { set: ['agent.lr'] }), /--set: expected path=value/);
    assert.throws(() => applyOverrides(base, { set: ['env.id.x=1'] }), /'id' is not a section/);
  });

  it('refuses what would train something else than asked, naming the path and the resolved value', () => {
    const refused: [Record<string, unknown>, string, unknown, RegExp][] = [
      [{ ...base, env: { id: 'CartPole-v1', module: '' } }, 'env.module', '', /must name a module file/],
      [{ ...base, run: { name: '../../escape' } }, 'run.name', '../../escape', /plain folder name inside results/],
      [{ ...base, run: { name: 'a/b' } }, 'run.name', 'a/b', /no '\/'/],
      [{ ...base, run: { name: '..' } }, 'run.name', '..', /plain folder name/],
      [{ ...base, agent: { algo: 'ppo', optimizer: { beta1: 1 } } }, 'agent.optimizer.beta1', 1, /must be < 1: Adam divides by 1 − beta1\^t/],
      [{ ...base, agent: { algo: 'ppo', optimizer: { beta2: 1 } } }, 'agent.optimizer.beta2', 1, /must be < 1/],
      [{ ...base, agent: { algo: 'a2c', optimizer: { decay: 1 } } }, 'agent.optimizer.decay', 1, /never leaves 0/],
      // 4 envs × 128 steps = 512 samples per update (PPO's default numSteps).
      [{ ...base, run: { totalSteps: 1 } }, 'run.totalSteps', 1, /less than one update's rollout \(env\.numEnvs × agent\.numSteps = 4 × 128 = 512 samples\)/],
      [{ ...base, agent: { algo: 'ppo', numMinibatches: 513 } }, 'agent.numMinibatches', 513, /more minibatches than samples/],
      [{ ...base, monitor: { grouping: 'microbatch', microBatch: 257 } }, 'monitor.microBatch', 257, /at least two micro-batches/],
      [{ ...base, agent: { algo: 'ppo', network: { hidden: Array(65).fill(8) } } }, 'agent.network.hidden', Array(65).fill(8), /at most 64 hidden layers/],
    ];
    for (const [raw, path, value, reason] of refused) {
      assert.throws(() => parseConfig(raw), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.path, path);
        assert.deepEqual(error.value, value);
        assert.match(error.message, reason);
        return true;
      });
    }
    // The limits themselves are accepted; totalSteps is rounded up to whole updates by the trainer, not here.
    const edge = parseConfig({ ...base, agent: { algo: 'ppo', numMinibatches: 512 }, monitor: { grouping: 'microbatch', microBatch: 256 }, run: { totalSteps: 513, name: 'my-run.v2' } });
    assert.equal(edge.run.totalSteps, 513);
    assert.equal(parseConfig({ ...base, monitor: { enabled: false, grouping: 'microbatch', microBatch: 10_000 } }).monitor.microBatch, 10_000, 'unused when the monitor is off');
  });

  it('refuses prototype keys and deep nesting before copying, leaving Object.prototype alone', () => {
    assert.throws(() => applyOverrides(base, { set: ['__proto__.polluted=1'] }), (e: unknown) => e instanceof ConfigError && e.path === '__proto__.polluted');
    assert.throws(() => applyOverrides(base, { set: ['env.params={"__proto__":{"polluted":1}}'] }), (e: unknown) => e instanceof ConfigError && e.path === 'env.params.__proto__');
    assert.throws(() => parseConfig(JSON.parse('{"env":{"id":"CartPole-v1","params":{"constructor":1}},"agent":{"algo":"ppo"}}')), (e: unknown) => e instanceof ConfigError && e.path === 'env.params.constructor');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const deep = JSON.parse(`{"env":{"id":"CartPole-v1"},"agent":{"algo":"ppo"},"meta":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`) as Record<string, unknown>;
    assert.throws(() => applyOverrides(deep, {}), (e: unknown) => e instanceof ConfigError && e.path.startsWith('meta.a.a.a') && /nested deeper than 32 levels/.test(e.message));
  });
});
