import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/core/rng.js';

describe('Rng', () => {
  it('continues exactly from a saved state, the cached normal included', () => {
    const a = new Rng('state');
    for (let i = 0; i < 7; i++) a.uniform();
    a.normal(); // leaves the second normal cached
    const b = new Rng('another seed');
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    const next = (r: Rng) => [r.normal(), r.uniform(), r.normal(), r.int(1000)];
    assert.deepEqual(next(b), next(a));
  });

  it('is reproducible per seed and differs across seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, (() => { const r = new Rng(seed); return () => r.uniform(); })());
    assert.deepEqual(draw(1), draw(1));
    assert.notDeepEqual(draw(1), draw(2));
  });

  it('splits into named streams that do not depend on how much the parent drew', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    for (let i = 0; i < 100; i++) b.uniform();
    assert.equal(a.split('env').uniform(), b.split('env').uniform());
    assert.notEqual(a.split('env').uniform(), a.split('init').uniform());
  });

  it('draws uniform, integer and normal values with the right moments', () => {
    const rng = new Rng('moments');
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    const counts = new Array<number>(4).fill(0);
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
      counts[rng.int(4)]! += 1;
      const u = rng.range(2, 3);
      assert.ok(u >= 2 && u < 3);
    }
    assert.ok(Math.abs(sum / n) < 0.01, `normal mean ${sum / n}`);
    assert.ok(Math.abs(sumSq / n - 1) < 0.02, `normal variance ${sumSq / n}`);
    for (const c of counts) assert.ok(Math.abs(c / n - 0.25) < 0.01);
  });

  it('permutes every element exactly once', () => {
    const perm = new Rng(3).permutation(1000);
    assert.deepEqual([...perm].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.notDeepEqual([...perm], Array.from({ length: 1000 }, (_, i) => i));
  });
});
