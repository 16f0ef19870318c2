/**
 * Running a critical-batch experiment with its learning-rate grid extended where the data ask for it
 * (docs/science.md, "The critical-batch protocol"; lr-grid.ts).
 *
 * 1. The score scale is fixed first: `baseline.json` (critical-batch-baseline.ts) before any run.
 * 2. Round 0 runs the plan's initial grid; after every round the folder is analysed, and where some target's kept
 *    learning rate sits at an edge of its batch size's grid (and that side has been extended fewer than
 *    `lrExtensions` times) the next round adds one multiplier there. Rounds end when nothing is added; winners still at
 *    an edge are flagged in critical-batch.csv (`lr_edges`).
 * Extensions follow from the data alone, so rerunning the command into the same folder replays the same rounds,
 * skipping completed runs. A detached (Slurm) or interrupted round ends the loop: the finish job analyses the initial
 * grid and flags its edges.
 */
import { gridExtensions, roundMultiplier, type GridEdge } from '../analysis/lr-grid.js';
import { ensureBaseline, type Baseline } from './critical-batch-baseline.js';
import { analyzeCriticalBatch, planCriticalBatch, type CriticalBatchOptions, type CriticalBatchRequest, type CriticalBatchResult } from './critical-batch.js';
import { validatePlan, type SweepPlan } from './sweep/plan.js';
import { runSweep, type SweepOptions, type SweepResult } from './sweep/run.js';

export interface CriticalBatchRunOptions {
  readonly request: CriticalBatchRequest;
  readonly sweep: SweepOptions;
  readonly analysis: CriticalBatchOptions;
  /** R_ref given by the user (else the task's, score.ts). */
  readonly scoreRef?: number;
  /** One line per round that extends the grid. */
  readonly say?: (line: string) => void;
  /** Runs a round's plan (default runSweep); tests pass a fake. */
  readonly runRound?: (plan: SweepPlan, options: SweepOptions) => Promise<SweepResult>;
}

export interface CriticalBatchRunResult {
  readonly baseline: Baseline;
  /** The last round's sweep result. */
  readonly sweep: SweepResult;
  /** Null when the last round was detached or interrupted. */
  readonly analysis: CriticalBatchResult | null;
  readonly rounds: number;
  /** Multipliers added per batch size. */
  readonly added: ReadonlyMap<number, readonly number[]>;
  /** Runs over all rounds (the last plan). */
  readonly runs: number;
}

export async function runCriticalBatch(options: CriticalBatchRunOptions): Promise<CriticalBatchRunResult> {
  const out = options.sweep.out;
  const baseline = ensureBaseline(out, options.request.config, options.scoreRef);
  const analysisOptions = options.analysis;
  const runRound = options.runRound ?? runSweep;
  const added = new Map<number, number[]>();
  let rounds = 0;
  for (;;) {
    const plan = planCriticalBatch({ ...options.request, extraMultipliers: added });
    if (rounds > 0) await validatePlan(plan);
    const sweep = await runRound(plan, options.sweep);
    rounds++;
    if (sweep.detached || sweep.interrupted) return { baseline, sweep, analysis: null, rounds, added, runs: plan.runs.length };
    const analysis = analyzeCriticalBatch(out, analysisOptions);
    const definition = plan.definition as { lr: { multipliers: readonly number[]; extensions: number }; batchSizes: readonly number[] };
    const initial = definition.lr.multipliers;
    const tried = new Map(definition.batchSizes.map((b) => [b, [...new Set([...initial, ...(added.get(b) ?? [])].map(roundMultiplier))]]));
    const edges: GridEdge[] = analysis.targets.flatMap((t) => t.edges);
    const next = gridExtensions(edges, tried, initial, definition.lr.extensions);
    if (next.size === 0) return { baseline, sweep, analysis, rounds, added, runs: plan.runs.length };
    for (const [batchSize, multipliers] of next) added.set(batchSize, [...(added.get(batchSize) ?? []), ...multipliers]);
    options.say?.(
      `critical-batch: lr grid extended (round ${rounds + 1}): ${[...next].map(([b, ms]) => `B=${b} ×${ms.join(', ×')}`).join('; ')}`,
    );
  }
}
