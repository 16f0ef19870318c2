/** JSON paths: reading and setting, and the guard against prototype keys and runaway nesting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { checkJsonTree, getPath, MAX_JSON_DEPTH, setPath } from '../../src/core/json-path.js';

function nested(depth: number): unknown {
  let node: unknown = 1;
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
}

function configError(path: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.path, path);
    return true;
  };
}

describe('json paths', () => {
  it('set creates sections, reads own properties only', () => {
    const target: Record<string, unknown> = { agent: { lr: 1 } };
    setPath(target, 'agent.network.hidden', [8]);
    assert.deepEqual(getPath(target, 'agent.network.hidden'), [8]);
    assert.equal(getPath(target, 'agent.toString'), undefined);
    assert.throws(() => setPath(target, 'agent.lr.x', 1), /'lr' is not a section/);
    assert.throws(() => setPath(target, 'agent..lr', 1), /malformed config path/);
  });

  it('refuses prototype keys in a path and leaves Object.prototype alone', () => {
    for (const path of ['__proto__.polluted', 'constructor.prototype.polluted', 'env.__proto__.x', 'env.params.constructor']) {
      assert.throws(() => setPath({ env: {} }, path, 1), (error: unknown) => error instanceof ConfigError && error.path === path && /'(__proto__|constructor|prototype)' is not allowed/.test(error.message));
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses prototype keys inside a value, naming where', () => {
    assert.throws(() => setPath({}, 'env.params', JSON.parse('{"__proto__":1}')), configError('env.params.__proto__'));
    assert.throws(() => setPath({}, 'env.params', { toString: 1, constructor: 2 }), configError('env.params.constructor'));
    assert.throws(() => checkJsonTree(JSON.parse('{"env":{"wrappers":[{"prototype":1}]}}')), configError('env.wrappers.0.prototype'));
  });

  it('bounds nesting, counting from the config root, before anything recurses', () => {
    checkJsonTree(nested(MAX_JSON_DEPTH));
    assert.throws(() => checkJsonTree(nested(MAX_JSON_DEPTH + 1)), configError(Array(MAX_JSON_DEPTH).fill('a').join('.')));
    assert.throws(() => checkJsonTree({ meta: nested(100_000) }), (error: unknown) => error instanceof ConfigError && error.path.startsWith('meta.a.a') && /nested deeper than 32 levels/.test(error.message));
    // An override's value is judged at its own depth.
    assert.throws(() => setPath({}, 'meta.x', nested(MAX_JSON_DEPTH)), /nested deeper/);
    // Wide is fine.
    checkJsonTree({ agent: { network: { hidden: Array(1_000_000).fill(1) } } });
  });
});
