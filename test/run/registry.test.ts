import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidValueError, UnknownIdError } from '../../src/core/errors.js';
import { envIds, getEnvSpec, makeEnv, resolveEnvParams } from '../../src/run/registry.js';

describe('registry', () => {
  it('lists the built-in suite', () => {
    for (const id of ['CartPole-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Acrobot-v1', 'Pendulum-v1', 'GaussianBandit-v0', 'Catch-v0', 'DeepSea-v0', 'MemoryChain-v0', 'UmbrellaChain-v0']) {
      assert.ok(envIds().includes(id), id);
    }
  });

  it('suggests the closest id for an unknown one', () => {
    assert.throws(() => getEnvSpec('CartPol-v1'), (error: unknown) => {
      assert.ok(error instanceof UnknownIdError);
      assert.deepEqual(error.suggestions.slice(0, 1), ['CartPole-v1']);
      assert.match(error.message, /env\.id: unknown env; did you mean 'CartPole-v1'/);
      return true;
    });
  });

  it('resolves defaults, then the level, then explicit params', () => {
    const spec = getEnvSpec('CartPole-v1');
    assert.equal(resolveEnvParams(spec, 0).forceNoise, 0);
    const level = spec.levels[2]!;
    assert.equal(resolveEnvParams(spec, 2).forceNoise, level.forceNoise);
    assert.equal(resolveEnvParams(spec, 2, { forceNoise: 0.05 }).forceNoise, 0.05);
  });

  it('rejects bad levels and params naming the path and value', () => {
    const spec = getEnvSpec('CartPole-v1');
    assert.throws(() => resolveEnvParams(spec, 5), (e: unknown) => e instanceof InvalidValueError && /env\.level.*got 5/.test(e.message));
    assert.throws(() => resolveEnvParams(spec, 1.5), /env\.level/);
    assert.throws(() => resolveEnvParams(spec, 0, { massPole: -1 }), (e: unknown) => e instanceof InvalidValueError && e.path === 'env.params.massPole' && e.value === -1);
    assert.throws(() => resolveEnvParams(spec, 0, { massPole: 'heavy' }), /env\.params\.massPole: expected a finite number \(got 'heavy'\)/);
    assert.throws(() => resolveEnvParams(spec, 0, { masPole: 1 }), (e: unknown) => e instanceof UnknownIdError && /did you mean 'massPole'/.test(e.message));
    assert.throws(() => makeEnv('CartPole-v1', { numEnvs: 0 }), /env\.numEnvs/);
  });
});
