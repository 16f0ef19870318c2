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
});
