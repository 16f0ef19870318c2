/**
 * Exact snapshots of live object graphs (the env, the agent, the noise monitor) for checkpoints, and their restoration
 * into a graph freshly built from the same config and seed.
 *
 * `encodeState` walks own properties and records what can change while training: numbers (doubles round-trip
 * through JSON exactly; NaN, ±∞ and −0 are tagged), strings, booleans, arrays, plain objects, Maps, Sets, typed
 * arrays (their bytes, base64), tfjs tensors and variables (their bytes, dtype and shape), `Rng` streams (their
 * generator state) and class instances (their fields, by class name). Functions are not state and are skipped; an
 * object reached a second time is recorded as a reference to the first.
 *
 * `restoreState` writes the snapshot back into the fresh graph in place, so that every shared reference (the env's
 * buffers, the network variables the optimizer also holds) stays shared: typed arrays are overwritten, variables
 * assigned, Rngs set, Maps, Sets and arrays refilled in the recorded order. Objects the fresh graph does not have yet
 * (a tracker the monitor creates at its first measurement) are rebuilt from the prototypes the fresh graph and the
 * caller's `samples` show; a class that cannot be found is an error, never silently a plain object.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng, type RngState } from '../core/rng.js';

export type Encoded = null | boolean | number | string | Encoded[] | Tagged;
type Tagged =
  | { $: 'num'; v: string }
  | { $: 'undef' }
  | { $: 'skip' }
  | { $: 'ref'; i: number }
  | { $: 'bytes'; type: string; b: string }
  | { $: 'tensor'; dtype: tf.DataType; shape: number[]; b: string }
  | { $: 'rng'; s: RngState }
  | { $: 'map'; e: [Encoded, Encoded][] }
  | { $: 'set'; e: Encoded[] }
  | { $: 'obj'; c: string | null; f: Record<string, Encoded> };

type TypedArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint8ClampedArray | Uint16Array | Uint32Array;

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => TypedArray> = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
};

function isTypedArray(value: object): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && value.constructor.name in TYPED_ARRAYS;
}

function base64(view: ArrayBufferView): string {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

function fromBase64(type: string, text: string): TypedArray {
  const Ctor = TYPED_ARRAYS[type];
  if (!Ctor) throw new Error(`checkpoint: unknown array type ${type}`);
  const bytes = Buffer.from(text, 'base64');
  return new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

function encodeNumber(value: number): Encoded {
  if (Number.isFinite(value) && !Object.is(value, -0)) return value;
  return { $: 'num', v: Object.is(value, -0) ? '-0' : String(value) };
}

function decodeNumber(text: string): number {
  return text === '-0' ? -0 : Number(text);
}

function className(value: object): string | null {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null || proto === Object.prototype) return null;
  return (proto.constructor as { name?: string } | undefined)?.name || '(anonymous)';
}

/**
 * A snapshot of `value` (see the file comment). Tensors are read back synchronously. Objects are numbered in the
 * order they are first met (depth first, parents before children); a later meeting is `{$: 'ref', i}`.
 */
export function encodeState(value: unknown, seen = new Map<object, number>()): Encoded {
  if (value === null) return null;
  switch (typeof value) {
    case 'undefined':
      return { $: 'undef' };
    case 'number':
      return encodeNumber(value);
    case 'string':
    case 'boolean':
      return value;
    case 'function':
      return { $: 'skip' };
    case 'bigint':
    case 'symbol':
      throw new Error(`checkpoint: cannot store a ${typeof value}`);
  }
  const object = value as object;
  const known = seen.get(object);
  if (known !== undefined) return { $: 'ref', i: known };
  if ((object instanceof tf.Tensor && object.isDisposed) || object instanceof Promise || object instanceof WeakMap || object instanceof WeakSet) return { $: 'skip' };
  seen.set(object, seen.size);
  if (object instanceof Rng) return { $: 'rng', s: object.getState() };
  if (object instanceof tf.Tensor) {
    return { $: 'tensor', dtype: object.dtype, shape: [...object.shape], b: base64(object.dataSync() as TypedArray) };
  }
  if (isTypedArray(object)) return { $: 'bytes', type: object.constructor.name, b: base64(object) };
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) throw new Error('checkpoint: cannot store a raw buffer');
  if (Array.isArray(object)) return object.map((item) => encodeState(item, seen));
  if (object instanceof Map) return { $: 'map', e: [...object.entries()].map(([k, v]) => [encodeState(k, seen), encodeState(v, seen)]) };
  if (object instanceof Set) return { $: 'set', e: [...object.values()].map((v) => encodeState(v, seen)) };
  const fields: Record<string, Encoded> = {};
  for (const key of Object.keys(object)) fields[key] = encodeState((object as Record<string, unknown>)[key], seen);
  return { $: 'obj', c: className(object), f: fields };
}

/** Prototypes by class name, for objects the fresh graph lacks. */
export class PrototypeIndex {
  private readonly protos = new Map<string, object>();

  /** Learn every class reachable from `roots`. */
  add(...roots: unknown[]): this {
    const seen = new Set<object>();
    const walk = (value: unknown) => {
      if (value === null || typeof value !== 'object' || seen.has(value)) return;
      seen.add(value);
      if (value instanceof tf.Tensor || ArrayBuffer.isView(value) || value instanceof Rng) return;
      const name = className(value);
      if (name !== null && !this.protos.has(name)) this.protos.set(name, Object.getPrototypeOf(value) as object);
      const children = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value);
      children.forEach(walk);
    };
    roots.forEach(walk);
    return this;
  }

  create(name: string): object {
    const proto = this.protos.get(name);
    if (!proto) throw new Error(`checkpoint: cannot rebuild an object of class ${name} (not found in the fresh run)`);
    return Object.create(proto) as object;
  }
}

/**
 * Write `encoded` into `fresh` (built from the same config and seed) and return the value its slot should hold:
 * `fresh` itself wherever it could be updated in place.
 */
export function restoreState(fresh: unknown, encoded: Encoded, index: PrototypeIndex): unknown {
  return restoreInto(fresh, encoded, { index, objects: [] });
}

interface RestoreContext {
  readonly index: PrototypeIndex;
  /** Restored objects in the order `encodeState` numbered them, for references. */
  readonly objects: unknown[];
}

function restoreInto(fresh: unknown, encoded: Encoded, ctx: RestoreContext): unknown {
  if (encoded === null || typeof encoded !== 'object') return encoded;
  const register = <T>(value: T): T => {
    ctx.objects.push(value);
    return value;
  };
  const index = ctx.index;
  if (Array.isArray(encoded)) {
    const target = register(Array.isArray(fresh) ? fresh : []);
    const items = encoded.map((item, i) => restoreInto(target[i], item, ctx));
    if (Object.isFrozen(target)) return target;
    target.length = 0;
    target.push(...items);
    return target;
  }
  switch (encoded.$) {
    case 'num':
      return decodeNumber(encoded.v);
    case 'undef':
      return undefined;
    case 'skip':
      return fresh;
    case 'ref':
      return encoded.i < ctx.objects.length ? ctx.objects[encoded.i] : fresh;
    case 'bytes': {
      const data = fromBase64(encoded.type, encoded.b);
      if (fresh !== null && typeof fresh === 'object' && isTypedArray(fresh) && fresh.constructor.name === encoded.type && fresh.length === data.length) {
        fresh.set(data as never);
        return register(fresh);
      }
      return register(data);
    }
    case 'tensor': {
      const data = fromBase64(dataType(encoded.dtype), encoded.b);
      const tensor = tf.tensor(data as Float32Array, encoded.shape, encoded.dtype);
      if (fresh instanceof tf.Variable) {
        if (fresh.dtype !== encoded.dtype || fresh.shape.join() !== encoded.shape.join()) throw new Error(`checkpoint: variable ${fresh.name} has shape [${fresh.shape}], the checkpoint [${encoded.shape}]`);
        fresh.assign(tensor);
        tensor.dispose();
        return register(fresh);
      }
      if (fresh instanceof tf.Tensor && !fresh.isDisposed) fresh.dispose();
      return register(tensor);
    }
    case 'rng': {
      const rng = register(fresh instanceof Rng ? fresh : new Rng(0));
      rng.setState(encoded.s);
      return rng;
    }
    case 'map': {
      const map = register(fresh instanceof Map ? (fresh as Map<unknown, unknown>) : new Map<unknown, unknown>());
      const entries = encoded.e.map(([k, v]) => {
        const key = restoreInto(undefined, k, ctx);
        if (key !== null && typeof key === 'object') throw new Error('checkpoint: Map keys must be primitives');
        return [key, restoreInto(map.get(key), v, ctx)] as const;
      });
      map.clear();
      for (const [k, v] of entries) map.set(k, v);
      return map;
    }
    case 'set': {
      const set = register(fresh instanceof Set ? (fresh as Set<unknown>) : new Set<unknown>());
      const items = encoded.e.map((v) => restoreInto(undefined, v, ctx));
      if (items.some((v) => v !== null && typeof v === 'object')) throw new Error('checkpoint: Set members must be primitives');
      set.clear();
      for (const v of items) set.add(v);
      return set;
    }
    case 'obj': {
      const same = fresh !== null && typeof fresh === 'object' && !Array.isArray(fresh) && className(fresh) === encoded.c;
      const target = register((same ? fresh : encoded.c === null ? {} : index.create(encoded.c)) as Record<string, unknown>);
      // Frozen objects (an env's params) come from the config, which the checkpoint matches; their children are still
      // walked, to number the objects as `encodeState` did.
      const frozen = Object.isFrozen(target);
      for (const [key, value] of Object.entries(encoded.f)) {
        const next = restoreInto(target[key], value, ctx);
        if (!frozen && target[key] !== next) target[key] = next;
      }
      return target;
    }
  }
}

function dataType(dtype: tf.DataType): string {
  switch (dtype) {
    case 'float32':
      return 'Float32Array';
    case 'int32':
      return 'Int32Array';
    case 'bool':
      return 'Uint8Array';
    default:
      throw new Error(`checkpoint: cannot store a ${dtype} tensor`);
  }
}
