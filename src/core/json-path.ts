/** Dot-separated paths (`agent.network.hidden`) into plain JSON objects: config overrides, readers, error messages. */
import { ConfigError } from './errors.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
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

/** Set `path` (dot-separated) to `value` in a plain JSON object, creating objects on the way. */
export function setPath(target: JsonObject, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k.length === 0)) throw new ConfigError(path, value, 'malformed config path');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined) node[key] = {};
    else if (!isObject(next)) throw new ConfigError(path, value, `'${key}' is not a section`);
    node = node[key] as JsonObject;
  }
  node[keys[keys.length - 1]!] = value;
}
