/**
 * reproduce.json's findings per part: a compact copy of each part's own aggregate files (a sweep's
 * sweep-summary.json groups, a critical-batch experiment's fits), as JSON holds them.
 */
import type { NoiseComponent } from '../core/components.js';
import type { FigureJson, JsonNumber } from './findings.js';

/** One group (difficulty level) of a sweep, its seeds pooled as sweep-groups.csv pools them. */
export interface LevelFinding {
  readonly group: string;
  readonly level: number | null;
  readonly runs: number;
  readonly completed: number;
  readonly returnFinal: number | null;
  readonly returnBest: number | null;
  readonly matchedTarget: number | null;
  readonly matchedReached: number | null;
  readonly bSimpleMean: FigureJson;
  readonly bSimpleMatched: FigureJson;
  readonly growth: FigureJson;
}

export interface SweepPartFindings {
  readonly component: NoiseComponent;
  readonly groups: readonly LevelFinding[];
}

/** One target of a critical-batch experiment. */
export interface CriticalTargetFinding {
  /** As asked for: `50%`, `200`. */
  readonly target: string;
  /** The return it came to. */
  readonly return: JsonNumber;
  readonly regime: string;
  readonly batchSizesReached: number;
  readonly bCrit: FigureJson;
  readonly bSimple: FigureJson;
  /** The protocol's further figures (absent in reproduce.json files written before them). */
  readonly score?: JsonNumber;
  readonly sMin?: FigureJson;
  readonly eMin?: FigureJson;
  readonly bSimpleW?: FigureJson;
  readonly bNoise?: FigureJson;
  readonly bNoiseW?: FigureJson;
  /** `2048:high`: batch sizes whose kept lr sat at an edge of its grid. */
  readonly lrEdges?: readonly string[];
}

export interface CriticalPartFindings {
  readonly component: NoiseComponent;
  readonly returnRange: { readonly min: number; readonly max: number };
  readonly targets: readonly CriticalTargetFinding[];
  /** Runs left out of the fit (failed, interrupted or pending). */
  readonly runsLeftOut: number;
}
