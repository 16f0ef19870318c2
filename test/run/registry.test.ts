/** The env registry: built-ins, ids and suggestions, params, and user env modules. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, EnvFaultError, InvalidValueError, UnknownIdError } from '../../src/core/errors.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { envIds, getEnvSpec, loadEnvModule, makeEnv, resolveEnvParams } from '../../src/run/registry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
    assert.equal(resolveEnvParams(spec, 0).rewardNoise, 0);
    const level = spec.levels[2]!;
    assert.equal(resolveEnvParams(spec, 2).rewardNoise, level.rewardNoise);
    assert.equal(resolveEnvParams(spec, 2, { rewardNoise: 0.05 }).rewardNoise, 0.05);
    // A named ladder: v1 is the round-one ladder.
    assert.equal(resolveEnvParams(spec, 2, {}, 'env', 'v1').forceNoise, spec.variants!.v1!.levels[2]!.forceNoise);
    assert.equal(resolveEnvParams(spec, 2, {}, 'env', 'v1').rewardNoise, 0);
    assert.equal(resolveEnvParams(spec, 2, {}, 'env', 'v2').rewardNoise, level.rewardNoise);
    assert.throws(
      () => resolveEnvParams(spec, 2, {}, 'env', 'v3'),
      (e: unknown) => e instanceof UnknownIdError && e.path === 'env.ladder' && /unknown ladder of CartPole-v1.*Known: v2, v1/.test(e.message),
    );
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

describe('registry: user env modules', () => {
  /** A folder outside the repo with no package.json: Node's rule makes its `.ts` files CommonJS. */
  function plainFolder(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-userenv-'));
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  }
  const src = (file: string) => JSON.stringify(pathToFileURL(path.join(repo, 'src', file)).href);

  it('loads an ESM .ts module from a folder without "type": "module", with one copy of gradnoise', async () => {
    const dir = plainFolder({
      // A relative import of a .ts file in the same folder (TypeScript's .js spelling) is loaded as ESM too.
      'spaces.ts': `import { Box } from ${src('core/spaces.ts')};\nexport const actions = () => new Box(-1, 1, [1]);\n`,
      'env.ts': [
        `import { defineSimpleEnv } from ${src('core/simple-env.ts')};`,
        `import { Box } from ${src('core/spaces.ts')};`,
        "import { actions } from './spaces.js';",
        'export default defineSimpleEnv({',
        "  id: 'PlainFolder-v0', summary: 'fixture', params: {}, levels: [{}, {}, {}, {}, {}], ladder: 'none', maxEpisodeSteps: 5,",
        '  observationSpace: () => new Box(-1, 1, [1]), actionSpace: actions,',
        '  create: () => ({ reset: () => [0], step: (a: number | Float32Array) => ({ obs: [0], reward: a instanceof Float32Array && a[0]! > 2 ? NaN : 1, terminated: false }) }),',
        '});',
      ].join('\n'),
    });
    const spec = await loadEnvModule('env.ts', dir);
    assert.equal(spec.id, 'PlainFolder-v0');
    const env = makeEnv('PlainFolder-v0', { numEnvs: 2 });
    assert.ok(env.actionSpace instanceof Box, 'the module shares our classes (agents test `instanceof Box`)');
    env.reset(1);
    assert.deepEqual(Array.from(env.step([0.5, 0.5]).rewards), [1, 1]);
    // Not a built-in, so it runs behind the output check.
    assert.throws(() => env.step([0.5, 3]), (e: unknown) => e instanceof EnvFaultError && /^PlainFolder-v0: step 2, copy 1: reward is not a finite number \(got NaN\)$/.test(e.message));
  });

  it('a module inside the repo that imports our sources by relative path shares them too', async () => {
    await loadEnvModule('envs/examples/random-walk.ts', repo);
    const env = makeEnv('RandomWalk-v0', { numEnvs: 1 });
    assert.ok(env.actionSpace instanceof Discrete);
    assert.throws(() => makeEnv('RandomWalk-v0', { params: { length: 2 } }), InvalidValueError);
  });

  it('reports a module that cannot load on one line, naming env.module', async () => {
    const dir = plainFolder({ 'broken.ts': 'export default {\n  id: \n' });
    await assert.rejects(loadEnvModule('broken.ts', dir), (e: unknown) => e instanceof ConfigError && e.path === 'env.module' && /cannot load module/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(loadEnvModule('missing.ts', dir), (e: unknown) => e instanceof ConfigError && e.path === 'env.module');
  });

  it('looks env params up as own properties only', () => {
    const spec = getEnvSpec('CartPole-v1');
    for (const overrides of [{ toString: 1 }, { constructor: 1 }, { hasOwnProperty: 1 }, JSON.parse('{"__proto__": 1}') as Record<string, unknown>]) {
      const name = Object.keys(overrides)[0]!;
      assert.throws(() => resolveEnvParams(spec, 0, overrides), (e: unknown) => e instanceof UnknownIdError && e.path === `env.params.${name}`, name);
    }
  });
});
