/**
 * Smoke test of `bench sweep` at minimal size: every variant completes every run, the figures are positive, and the
 * rows are identical whichever way the runs were spread over processes. The real figures come from `npm run bench`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSweepBench } from '../../src/bench/sweep.js';

describe('bench sweep (smoke)', () => {
  it('runs 1 worker, 2 workers and a process per run, with identical rows', async () => {
    const result = await runSweepBench({ runs: 2, totalSteps: 512, repeats: 1, freshRuns: 1 });
    assert.deepEqual(result.rows.map((r) => [r.variant, r.wallS.length]), [
      ['1 worker', 1],
      ['2 workers', 1],
      ['1 worker, process per run', 1],
    ]);
    for (const row of result.rows) assert.ok(row.medianS > 0 && row.runS > 0, JSON.stringify(row));
    assert.ok(result.speedup.median > 0 && result.reuse.median > 0);
    assert.equal(result.identical, true);
    assert.equal(result.config.runs, 2);
  });
});
