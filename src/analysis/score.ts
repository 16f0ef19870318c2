/**
 * Normalised scores and the non-lagging return estimate behind critical-batch targets (docs/science.md, "The
 * critical-batch protocol").
 *
 * - Normalised score: s = (R − R_random)/(R_ref − R_random). R_random is the mean return of the uniformly random
 *   policy (`rolloutStats`, measured at the start of an experiment with a fixed seed and episode count); R_ref is the
 *   task's reference return, fixed before measuring: the known optimum where there is one (CartPole: one reward per
 *   step, so the time limit), else a stated value (Gymnasium's reward threshold), else given by the user
 *   (`--score-ref`). s = 0 is random play, s = 1 the reference.
 * - Post-update return: the return after update u is the mean return of the episodes completed after it — those that
 *   end in the updates u+1, u+2, … up to the first logged row by which at least `episodes` of them have ended (whole
 *   updates, so it can average a few more). Unlike the trainer's `return_mean` (a rolling mean over the last 20
 *   episodes, many of them played by older policies) it holds no episode that ended before the update. Episodes still
 *   running at the update began under older policies, so a lag of up to one episode length remains. Read exactly off
 *   the cumulative `episodes` and `return_sum` columns of metrics.csv, whatever `run.logEvery` is; NaN for the last
 *   updates of a run, after which fewer than `episodes` episodes ended.
 */
import { cellNumber, type CsvTable } from '../run/csv.js';
import type { ReturnPoint } from './noise-figures.js';
import { POST_UPDATE_EPISODES } from '../run/target-stop.js';

export { POST_UPDATE_EPISODES } from '../run/target-stop.js';

/**
 * Random-policy baseline settings, fixed before measuring, so every experiment on a task gets the same R_random: a
 * pilot of `episodes` episodes with `seed`; where its standard error exceeds `relativeError` of the score span
 * (R_ref − R_random; noisy rewards, small gaps) the baseline is measured again with as many episodes as that precision
 * needs, (σ/(relativeError·span))², at most `maxSteps` env steps in all.
 */
export const RANDOM_BASELINE = { episodes: 200, seed: 12345, relativeError: 0.05, maxSteps: 2_000_000 } as const;

/**
 * Standard errors the post-update estimate at random play must sit below the lowest target
 * (`reachEpisodesFor`): fewer, and a run reaches the target by chance.
 */
export const REACH_Z = 3;

/**
 * Episodes the post-update return must average so that, at random play (return std σ), the lowest target lies REACH_Z
 * standard errors above R_random: max(POST_UPDATE_EPISODES, ⌈(REACH_Z·σ/(R_lowest − R_random))²⌉). With the default
 * 10 episodes a noisy task (GaussianBandit's reward noise, UmbrellaChain's coin flips) crosses a target by chance
 * long before it learns. Null when the lowest target is not above R_random.
 */
export function reachEpisodesFor(lowestTarget: number, random: { readonly returnMean: number; readonly returnStd: number }): number | null {
  const gap = lowestTarget - random.returnMean;
  if (!(gap > 0) || !Number.isFinite(random.returnStd)) return null;
  return Math.max(POST_UPDATE_EPISODES, Math.ceil(((REACH_Z * random.returnStd) / gap) ** 2));
}

export interface ReferenceReturn {
  readonly value: number;
  /** Why this value: `optimum` (known maximum), `stated` (a published threshold), `user` (--score-ref). */
  readonly basis: 'optimum' | 'stated' | 'user';
  readonly note: string;
}

/**
 * R_ref of the built-in tasks that have one (written before any measurement; docs/science.md lists them). Keyed by env
 * id; `maxEpisodeSteps` is the run's time limit. Tasks missing here need `--score-ref` for score targets.
 */
export function referenceReturn(envId: string, maxEpisodeSteps: number, params: Readonly<Record<string, unknown>> = {}): ReferenceReturn | null {
  const number = (name: string, fallback: number) => (typeof params[name] === 'number' ? (params[name] as number) : fallback);
  switch (envId) {
    case 'CartPole-v1':
      return { value: maxEpisodeSteps, basis: 'optimum', note: `one reward per step: the time limit (${maxEpisodeSteps}) is the maximum return` };
    case 'GaussianBandit-v0':
      return { value: number('gap', 1), basis: 'optimum', note: 'the best arm pays gap in expectation, every other arm 0' };
    case 'Catch-v0':
      return { value: 1, basis: 'optimum', note: 'every ball caught (+1)' };
    case 'UmbrellaChain-v0':
      return { value: 1, basis: 'optimum', note: 'the right first action (+1 at the end; the coin-flip rewards have mean 0)' };
    case 'MemoryChain-v0':
      return { value: 1, basis: 'optimum', note: 'every query answered right (+1)' };
    case 'DeepSea-v0':
      return { value: 1 - number('moveCost', 0.01), basis: 'optimum', note: "always 'right' without slips: +1 less the move cost" };
    case 'Acrobot-v1':
      return { value: -100, basis: 'stated', note: "Gymnasium's reward threshold" };
    case 'MountainCar-v0':
      return { value: -110, basis: 'stated', note: "Gymnasium's reward threshold" };
    default:
      return null;
  }
}

/** The two ends of the normalised score: random play and the reference. */
export interface ScoreScale {
  readonly random: number;
  readonly reference: number;
}

/** s = (R − R_random)/(R_ref − R_random); NaN when the scale is degenerate. */
export function normalisedScore(ret: number, scale: ScoreScale): number {
  const span = scale.reference - scale.random;
  return span !== 0 && Number.isFinite(span) ? (ret - scale.random) / span : NaN;
}

/** The raw return at normalised score s. */
export function returnAtScore(score: number, scale: ScoreScale): number {
  return scale.random + score * (scale.reference - scale.random);
}

/**
 * Post-update returns of one run, one point per metrics.csv row (see the file comment). Null when the table lacks the
 * `return_sum` column (folders written before it existed): callers fall back to `return_mean`.
 */
export function postUpdateReturns(metrics: CsvTable | null, episodes = POST_UPDATE_EPISODES): ReturnPoint[] | null {
  if (!metrics || !metrics.columns.includes('return_sum')) return null;
  if (!(Number.isInteger(episodes) && episodes >= 1)) throw new RangeError(`postUpdateReturns: episodes must be a positive integer (got ${episodes})`);
  const rows = metrics.rows.map((row) => ({
    update: cellNumber(row['update']),
    envSteps: cellNumber(row['env_steps']),
    episodes: cellNumber(row['episodes']),
    sum: cellNumber(row['return_sum']),
  }));
  const out: ReturnPoint[] = [];
  let j = 0;
  for (let i = 0; i < rows.length; i++) {
    const here = rows[i]!;
    if (j <= i) j = i + 1;
    while (j < rows.length && rows[j]!.episodes - here.episodes < episodes) j++;
    const later = rows[j];
    const count = later ? later.episodes - here.episodes : 0;
    out.push({ update: here.update, envSteps: here.envSteps, returnMean: later && count >= episodes ? (later.sum - here.sum) / count : NaN });
  }
  return out;
}
