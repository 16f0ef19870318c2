/** Learning-rate grid extension: one step outwards where a winner sits at an edge, bounded per side. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gridExtensions, multiplierFromLabel, roundMultiplier } from '../../src/analysis/lr-grid.js';
import { bestPerBatchSize, type TargetCell } from '../../src/analysis/critical-batch-fit.js';

describe('lr grid', () => {
  it('reads the multiplier off a cell label', () => {
    assert.equal(multiplierFromLabel('batch=512,lrx=2'), 2);
    assert.equal(multiplierFromLabel('batch=512,lrx=0.25'), 0.25);
    assert.equal(multiplierFromLabel('batch=512'), null);
    assert.equal(roundMultiplier(0.1 * 3), 0.3);
  });

  it('flags a winner at the grid edge, not one tied with an interior lr', () => {
    const cell = (batchSize: number, lr: number, s: number[]): TargetCell => ({ batchSize, lr, label: `b${batchSize}l${lr}`, outcomes: s.map((x) => ({ steps: x, samples: x * batchSize })) });
    const { points } = bestPerBatchSize([
      cell(64, 1, [50, 60]), cell(64, 2, [40, 45]), cell(64, 4, [30, 31]), // highest lr wins: high
      cell(128, 1, [20, 21]), cell(128, 2, [30, 31]), cell(128, 4, [Infinity, Infinity]), // lowest wins: low
      cell(256, 1, [20, 20]), cell(256, 2, [20, 20]), cell(256, 4, [40, 40]), // tie with interior: inside
      cell(512, 1, [10, 10]), // one lr: no grid
    ]);
    assert.deepEqual(points.map((p) => [p.batchSize, p.edge]), [[64, 'high'], [128, 'low'], [256, null], [512, null]]);
  });

  it('extends each flagged side by the grid step until the bound, then stops', () => {
    const initial = [0.5, 1, 2];
    const edges = [
      { batchSize: 64, edge: 'high' as const },
      { batchSize: 64, edge: 'low' as const }, // another target's winner at the other edge
      { batchSize: 128, edge: null },
      { batchSize: 256, edge: 'low' as const },
    ];
    const first = gridExtensions(edges, new Map([[64, initial], [128, initial], [256, initial]]), initial, 2);
    assert.deepEqual([...first.entries()], [[64, [0.25, 4]], [256, [0.25]]]);
    // After one extension at 256 (0.25 tried), a second goes to 0.125; after two, none.
    assert.deepEqual([...gridExtensions(edges.slice(3), new Map([[256, [0.25, 0.5, 1, 2]]]), initial, 2).entries()], [[256, [0.125]]]);
    assert.equal(gridExtensions(edges.slice(3), new Map([[256, [0.125, 0.25, 0.5, 1, 2]]]), initial, 2).size, 0);
    assert.equal(gridExtensions(edges, new Map(), initial, 0).size, 0);
    // Uneven grids step by their outermost ratio on each side.
    assert.deepEqual([...gridExtensions([{ batchSize: 8, edge: 'high' }], new Map(), [1, 3, 4], 1).entries()], [[8, [roundMultiplier(16 / 3)]]]);
  });
});
