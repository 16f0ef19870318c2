/**
 * Reading a run config: JSON file → `--set` overrides → schema validation → checks across sections. The first problem
 * becomes a `ConfigError` naming its config path and the value found there; the result is deeply frozen. Every raw
 * tree passes `checkJsonTree` (no prototype keys, bounded nesting) before it is copied or validated.
 */
import fs from 'node:fs';
import { ConfigError, formatValue } from '../core/errors.js';
import { checkJsonTree, setPath, valueAt } from '../core/json-path.js';
import { configSchema, type RunConfig } from './schema.js';

/** Validate raw JSON; the first problem becomes a ConfigError naming its path and value. */
export function parseConfig(raw: unknown): RunConfig {
  checkJsonTree(raw);
  const result = configSchema.safeParse(raw);
  if (result.success) {
    checkAcrossSections(result.data);
    return deepFreeze(result.data);
  }
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  let message = issue.message;
  let at = path;
  if (issue.code === 'unrecognized_keys') {
    at = [...path, issue.keys[0]!];
    message = `unknown key ${formatValue(issue.keys[0])}`;
  }
  throw new ConfigError(at.join('.') || '(config)', valueAt(raw, at), message);
}

/**
 * What no single section can check: sizes measured against one update's rollout (env.numEnvs × agent.numSteps
 * samples). Runs train whole updates, so `run.totalSteps` is rounded up to a multiple of the rollout, and must hold one.
 */
function checkAcrossSections(config: RunConfig): void {
  const batch = config.env.numEnvs * config.agent.numSteps;
  const rollout = `one update's rollout (env.numEnvs × agent.numSteps = ${config.env.numEnvs} × ${config.agent.numSteps} = ${batch} samples)`;
  if (config.run.totalSteps < batch) {
    throw new ConfigError('run.totalSteps', config.run.totalSteps, `less than ${rollout}; runs train whole updates`);
  }
  if (config.agent.algo === 'ppo' && config.agent.numMinibatches > batch) {
    throw new ConfigError('agent.numMinibatches', config.agent.numMinibatches, `more minibatches than samples in ${rollout}`);
  }
  const { monitor } = config;
  if (monitor.enabled && monitor.grouping === 'microbatch' && monitor.microBatch * 2 > batch) {
    throw new ConfigError('monitor.microBatch', monitor.microBatch, `more than half of ${rollout}: B_simple needs at least two micro-batches`);
  }
}

/** `--set path=value`: the value is parsed as JSON when it can be (numbers, booleans, arrays), else kept as a string. */
export function parseAssignment(assignment: string): { path: string; value: unknown } {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError('--set', assignment, 'expected path=value');
  const path = assignment.slice(0, eq).trim();
  const text = assignment.slice(eq + 1);
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a bare word such as CartPole-v1 stays a string
  }
  return { path, value };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export interface ConfigOverrides {
  /** `path=value` assignments, applied in order. */
  set?: readonly string[];
  seed?: number;
  backend?: string;
}

/** Read a JSON config file, apply overrides, validate. Errors name the file or config path and the bad value. */
export function loadConfig(file: string, overrides: ConfigOverrides = {}): RunConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError('CONFIG', file, 'cannot read config file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('CONFIG', file, `not valid JSON: ${(error as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('(config)', raw, 'expected a JSON object');
  return applyOverrides(raw as Record<string, unknown>, overrides);
}

export function applyOverrides(raw: Record<string, unknown>, overrides: ConfigOverrides): RunConfig {
  checkJsonTree(raw);
  const copy = structuredClone(raw);
  for (const assignment of overrides.set ?? []) {
    const { path: at, value } = parseAssignment(assignment);
    setPath(copy, at, value);
  }
  if (overrides.seed !== undefined) setPath(copy, 'run.seed', overrides.seed);
  if (overrides.backend !== undefined) setPath(copy, 'run.backend', overrides.backend);
  return parseConfig(copy);
}
