/**
 * The learning-rate grid per batch size and its automatic extension (docs/science.md, "The critical-batch protocol").
 *
 * The grid is a list of multipliers of the batch size's rule lr (critical-batch-fit.ts `paperLearningRate`), the same
 * list at every batch size to begin with. After the runs, per batch size and target the multiplier with the fewest
 * median steps to the target wins (bestPerBatchSize). A winner at the grid's lowest (highest) multiplier — strictly
 * better than every interior one — means the best lr may lie beyond it: the grid of that batch size is extended by one
 * step that way, the step being the ratio of the initial grid's two outermost multipliers on that side (×2 for
 * 0.5, 1, 2), and the new cell is run. This repeats until no winner sits at an edge or a side has been extended
 * `maxExtensions` times; winners still at an edge then are reported with `edge` set. A batch size where no lr reaches
 * the target says nothing about the direction and is not extended.
 */
import type { LrEdge } from './critical-batch-fit.js';

/** The multiplier in a cell label such as `batch=512,lrx=2`; null when the label names none. */
export function multiplierFromLabel(label: string): number | null {
  const match = /(?:^|,)lrx=([^,]+)/.exec(label);
  if (!match) return null;
  const value = Number(match[1]);
  return Number.isFinite(value) ? value : null;
}

/** Round a multiplier as the plan writes it (6 significant digits), so extended grids give stable run ids. */
export function roundMultiplier(m: number): number {
  return Number(m.toPrecision(6));
}

export interface GridEdge {
  readonly batchSize: number;
  readonly edge: LrEdge;
}

/**
 * New multipliers to run: per batch size at most one per side, for the sides where some target's winner sits at the
 * edge and fewer than `maxExtensions` extensions have been made there. `tried` holds the multipliers run so far per
 * batch size (the initial grid plus earlier extensions).
 */
export function gridExtensions(
  edges: readonly GridEdge[],
  tried: ReadonlyMap<number, readonly number[]>,
  initial: readonly number[],
  maxExtensions: number,
): Map<number, number[]> {
  const grid = [...initial].sort((a, b) => a - b);
  const lowStep = grid.length > 1 ? grid[1]! / grid[0]! : 2;
  const highStep = grid.length > 1 ? grid.at(-1)! / grid.at(-2)! : 2;
  const out = new Map<number, number[]>();
  for (const batchSize of [...new Set(edges.map((e) => e.batchSize))].sort((a, b) => a - b)) {
    const sides = new Set(edges.filter((e) => e.batchSize === batchSize && e.edge !== null).map((e) => e.edge));
    const have = [...(tried.get(batchSize) ?? grid)].sort((a, b) => a - b);
    const added: number[] = [];
    if (sides.has('low')) {
      const done = have.filter((m) => m < grid[0]! * (1 - 1e-9)).length;
      if (done < maxExtensions) added.push(roundMultiplier(have[0]! / lowStep));
    }
    if (sides.has('high')) {
      const done = have.filter((m) => m > grid.at(-1)! * (1 + 1e-9)).length;
      if (done < maxExtensions) added.push(roundMultiplier(have.at(-1)! * highStep));
    }
    if (added.length > 0) out.set(batchSize, added);
  }
  return out;
}
