/**
 * Run ids that read like bsuite's (`level=3,seed=2`): every varied config path by its last segment (more segments
 * when two would clash) and its value in a folder-safe form; and the canonical JSON that decides whether two values,
 * or two sweep definitions, are the same.
 */

/** Short names for config paths: the last segment, or more segments where two would clash. */
export function shortNames(keys: readonly string[]): string[] {
  const parts = keys.map((k) => k.split('.'));
  const depth = keys.map(() => 1);
  for (let round = 0; round < 16; round++) {
    const names = parts.map((p, i) => p.slice(-depth[i]!).join('.'));
    let clash = false;
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i || names.lastIndexOf(name) !== i) {
        if (depth[i]! < parts[i]!.length) {
          depth[i]! += 1;
          clash = true;
        }
      }
    });
    if (!clash) return names;
  }
  return keys.slice();
}

/**
 * A value as it appears in a run id: numbers and strings as written, lists joined by `x`, objects as `key-value`
 * pairs joined by `+`; characters unsafe in folder names become `_`.
 */
export function formatIdValue(value: unknown): string {
  const format = (v: unknown): string => {
    if (Array.isArray(v)) return v.map(format).join('x');
    if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => `${k}-${format(x)}`).join('+');
    return String(v);
  };
  return format(value).replace(/[^A-Za-z0-9._+-]/g, '_');
}

/** The id part of a setting: `name=value` for every key, comma-separated. */
export function formatId(keys: readonly string[], settings: Record<string, unknown>): string {
  const names = shortNames(keys);
  return keys.map((key, i) => `${names[i]}=${formatIdValue(settings[key])}`).join(',');
}

/** JSON with object keys sorted, so equal definitions compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  ) ?? 'undefined';
}
