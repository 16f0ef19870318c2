/** Snapshots of live objects: exact numbers and bytes, shared references kept, missing objects rebuilt by class. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/rng.js';
import { encodeState, PrototypeIndex, restoreState } from '../../src/run/state-codec.js';

class Counter {
  count = 0;
  readonly buffer = new Float32Array(3);
  bump(): number {
    return ++this.count;
  }
}

class Holder {
  counters = new Map<string, Counter>();
  rng = new Rng(1);
  shared: { values: number[] } = { values: [] };
  alias = this.shared;
  spare: Float64Array = new Float64Array(1);
  onEvent = () => 1;
}

/** Through JSON text, as a checkpoint file goes. */
const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(encodeState(value)));

describe('state codec', () => {
  it('restores numbers exactly (NaN, ±Inf, -0, doubles), typed-array bits and Rng positions in place', () => {
    tf.setBackend('cpu');
    const live = new Holder();
    const bits = new Float32Array([Math.fround(0.1), -0, NaN, 3.4e38]);
    live.spare = new Float64Array([Math.PI, 1 / 3, -Infinity]);
    live.shared.values.push(0.1 + 0.2, NaN, Infinity, -0, 5e-324);
    const counter = new Counter();
    counter.buffer.set(bits.subarray(0, 3));
    counter.count = 7;
    live.counters.set('b', counter);
    live.counters.set('a', new Counter());
    live.rng.uniform();
    const saved = roundTrip(live);
    const expected = [live.rng.uniform(), live.rng.normal()];

    const fresh = new Holder();
    const freshShared = fresh.shared;
    const freshSpare = fresh.spare;
    restoreState(fresh, saved, new PrototypeIndex().add(fresh, new Counter()));
    assert.equal(fresh.shared, freshShared, 'objects are refilled in place');
    assert.equal(fresh.alias, fresh.shared, 'a shared reference stays shared');
    assert.deepEqual(fresh.shared.values, [0.1 + 0.2, NaN, Infinity, -0, 5e-324]);
    assert.ok(Object.is(fresh.shared.values[3], -0));
    assert.notEqual(fresh.spare, freshSpare, 'a typed array of another length is replaced');
    assert.deepEqual([...fresh.spare], [Math.PI, 1 / 3, -Infinity]);
    assert.deepEqual([...fresh.counters.keys()], ['b', 'a'], 'Map order kept');
    const rebuilt = fresh.counters.get('b')!;
    assert.ok(rebuilt instanceof Counter, 'rebuilt with its class');
    assert.equal(rebuilt.bump(), 8);
    assert.deepEqual(new Uint8Array(rebuilt.buffer.buffer), new Uint8Array(new Float32Array(bits.subarray(0, 3)).buffer));
    assert.equal(typeof fresh.onEvent, 'function', 'functions are left alone');
    assert.deepEqual([fresh.rng.uniform(), fresh.rng.normal()], expected);
  });

  it('assigns variables, replaces tensors and leaks nothing', () => {
    tf.setBackend('cpu');
    const make = (seed: number) => ({ weight: tf.variable(tf.randomNormal([2, 3], 0, 1, 'float32', seed)), moments: tf.randomUniform([4], 0, 1, 'float32', seed) as tf.Tensor | null });
    const live = make(1);
    const saved = roundTrip(live);
    const fresh = make(2);
    fresh.moments!.dispose();
    fresh.moments = null;
    const variable = fresh.weight;
    const before = tf.memory().numTensors;
    restoreState(fresh, saved, new PrototypeIndex());
    assert.equal(fresh.weight, variable);
    assert.deepEqual(fresh.weight.dataSync(), live.weight.dataSync());
    assert.deepEqual(fresh.moments!.dataSync(), live.moments!.dataSync());
    assert.equal(tf.memory().numTensors, before + 1, 'one new tensor (the moments), no temporaries left');
    tf.dispose([live.weight, live.moments!, fresh.weight, fresh.moments!]);
  });

  it('refuses to rebuild an object whose class the fresh graph does not show', () => {
    const saved = roundTrip({ items: [new Counter()] });
    assert.throws(() => restoreState({ items: [] }, saved, new PrototypeIndex()), /cannot rebuild an object of class Counter/);
  });
});
