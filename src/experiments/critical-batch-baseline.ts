/**
 * The score scale of a critical-batch experiment, fixed before its runs: `baseline.json` in the folder holds R_random
 * (the uniformly random policy's mean return, `rolloutStats` with RANDOM_BASELINE's seed, on the config's env, level
 * and params: a pilot of 200 episodes, then, measured again while it falls short, as many episodes as a standard error of 5% of the score span needs) and R_ref (score.ts `referenceReturn`, or the user's `--score-ref`). Written once at
 * the start; a resume reads it back, and a different `--score-ref` on a folder that fixed another is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RANDOM_BASELINE, referenceReturn, type ReferenceReturn, type ScoreScale } from '../analysis/score.js';
import type { RunConfig } from '../config/schema.js';
import { InvalidValueError } from '../core/errors.js';
import { getEnvSpec, resolveEnvParams } from '../run/registry.js';
import { rolloutStats } from '../run/rollout.js';
import { readJson, writeJsonAtomic } from '../run/run-folder.js';

export const BASELINE_FILE = 'baseline.json';

export interface Baseline {
  readonly envId: string;
  readonly level: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly random: { readonly policy: 'random'; readonly episodes: number; readonly seed: number; readonly returnMean: number; readonly returnStd: number; readonly returnCi95: readonly [number, number] };
  readonly reference: ReferenceReturn | null;
}

/** R_random and R_ref of a baseline (null without a reference). */
export function scaleOf(baseline: Baseline | null): ScoreScale | null {
  return baseline?.reference ? { random: baseline.random.returnMean, reference: baseline.reference.value } : null;
}

/** Measure the baseline of a config's task (a few hundred random episodes; fast for the built-in envs). */
export function measureBaseline(config: RunConfig, scoreRef?: number): Baseline {
  const spec = getEnvSpec(config.env.id);
  const params = resolveEnvParams(spec, config.env.level, config.env.params, 'env', config.env.ladder);
  const maxEpisodeSteps = config.env.maxEpisodeSteps ?? spec.maxEpisodeSteps(params as never);
  const measure = (episodes: number) =>
    rolloutStats({
      envId: config.env.id,
      level: config.env.level,
      ...(config.env.ladder !== undefined ? { ladder: config.env.ladder } : {}),
      params: config.env.params,
      policy: { kind: 'random' },
      episodes,
      seed: RANDOM_BASELINE.seed,
      ...(config.env.maxEpisodeSteps !== undefined ? { maxEpisodeSteps: config.env.maxEpisodeSteps } : {}),
    });
  const reference: ReferenceReturn | null =
    scoreRef !== undefined ? { value: scoreRef, basis: 'user', note: 'given with --score-ref' } : referenceReturn(config.env.id, maxEpisodeSteps, params);
  // The pilot's own mean sets the span it is judged against; a noisy pilot misjudges it, so measure again until the
  // episode count asked for stops growing (a few rounds at most: each one's estimate is more precise).
  let stats = measure(RANDOM_BASELINE.episodes);
  for (let round = 0; reference && round < 6; round++) {
    const episodes = baselineEpisodes(stats, reference.value);
    if (episodes <= stats.episodes) break;
    stats = measure(episodes);
  }
  return {
    envId: config.env.id,
    level: config.env.level,
    params: config.env.params,
    random: { policy: 'random', episodes: stats.episodes, seed: stats.seed, returnMean: stats.returnMean, returnStd: stats.returnStd, returnCi95: stats.returnCi95 },
    reference,
  };
}

/**
 * Episodes of the baseline after its pilot: enough for a standard error of RANDOM_BASELINE.relativeError of the span
 * (never fewer than the pilot's), within RANDOM_BASELINE.maxSteps env steps.
 */
export function baselineEpisodes(pilot: { readonly episodes: number; readonly returnMean: number; readonly returnStd: number; readonly lengthMean: number }, reference: number): number {
  const span = Math.abs(reference - pilot.returnMean);
  if (!(span > 0) || !(pilot.returnStd > 0)) return pilot.episodes;
  const needed = Math.ceil((pilot.returnStd / (RANDOM_BASELINE.relativeError * span)) ** 2);
  const affordable = Math.max(pilot.episodes, Math.floor(RANDOM_BASELINE.maxSteps / Math.max(1, pilot.lengthMean)));
  return Math.max(pilot.episodes, Math.min(needed, affordable));
}

export function readBaseline(dir: string): Baseline | null {
  const file = path.join(dir, BASELINE_FILE);
  if (!fs.existsSync(file)) return null;
  return readJson<Baseline>(file);
}

/** The folder's baseline as it will be: read back (refusing a different --score-ref), or measured now; writes nothing. */
export function planBaseline(dir: string, config: RunConfig, scoreRef?: number): Baseline {
  const existing = readBaseline(dir);
  if (existing) {
    if (scoreRef !== undefined && existing.reference?.value !== scoreRef) {
      throw new InvalidValueError('--score-ref', scoreRef, `this folder fixed R_ref = ${existing.reference?.value ?? 'none'} before its runs (${BASELINE_FILE}); choose another --out to use another`);
    }
    return existing;
  }
  return measureBaseline(config, scoreRef);
}

/** The folder's baseline: read back, or measured and written now. */
export function ensureBaseline(dir: string, config: RunConfig, scoreRef?: number): Baseline {
  const baseline = planBaseline(dir, config, scoreRef);
  if (!fs.existsSync(path.join(dir, BASELINE_FILE))) {
    fs.mkdirSync(dir, { recursive: true });
    writeJsonAtomic(path.join(dir, BASELINE_FILE), baseline);
  }
  return baseline;
}
