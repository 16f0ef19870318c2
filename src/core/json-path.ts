/**
 * Dot-separated paths (`agent.network.hidden`) into plain JSON objects: config overrides, readers, error messages.
 * Also the guard every user-supplied JSON tree passes before it is copied or merged: no prototype keys (`__proto__`,
 * `constructor`, `prototype`: merging them could reach `Object.prototype`) and no nesting deeper than
 * `MAX_JSON_DEPTH` (`structuredClone` and friends recurse, and overflow the stack a few thousand levels down).
 */
import { ConfigError } from './errors.js';

type JsonObject = Record<string, unknown>;

/** Most levels of objects and arrays a config may nest (the root is level 1); real configs use 3 or 4. */
export const MAX_JSON_DEPTH = 32;

const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function dotted(keys: readonly (string | number)[]): string {
  return keys.join('.') || '(config)';
}

function refusePrototypeKey(keys: readonly (string | number)[], key: string, value: unknown): void {
  if (PROTOTYPE_KEYS.has(key)) throw new ConfigError(dotted(keys), value, `'${key}' is not allowed as a key (it names an object prototype)`);
}

/**
 * Throw a ConfigError at the first prototype key or the first object nested more than MAX_JSON_DEPTH levels below
 * the config root; `at` is where `value` sits (so an override's value is judged at its own depth).
 */
export function checkJsonTree(value: unknown, at: readonly (string | number)[] = []): void {
  const path = [...at];
  const visit = (node: object): void => {
    if (path.length >= MAX_JSON_DEPTH) throw new ConfigError(dotted(path), node, `nested deeper than ${MAX_JSON_DEPTH} levels`);
    const isArray = Array.isArray(node);
    const keys: (string | number)[] = isArray ? [] : Object.keys(node);
    const count = isArray ? node.length : keys.length;
    for (let i = 0; i < count; i++) {
      const key = isArray ? i : keys[i]!;
      const child = (node as Record<string | number, unknown>)[key];
      if (!isArray && PROTOTYPE_KEYS.has(key as string)) refusePrototypeKey([...path, key], key as string, child);
      if (child === null || typeof child !== 'object') continue;
      path.push(key);
      visit(child);
      path.pop();
    }
  };
  if (value !== null && typeof value === 'object') visit(value);
}

/** The value at `keys` (own properties only), or undefined where the path leaves the object. */
export function valueAt(raw: unknown, keys: readonly (string | number)[]): unknown {
  let node = raw;
  for (const key of keys) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as JsonObject)[key];
  }
  return node;
}

/** `getPath(o, 'a.b.c')` = `valueAt(o, ['a', 'b', 'c'])`. */
export function getPath(raw: unknown, dotted: string): unknown {
  return valueAt(raw, dotted.split('.'));
}

/**
 * Set `path` (dot-separated) to `value` in a plain JSON object, creating objects on the way. Refuses malformed paths,
 * prototype keys in the path or in the value, and values nested too deep (see `checkJsonTree`).
 */
export function setPath(target: JsonObject, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k.length === 0)) throw new ConfigError(path, value, 'malformed config path');
  for (const key of keys) refusePrototypeKey([path], key, value);
  checkJsonTree(value, keys);
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined) node[key] = {};
    else if (!isObject(next)) throw new ConfigError(path, value, `'${key}' is not a section`);
    node = node[key] as JsonObject;
  }
  node[keys[keys.length - 1]!] = value;
}
