/**
 * Noise over training against normalised score: where a run is in its learning, told by the score of its post-update
 * return (score.ts), not by env steps, so runs of every batch size and learning rate of a task line up.
 *
 * A measurement at update u is taken at the parameters left by update u − 1, so it gets the score of the post-update
 * return of update u − 1 (the last logged row at or before it); measurements at the initial parameters, or before a
 * score is known, are left out. Scores are binned on fixed edges chosen before looking at any noise (0.2 wide, the
 * first open below, the last open above); per bin every run contributes its mean |G|² and tr(Σ) over its measurements
 * there, B_simple is the pooled ratio of means over runs, and its interval a percentile bootstrap over runs.
 */
import { bootstrap, pooledBSimple, type BootstrapOptions, type Interval, type NoiseMeans, type NoiseMeasurement, type ReturnPoint } from './noise-figures.js';
import { normalisedScore, type ScoreScale } from './score.js';

/** Inner edges of the score bins: (−∞, 0.2), [0.2, 0.4), [0.4, 0.6), [0.6, 0.8), [0.8, ∞). */
export const SCORE_BIN_EDGES = [0.2, 0.4, 0.6, 0.8] as const;

export interface ScoreBin {
  readonly lo: number;
  readonly hi: number;
  /** Where the bin is drawn: its middle, or 0.1 inside its closed end for the open bins. */
  readonly centre: number;
  readonly bSimple: Interval;
  readonly runs: number;
  readonly measurements: number;
}

/** One run as the binning needs it: its post-update returns and its noise measurements of one component. */
export interface ScoredRun {
  readonly reach: readonly ReturnPoint[];
  readonly noise: readonly NoiseMeasurement[];
}

/** The score of each measurement (NaN where unknown), from the post-update return of the update before it. */
export function measurementScores(run: ScoredRun, scale: ScoreScale): number[] {
  const rows = [...run.reach].sort((a, b) => a.update - b.update);
  let j = -1;
  return [...run.noise]
    .map((m, index) => ({ m, index }))
    .sort((a, b) => a.m.update - b.m.update)
    .map(({ m, index }) => {
      while (j + 1 < rows.length && rows[j + 1]!.update <= m.update - 1) j++;
      const row = j >= 0 ? rows[j]! : null;
      return { index, score: row && m.update > 1 ? normalisedScore(row.returnMean, scale) : NaN };
    })
    .sort((a, b) => a.index - b.index)
    .map((x) => x.score);
}

function binOf(score: number, edges: readonly number[]): number {
  let k = 0;
  while (k < edges.length && score >= edges[k]!) k++;
  return k;
}

/** B_simple per score bin over runs (see the file comment). Bins no run reached hold NaN and 0 runs. */
export function noiseByScore(runs: readonly ScoredRun[], scale: ScoreScale, options: BootstrapOptions & { edges?: readonly number[] } = {}): ScoreBin[] {
  const edges = options.edges ?? SCORE_BIN_EDGES;
  const perBin: NoiseMeans[][] = Array.from({ length: edges.length + 1 }, () => []);
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const run of runs) {
    const scores = measurementScores(run, scale);
    const sums = Array.from({ length: edges.length + 1 }, () => ({ gradSq: 0, traceSigma: 0, n: 0 }));
    run.noise.forEach((m, i) => {
      const score = scores[i]!;
      if (!Number.isFinite(score) || !Number.isFinite(m.gradSq) || !Number.isFinite(m.traceSigma)) return;
      const sum = sums[binOf(score, edges)]!;
      sum.gradSq += m.gradSq;
      sum.traceSigma += m.traceSigma;
      sum.n++;
    });
    sums.forEach((sum, k) => {
      if (sum.n === 0) return;
      perBin[k]!.push({ gradSq: sum.gradSq / sum.n, traceSigma: sum.traceSigma / sum.n });
      counts[k]! += sum.n;
    });
  }
  return perBin.map((items, k) => {
    const lo = k === 0 ? -Infinity : edges[k - 1]!;
    const hi = k === edges.length ? Infinity : edges[k]!;
    const centre = Number.isFinite(lo) && Number.isFinite(hi) ? (lo + hi) / 2 : Number.isFinite(hi) ? hi - 0.1 : lo + 0.1;
    const bSimple = items.length > 0 ? bootstrap(items, pooledBSimple, { seed: `score-bin-${k}`, ...options }) : { estimate: NaN, lo: NaN, hi: NaN, replicates: 0 };
    return { lo, hi, centre, bSimple, runs: items.length, measurements: counts[k]! };
  });
}
