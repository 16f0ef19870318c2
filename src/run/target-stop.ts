/**
 * Stopping a run once it has reached a return target (`run.stopAtReturn`), judged by the same non-lagging estimate the
 * critical-batch analysis reads off metrics.csv (analysis/score.ts, `postUpdateReturns`): the return after update u is
 * the mean return of the episodes completed after it, up to the first logged row by which at least `stopEpisodes` of
 * them have ended. A run stops right after the row that settles the first update whose estimate reaches the target, so
 * every row the analysis needs to find that update is written, and the rows up to it are those of a run that went on.
 *
 * The figures are taken as the CSV writes them (`formatCell`), so the trainer and a later reading of metrics.csv do
 * the same arithmetic on the same numbers and agree on the update exactly.
 */
import { formatCell } from './csv.js';

/** Episodes averaged by the post-update return estimate, unless a run or an experiment says otherwise. */
export const POST_UPDATE_EPISODES = 10;

/** A logged row as the estimate needs it: cumulative episodes and the sum of their returns. */
export interface LoggedCount {
  readonly update: number;
  readonly envSteps: number;
  readonly episodes: number;
  readonly returnSum: number;
}

/** Where the target was first reached: the update, its env steps and the post-update return there. */
export interface TargetReached {
  readonly update: number;
  readonly envSteps: number;
  readonly returnMean: number;
}

/**
 * Feed a logged row into `pending` (rows still waiting for enough later episodes; the caller owns the array, so a
 * checkpoint can carry it) and return the first update that reaches `target` once a row settles it, else null.
 */
export function observeTarget(pending: LoggedCount[], row: LoggedCount, target: number, episodes: number): TargetReached | null {
  const here: LoggedCount = { ...row, returnSum: Number(formatCell(row.returnSum)) };
  let reached: TargetReached | null = null;
  // Rows are settled in order: episodes never decrease, so a row the front cannot settle cannot settle later ones.
  while (pending.length > 0 && here.episodes - pending[0]!.episodes >= episodes) {
    const before = pending.shift()!;
    const value = (here.returnSum - before.returnSum) / (here.episodes - before.episodes);
    if (reached === null && value >= target) reached = { update: before.update, envSteps: before.envSteps, returnMean: value };
  }
  pending.push(here);
  return reached;
}
