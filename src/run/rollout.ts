/**
 * A fixed policy's episode statistics on any registered env: `rolloutStats` runs `episodes` complete episodes of a
 * uniformly random or constant policy and returns the mean, sample std (ddof 1), 95% interval (mean ± 1.96·std/√n),
 * min and max of episode return and length. It is what `gradnoise envs rollout` prints and how the random-policy
 * baseline of a task is measured.
 *
 * Episodes run in `numEnvs` parallel copies, each collecting a fixed quota of its own consecutive episodes (the first
 * N episodes to finish across copies would over-sample short ones). One seed fixes everything: the env is seeded
 * with it and the policy draws from its `policy` sub-stream. Bad options are `InputError`s named by the CLI flags of
 * `gradnoise envs rollout` (`--env`, `--level`, `--params.<name>`, `--policy`, `--episodes`, `--seed`).
 */
import { InputError, InvalidValueError, formatValue } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Discrete } from '../core/spaces.js';
import type { VectorEnv } from '../core/vector-env.js';
import { getEnvSpec, makeEnv } from './registry.js';

export type RolloutPolicy = { kind: 'random' } | { kind: 'constant'; action: number };

export interface RolloutOptions {
  envId: string;
  level?: number;
  /** Which ladder `level` indexes (default: the env's own). */
  ladder?: string;
  params?: Record<string, unknown>;
  policy?: RolloutPolicy;
  episodes?: number;
  seed?: number;
  /** Parallel copies (default min(episodes, 16)); the statistics depend on it only through the random streams. */
  numEnvs?: number;
  /** Overrides the env's own time limit. */
  maxEpisodeSteps?: number;
}

export interface SampleStats {
  mean: number;
  /** Sample std (ddof 1); NaN for a single episode. */
  std: number;
  ci95: [number, number];
  min: number;
  max: number;
}

export interface RolloutStats {
  envId: string;
  level: number;
  /** The ladder named with `ladder` (absent for the env's default ladder). */
  ladder?: string;
  policy: string;
  episodes: number;
  returnMean: number;
  returnStd: number;
  returnCi95: [number, number];
  returnMin: number;
  returnMax: number;
  lengthMean: number;
  lengthStd: number;
  lengthCi95: [number, number];
  lengthMin: number;
  lengthMax: number;
  seed: number;
  /** Episodes cut by the time limit rather than ended by the task. */
  truncated: number;
  params: Record<string, number | boolean>;
}

export interface RolloutResult {
  stats: RolloutStats;
  returns: Float64Array;
  lengths: Float64Array;
}

export function sampleStats(values: ArrayLike<number>): SampleStats {
  const n = values.length;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = values[k]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let squares = 0;
  for (let k = 0; k < n; k++) squares += (values[k]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(squares / (n - 1)) : NaN;
  const half = n > 1 ? (1.96 * std) / Math.sqrt(n) : NaN;
  return { mean, std, ci95: [mean - half, mean + half], min, max };
}

/** Parse `random` or `constant:K` (the flag value of `--policy`). */
export function parsePolicy(text: string, path = '--policy'): RolloutPolicy {
  if (text === 'random') return { kind: 'random' };
  const match = /^constant:(-?\d+)$/.exec(text);
  if (!match) throw new InvalidValueError(path, text, "expected 'random' or 'constant:K' (K an action index)");
  return { kind: 'constant', action: Number(match[1]) };
}

export function describePolicy(policy: RolloutPolicy): string {
  return policy.kind === 'random' ? 'random' : `constant:${policy.action}`;
}

/** Re-raise an env-construction error under the CLI's flag names (`env.level` → `--level`, `env.params.x` → `--params.x`). */
function asFlagError(error: unknown): unknown {
  if (!(error instanceof InputError)) return error;
  const flag = error.path === 'env.level' ? '--level' : error.path === 'env.ladder' ? '--ladder' : error.path.startsWith('env.params.') ? `--params.${error.path.slice('env.params.'.length)}` : null;
  if (flag === null) return error;
  const prefix = `${error.path}: `;
  const suffix = ` (got ${formatValue(error.value)})`;
  const reason = error.message.slice(prefix.length, error.message.length - suffix.length);
  return new InputError(error.code, flag, error.value, reason);
}

function checkInteger(path: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new InvalidValueError(path, value, `expected an integer >= ${min}`);
}

export function rolloutEpisodes(options: RolloutOptions): RolloutResult {
  const policy = options.policy ?? { kind: 'random' };
  const episodes = options.episodes ?? 100;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0;
  checkInteger('--episodes', episodes, 1);
  if (!Number.isFinite(seed)) throw new InvalidValueError('--seed', seed, 'expected a finite number');
  getEnvSpec(options.envId, '--env');
  const numEnvs = options.numEnvs ?? Math.min(episodes, 16);
  checkInteger('numEnvs', numEnvs, 1);
  let env: VectorEnv;
  try {
    env = makeEnv(options.envId, { numEnvs, level, ...(options.ladder !== undefined ? { ladder: options.ladder } : {}), params: options.params ?? {}, maxEpisodeSteps: options.maxEpisodeSteps });
  } catch (error) {
    throw asFlagError(error);
  }
  const space = env.actionSpace;
  if (policy.kind === 'constant') {
    if (!(space instanceof Discrete)) {
      throw new InvalidValueError('--policy', describePolicy(policy), `constant:K needs a Discrete action space; ${env.id} has ${space} (use random)`);
    }
    if (!(policy.action >= 0 && policy.action < space.n)) {
      throw new InvalidValueError('--policy', describePolicy(policy), `action must be in 0..${space.n - 1} for ${env.id}'s ${space}`);
    }
  }

  // Copy c collects episodes c, c + numEnvs, c + 2·numEnvs, ...: a quota fixed before any episode is seen.
  const quota = Int32Array.from({ length: numEnvs }, (_, c) => Math.floor(episodes / numEnvs) + (c < episodes % numEnvs ? 1 : 0));
  const collected = new Int32Array(numEnvs);
  const returns = new Float64Array(episodes);
  const lengths = new Float64Array(episodes);
  let done = 0;
  let truncated = 0;
  const rng = new Rng(seed).split('policy');
  const actions = new Float64Array(numEnvs * env.actionSize);
  if (policy.kind === 'constant') actions.fill(policy.action);
  env.reset(seed);
  while (done < episodes) {
    if (policy.kind === 'random') fillRandomActions(env, rng, actions);
    env.step(actions);
    for (const record of env.drainEpisodes()) {
      const c = record.env;
      if (collected[c]! >= quota[c]!) continue;
      const slot = c + collected[c]! * numEnvs;
      collected[c] += 1;
      returns[slot] = record.return;
      lengths[slot] = record.length;
      if (!record.terminated) truncated += 1;
      done += 1;
    }
  }

  const r = sampleStats(returns);
  const l = sampleStats(lengths);
  const stats: RolloutStats = {
    envId: env.id,
    level,
    ...(options.ladder !== undefined ? { ladder: options.ladder } : {}),
    policy: describePolicy(policy),
    episodes,
    returnMean: r.mean,
    returnStd: r.std,
    returnCi95: r.ci95,
    returnMin: r.min,
    returnMax: r.max,
    lengthMean: l.mean,
    lengthStd: l.std,
    lengthCi95: l.ci95,
    lengthMin: l.min,
    lengthMax: l.max,
    seed,
    truncated,
    params: { ...env.params },
  };
  return { stats, returns, lengths };
}

/** The statistics only (see `rolloutEpisodes` for the per-episode values too). */
export function rolloutStats(options: RolloutOptions): RolloutStats {
  return rolloutEpisodes(options).stats;
}

function fillRandomActions(env: VectorEnv, rng: Rng, out: Float64Array): void {
  const space = env.actionSpace;
  if (space instanceof Discrete) {
    for (let k = 0; k < out.length; k++) out[k] = rng.int(space.n);
    return;
  }
  for (let i = 0; i < env.numEnvs; i++) out.set(space.sample(rng), i * env.actionSize);
}
