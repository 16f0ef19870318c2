/**
 * One typed error hierarchy for the whole package, and the one place error text is formatted.
 *
 * `InputError`s are the user's to fix (bad config, unknown id, bad value): the CLI exits with code 2 and writes nothing.
 * Every other `GradnoiseError` is a runtime failure (exit code 1) that keeps what was written so far: a fault of the
 * filesystem (`FileSystemError`) or of a user env (`EnvFaultError`), a divergence, an interruption.
 * Messages are one line and bounded: paths, values and reasons are clipped (`clip`), so a 50 MB bogus key costs
 * 200 characters of stderr, not 50 MB.
 */

export type ErrorCode =
  | 'invalid_config'
  | 'invalid_value'
  | 'unknown_id'
  | 'invalid_action'
  | 'invalid_state'
  | 'diverged'
  | 'interrupted'
  | 'env_fault'
  | 'filesystem'
  | 'runtime';

/** Longest config path, value and reason an error message echoes (longer ones are clipped, with their length). */
export const MESSAGE_LIMITS = { path: 200, value: 200, reason: 600 } as const;

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
  /** The message without path and value. */
  readonly reason: string;
  constructor(code: ErrorCode, path: string, value: unknown, reason: string) {
    super(code, `${clip(oneLine(path), MESSAGE_LIMITS.path)}: ${clip(oneLine(reason), MESSAGE_LIMITS.reason)} (got ${formatValue(value)})`);
    this.path = path;
    this.value = value;
    this.reason = reason;
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
    const hint = suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?` : '.';
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

/**
 * A user env broke its contract at run time: a non-finite or non-number reward or observation, or a throw inside
 * `reset`/`step`. Names the env, where (`reset`, or the vector step counted from reset, 1-based), the copy and, when
 * there is one, the bad value.
 */
export class EnvFaultError extends GradnoiseError {
  readonly envId: string;
  /** 0 for `reset`. */
  readonly step: number;
  constructor(envId: string, step: number, copy: number | null, what: string, ...value: [] | [unknown]) {
    const where = `${step === 0 ? 'reset' : `step ${step}`}${copy === null ? '' : `, copy ${copy}`}`;
    const got = value.length > 0 ? ` (got ${formatValue(value[0])})` : '';
    super('env_fault', `${envId}: ${where}: ${clip(oneLine(what), MESSAGE_LIMITS.reason)}${got}`);
    this.envId = envId;
    this.step = step;
  }
}

/** A file could not be written or read: `path: OS message (CODE)`. */
export class FileSystemError extends GradnoiseError {
  readonly path: string;
  readonly osCode: string | undefined;
  constructor(path: string, description: string, osCode?: string) {
    super('filesystem', `${clip(path, MESSAGE_LIMITS.path)}: ${description}${osCode ? ` (${osCode})` : ''}`);
    this.path = path;
    this.osCode = osCode;
  }
}

/** Node's errno exceptions (`ENOSPC`, `ENOTDIR`, ...) carry these fields. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** An OS error as a `FileSystemError`: the path and the OS's own description, without Node's code prefix and syscall. */
function fromSystemError(error: NodeJS.ErrnoException & { code: string }, path: string): FileSystemError {
  // Node writes "ENOSPC: no space left on device, write '/x'": keep what lies between the code and the syscall.
  const description = error.message.replace(/^[A-Z0-9_]+: /, '').replace(/, [a-z_]+( '.*')?$/, '');
  return new FileSystemError(error.path ?? path, description, error.code);
}

/** Run a filesystem operation on `path`; an OS error (ENOSPC, ENOTDIR, EROFS, ...) becomes a `FileSystemError`. */
export function onFile<T>(path: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw isSystemError(error) ? fromSystemError(error, path) : error;
  }
}

/** Exit code for the CLI: 2 for input errors, 1 otherwise. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return error instanceof InputError ? 2 : 1;
}

/** Any error as one bounded line, never a stack: ours as written, OS errors as `path: description`, others as `Name: message`. */
export function errorLine(error: unknown): string {
  if (error instanceof GradnoiseError) return error.message;
  if (isSystemError(error)) return fromSystemError(error, '(file)').message;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return clip(oneLine(text), MESSAGE_LIMITS.reason);
}

/** `text` cut to `max` characters, saying how long it was. */
export function clip(text: string, max: number, sayLength = true): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…${sayLength ? ` [${text.length} chars]` : ''}`;
}

function oneLine(text: string): string {
  return text.includes('\n') ? text.replace(/\s*\n\s*/g, ' ') : text;
}

/** A value as it appears after "got": strings quoted, objects as JSON, both clipped; never more than ~200 characters. */
export function formatValue(value: unknown, max: number = MESSAGE_LIMITS.value): string {
  if (typeof value === 'string') {
    const shown = escapeControls(value.slice(0, max));
    return value.length > max ? `'${shown}…' [${value.length} chars]` : `'${shown}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null || value === undefined) {
    return String(value);
  }
  return clip(boundedJson(value, max + 1), max, false);
}

function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/**
 * JSON text of `value`, stopping soon after `budget` characters: a huge array or a config nested thousands deep costs
 * no more than its first few hundred characters (and no deep recursion: every level spends at least one character).
 */
function boundedJson(value: unknown, budget: number): string {
  const parts: string[] = [];
  let used = 0;
  const emit = (text: string) => {
    parts.push(text);
    used += text.length;
  };
  const visit = (node: unknown): void => {
    if (used > budget) return;
    if (typeof node === 'string') return emit(JSON.stringify(node.slice(0, budget)));
    if (node === null || typeof node !== 'object') return emit(typeof node === 'function' ? '[function]' : String(node));
    const isArray = Array.isArray(node);
    emit(isArray ? '[' : '{');
    const keys = isArray ? null : Object.keys(node);
    const length = isArray ? node.length : keys!.length;
    for (let i = 0; i < length && used <= budget; i++) {
      if (i > 0) emit(',');
      if (keys) emit(`${JSON.stringify(keys[i]!.slice(0, budget))}:`);
      visit(isArray ? (node as unknown[])[i] : (node as Record<string, unknown>)[keys![i]!]);
    }
    emit(isArray ? ']' : '}');
  };
  visit(value);
  return parts.join('');
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
