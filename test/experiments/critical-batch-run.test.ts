/**
 * The critical-batch loop: baseline first, then rounds that extend a batch size's lr grid while its best lr sits at an
 * edge (bounded), on fake runs whose steps-to-target have a known optimum lr and B_crit; post-update returns, scores,
 * and w-weighted B_simple / B_noise in the output.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { parseTargets, type CriticalBatchRequest } from '../../src/experiments/critical-batch.js';
import { runCriticalBatch } from '../../src/experiments/critical-batch-run.js';
import { runSweep } from '../../src/experiments/sweep/run.js';
import { B_CRIT, BASE_LR, optimumFakeRun as fakeRun } from '../helpers/sweep-fakes.js';

describe('critical-batch run loop', () => {
  const config = parseConfig({
    env: { id: 'CartPole-v1', numEnvs: 4 },
    agent: { algo: 'ppo', numSteps: 32, lr: BASE_LR },
    run: { totalSteps: 2048 * 80 },
  });
  const request = (extensions: number): CriticalBatchRequest => ({
    config,
    configDir: '.',
    batchSizes: [128, 256, 512, 1024, 2048],
    seeds: [1, 2, 3],
    lrRule: 'fixed',
    lrExtensions: extensions,
  });

  it('extends the grid where the best lr sits at its edge until it is inside, and reports the fit with scores', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cbrun-')), 'cb');
    const lines: string[] = [];
    const run = await runCriticalBatch({
      request: request(2),
      sweep: { out, workers: 2, runOne: fakeRun },
      analysis: { targets: parseTargets('s=0.5,s=0.9'), bootstrap: { replicates: 100 } },
      say: (line) => lines.push(line),
    });
    // Round 1: ×0.5, 1, 2; B = 2048 wants more (optimum ×3): round 2 adds ×4, which wins, round 3 adds ×8, which does not.
    assert.equal(run.rounds, 3);
    assert.deepEqual([...run.added.entries()], [[2048, [4, 8]]]);
    assert.equal(run.runs, 5 * 3 * 3 + 2 * 3);
    assert.equal(lines.length, 2);
    assert.ok(fs.existsSync(path.join(out, 'runs', 'batch=2048,lrx=8,seed=3', 'summary.json')));
    const analysis = run.analysis!;
    assert.equal(analysis.returnEstimate, 'post-update');
    assert.equal(analysis.scale?.reference, 500);
    const [half] = analysis.targets;
    assert.ok(Math.abs(half!.score - 0.5) < 1e-12);
    assert.ok(Math.abs(half!.target - (analysis.scale!.random + 0.5 * (500 - analysis.scale!.random))) < 1e-9);
    assert.deepEqual(half!.edges, []);
    assert.deepEqual(half!.points.map((p) => p.multiplier), [1, 1, 1, 1, 4]);
    // Constant noise scales: every average is the constant itself.
    assert.ok(Math.abs(half!.bSimpleW.estimate - 300) < 1e-9);
    assert.ok(Math.abs(half!.bSimple.estimate - 300) < 1e-9);
    assert.ok(Math.abs(half!.bNoise.estimate - 150) < 1e-9);
    assert.ok(Math.abs(half!.bNoiseW.estimate - 150) < 1e-9);
    // B = 2048's optimum lr is off the base grid, yet the fit still recovers the B_crit of the tuned runs to within its interval.
    assert.ok(half!.bCrit.lo <= B_CRIT * 1.1 && B_CRIT * 0.9 <= half!.bCrit.hi, JSON.stringify(half!.bCrit));
    const csv = fs.readFileSync(path.join(out, 'critical-batch.csv'), 'utf8');
    assert.match(csv.split('\n')[0]!, /,score,b_simple_w,.*,b_noise,.*,lr_edges,b_crit_median_fit$/);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'critical-batch.json'), 'utf8')) as { rules: Record<string, string>; baseline: { reference: { value: number } } };
    assert.match(json.rules.steps!, /post-update return/);
    assert.equal(json.baseline.reference.value, 500);

    // Rerun into the same folder: the same rounds replay, every run is skipped.
    let ran = 0;
    const again = await runCriticalBatch({
      request: request(2),
      sweep: { out, workers: 2, runOne: async (task) => ((ran += 1), fakeRun(task)) },
      analysis: { targets: parseTargets('s=0.5,s=0.9'), bootstrap: { replicates: 100 } },
      runRound: (plan, options) => runSweep(plan, options),
    });
    assert.equal(ran, 0);
    assert.equal(again.rounds, 3);
  });

  it('flags the cell as at the edge when the extension bound is reached', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cbrun-')), 'cb');
    const run = await runCriticalBatch({
      request: request(0),
      sweep: { out, workers: 2, runOne: fakeRun },
      analysis: { targets: parseTargets('s=0.5'), bootstrap: { replicates: 50 } },
    });
    assert.equal(run.rounds, 1);
    assert.deepEqual(run.analysis!.targets[0]!.edges, [{ batchSize: 2048, edge: 'high' }]);
    assert.match(fs.readFileSync(path.join(out, 'critical-batch.csv'), 'utf8'), /,2048:high,/);
  });
});
