/**
 * One typed error hierarchy for the whole package.
 *
 * `InputError`s are the user's to fix (bad config, unknown id, bad value): the CLI exits with code 2 and writes nothing.
 * Every other `GradnoiseError` is a runtime failure (exit code 1) that keeps what was written so far.
 */

export type ErrorCode =
  | 'invalid_config'
  | 'invalid_value'
  | 'unknown_id'
  | 'invalid_action'
  | 'invalid_state'
  | 'diverged'
  | 'interrupted'
  | 'runtime';

export class GradnoiseError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A problem with what the user asked for. `path` names the config path or argument, `value` the offending value. */
export class InputError extends GradnoiseError {
  readonly path: string;
  readonly value: unknown;
  constructor(code: ErrorCode, path: string, value: unknown, reason: string) {
    super(code, `${path}: ${reason} (got ${formatValue(value)})`);
    this.path = path;
    this.value = value;
  }
}

export class ConfigError extends InputError {
  constructor(path: string, value: unknown, reason: string) {
    super('invalid_config', path, value, reason);
  }
}

export class InvalidValueError extends InputError {
  constructor(path: string, value: unknown, reason: string) {
    super('invalid_value', path, value, reason);
  }
}

/** Unknown registry id, with "did you mean" suggestions. */
export class UnknownIdError extends InputError {
  readonly suggestions: readonly string[];
  constructor(kind: string, path: string, id: string, known: readonly string[]) {
    const suggestions = closestMatches(id, known);
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '';
    super('unknown_id', path, id, `unknown ${kind}${hint} Known: ${known.join(', ')}`);
    this.suggestions = suggestions;
  }
}

export class InvalidActionError extends InputError {
  constructor(envId: string, index: number, value: unknown, expected: string) {
    super('invalid_action', `${envId}.step(actions[${index}])`, value, `expected ${expected}`);
  }
}

/** NaN or Inf met in a loss or gradient: the run stops with status `diverged`. */
export class DivergedError extends GradnoiseError {
  readonly update: number;
  constructor(update: number, what: string) {
    super('diverged', `non-finite ${what} at update ${update}`);
    this.update = update;
  }
}

/** Exit code for the CLI: 2 for input errors, 1 otherwise. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof InputError ? 2 : 1;
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    const text = JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}

/** Up to two known names within a small edit distance of `name` (case-insensitive). */
export function closestMatches(name: string, known: readonly string[]): string[] {
  const target = name.toLowerCase();
  const scored = known
    .map((candidate) => ({ candidate, distance: editDistance(target, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(candidate.length / 3)))
    .sort((a, b) => a.distance - b.distance);
  return scored.slice(0, 2).map((s) => s.candidate);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
