/** Critical batch: the S(B) fit recovers known S_min and B_crit; targets, lr rule, batch shapes and the run plan. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import {
  analyzeCriticalBatch,
  batchShape,
  criticalBatchFromRuns,
  defaultLrAlpha,
  parseNumberList,
  parseTargets,
  planCriticalBatch,
  targetStop,
} from '../../src/experiments/critical-batch.js';
import { analyzeTarget, bestPerBatchSize, fitCriticalBatch, paperLearningRate, type TargetCell } from '../../src/analysis/critical-batch-fit.js';
import { InputError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { runSweep } from '../../src/experiments/sweep/run.js';
import { BASELINE_FILE, measureBaseline } from '../../src/experiments/critical-batch-baseline.js';
import { writeJsonAtomic } from '../../src/run/run-folder.js';
import type { RunSeries } from '../../src/analysis/noise-figures.js';
import { writeFakeRun } from '../helpers/sweep-fakes.js';

const S_MIN = 200;
const B_CRIT = 1000;
const BATCHES = [64, 128, 256, 512, 1024, 2048, 4096, 8192];

function steps(batch: number): number {
  return S_MIN * (1 + B_CRIT / batch);
}

describe('fitCriticalBatch', () => {
  it('recovers S_min and B_crit exactly from noiseless S(B)', () => {
    const fit = fitCriticalBatch(BATCHES.map((b) => ({ batchSize: b, steps: steps(b) })));
    assert.equal(fit.regime, 'fit');
    assert.ok(Math.abs(fit.sMin - S_MIN) < 1e-6);
    assert.ok(Math.abs(fit.bCrit - B_CRIT) < 1e-6);
    assert.ok(Math.abs(fit.eMin - S_MIN * B_CRIT) < 1e-3);
    assert.ok(fit.rmsRelativeResidual < 1e-12);
  });

  it('reports a range far above or below B_crit instead of a nonsense fit', () => {
    const perfectScaling = fitCriticalBatch([64, 128, 256].map((b) => ({ batchSize: b, steps: 1e6 / b })));
    assert.equal(perfectScaling.regime, 'b_crit_above_range');
    assert.equal(perfectScaling.bCrit, Infinity);
    assert.ok(Math.abs(perfectScaling.eMin - 1e6) < 1e-3);
    const noGain = fitCriticalBatch([
      { batchSize: 1024, steps: 100 },
      { batchSize: 2048, steps: 105 },
      { batchSize: 4096, steps: 110 },
    ]);
    assert.equal(noGain.regime, 'b_crit_below_range');
    assert.equal(noGain.bCrit, 0);
    assert.equal(fitCriticalBatch([{ batchSize: 64, steps: 10 }]).batchSizes, 1);
    assert.ok(Number.isNaN(fitCriticalBatch([{ batchSize: 64, steps: 10 }, { batchSize: 64, steps: 12 }]).bCrit));
  });

  it('analyzeTarget fits every reaching seed of the kept cells (profile likelihood) and keeps the median fit beside it', () => {
    const rng = new Rng(100);
    const cells: TargetCell[] = BATCHES.map((batchSize) => ({
      batchSize,
      lr: 1e-3,
      label: `batch=${batchSize}`,
      outcomes: Array.from({ length: 5 }, () => {
        const s = Math.round(steps(batchSize) * Math.exp(0.1 * rng.normal()));
        return { steps: s, samples: s * batchSize };
      }),
    }));
    const result = analyzeTarget(cells);
    assert.equal(result.points.length, BATCHES.length);
    assert.equal(result.fit.points, BATCHES.length * 5);
    assert.ok(result.bCrit.lo <= result.bCrit.estimate && result.bCrit.estimate <= result.bCrit.hi);
    assert.ok(result.bCrit.lo <= B_CRIT && B_CRIT <= result.bCrit.hi, JSON.stringify(result.bCrit));
    assert.ok(Math.abs(result.bCrit.estimate / B_CRIT - 1) < 0.3, String(result.bCrit.estimate));
    assert.ok(Math.abs(result.fit.medianFit.bCrit / B_CRIT - 1) < 0.3, String(result.fit.medianFit.bCrit));
    // A narrower confidence gives a narrower interval.
    const narrow = analyzeTarget(cells, 0.5);
    assert.ok(narrow.bCrit.hi - narrow.bCrit.lo < result.bCrit.hi - result.bCrit.lo);
  });

  it('keeps the best learning rate per batch size and leaves out batch sizes that do not reach the target', () => {
    const cell = (batchSize: number, lr: number, s: number[]): TargetCell => ({
      batchSize,
      lr,
      label: `batch=${batchSize},lr=${lr}`,
      outcomes: s.map((x) => ({ steps: x, samples: x * batchSize })),
    });
    const { points, unreached } = bestPerBatchSize([
      cell(64, 1, [100, 120, 110]),
      cell(64, 2, [90, 95, Infinity]), // median 95: better, though one seed failed
      cell(128, 1, [Infinity, Infinity, 50]), // median ∞: not reached
      cell(256, 1, [40, 41, 42]),
    ]);
    assert.deepEqual(
      points.map((p) => [p.batchSize, p.lr, p.steps, p.reached]),
      [
        [64, 2, 95, 2],
        [256, 1, 41, 3],
      ],
    );
    assert.deepEqual(unreached, [128]);
    const none = analyzeTarget([cell(64, 1, [Infinity, Infinity]), cell(128, 1, [Infinity, 5])]);
    assert.equal(none.fit.batchSizes, 0);
    assert.ok(Number.isNaN(none.bCrit.estimate));
  });
});

describe('critical-batch rules', () => {
  const config = parseConfig({ env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 128, lr: 1e-3 }, run: { totalSteps: 4096 } });

  it('the paper lr rule equals the config lr at its own batch and saturates at large B', () => {
    assert.ok(Math.abs(paperLearningRate(1e-3, 512, 512, 512, 1) - 1e-3) < 1e-15);
    assert.ok(Math.abs(paperLearningRate(1e-3, 512, 1e9, 512, 1) - 2e-3) < 1e-8); // ε_max = ε₀(1 + B_s/B₀)
    assert.ok(Math.abs(paperLearningRate(1e-3, 512, 256, 512, 0.5) - 1e-3 * Math.sqrt(2 / 3)) < 1e-12);
    assert.equal(defaultLrAlpha(config), 0.5);
  });

  it('maps batch sizes to (numEnvs, numSteps) and rejects ones that do not divide', () => {
    assert.deepEqual(batchShape(config, 1024, 'envs'), { numEnvs: 8, numSteps: 128 });
    assert.deepEqual(batchShape(config, 1024, 'steps'), { numEnvs: 4, numSteps: 256 });
    assert.throws(() => batchShape(config, 100, 'envs'), (e: unknown) => e instanceof InputError && e.path === '--batch-sizes' && e.value === 100);
  });

  it('parses lists and targets, naming the flag and the bad value', () => {
    assert.deepEqual(parseNumberList('64, 128,256', '--batch-sizes', { integer: true }), [64, 128, 256]);
    assert.throws(() => parseNumberList('64,abc', '--batch-sizes'), /--batch-sizes: expected a number \(got 'abc'\)/);
    assert.throws(() => parseNumberList('64,1.5', '--batch-sizes', { integer: true }), /expected an integer/);
    assert.deepEqual(parseTargets('25%,200'), [
      { kind: 'fraction', value: 0.25, label: '25%' },
      { kind: 'return', value: 200, label: '200' },
    ]);
    assert.throws(() => parseTargets('150%'), /--targets: percentages/);
  });

  it('plans batch sizes × lr multipliers × seeds with readable ids and validated configs', () => {
    const plan = planCriticalBatch({ config, configDir: '.', batchSizes: [1024, 512], seeds: [1, 2], lrMultipliers: [0.5, 1], minBatchSpan: 2 });
    assert.equal(plan.kind, 'critical-batch');
    assert.equal(plan.runs.length, 8);
    assert.deepEqual(plan.runs.slice(0, 2).map((r) => r.id), ['batch=512,lrx=0.5,seed=1', 'batch=512,lrx=0.5,seed=2']);
    const run = plan.runs.find((r) => r.id === 'batch=1024,lrx=1,seed=2')!;
    assert.equal(run.config.env.numEnvs, 8);
    assert.equal(run.config.agent.numSteps, 128);
    assert.equal(run.config.run.seed, 2);
    // Paper rule, α = 0.5 for Adam, B_s = B₀ = 512: ε(1024) = ε₀·sqrt(2/1.5).
    assert.ok(Math.abs(run.config.agent.lr - 1e-3 * Math.sqrt(2 / 1.5)) < 1e-8);
    const fixed = planCriticalBatch({ config, configDir: '.', batchSizes: [256, 512], seeds: [1], lrRule: 'fixed', lrMultipliers: [1], minBatchSpan: 2 });
    assert.deepEqual(fixed.runs.map((r) => [r.id, r.config.agent.lr]), [
      ['batch=256,seed=1', 1e-3],
      ['batch=512,seed=1', 1e-3],
    ]);
    assert.throws(() => planCriticalBatch({ config, configDir: '.', batchSizes: [512], seeds: [1] }), /at least two/);
    assert.throws(() => planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1], lrMultipliers: [0] }), /--lr-multipliers/);
  });

  it('stops runs at the highest fixed target: targetStop, and the plan writes it into every run and its definition', () => {
    const scale = { random: 20, reference: 500 };
    assert.equal(targetStop(parseTargets('s=0.5,s=0.8'), scale), 20 + 0.8 * 480);
    assert.equal(targetStop(parseTargets('150,s=0.2'), scale), 150);
    assert.equal(targetStop(parseTargets('s=0.5'), null), null, 'a score needs the scale');
    assert.equal(targetStop(parseTargets('200,50%'), scale), null, 'a fraction of the reached range is known only at the end');
    const plan = planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1, 2], stop: { return: 404, episodes: 12 } });
    for (const run of plan.runs) assert.deepEqual([run.config.run.stopAtReturn, run.config.run.stopEpisodes], [404, 12]);
    assert.equal((plan.definition as { config: { run: { stopAtReturn?: number } } }).config.run.stopAtReturn, 404, 'a resume compares it');
    const plain = planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1] });
    assert.ok(plain.runs.every((r) => r.config.run.stopAtReturn === undefined));
    // The estimate's episodes go into the definition where they differ from 10 (older folders stay comparable).
    const reach = (episodes: number) => (planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1], reachEpisodes: episodes }).definition as { reachEpisodes?: number }).reachEpisodes;
    assert.deepEqual([reach(25), reach(10)], [25, undefined]);
  });

  it('defaults to a 3-value lr grid spanning 4×, refuses batch sizes spanning under 16×, adds extension cells', () => {
    const plan = planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1] });
    assert.deepEqual(plan.runs.map((r) => r.id), ['batch=128,lrx=0.5,seed=1', 'batch=128,lrx=1,seed=1', 'batch=128,lrx=2,seed=1', 'batch=2048,lrx=0.5,seed=1', 'batch=2048,lrx=1,seed=1', 'batch=2048,lrx=2,seed=1']);
    const lrs = plan.runs.filter((r) => r.id.startsWith('batch=128,')).map((r) => r.config.agent.lr);
    assert.ok(Math.abs(lrs[2]! / lrs[0]! - 4) < 1e-4);
    assert.throws(
      () => planCriticalBatch({ config, configDir: '.', batchSizes: [128, 256, 1024], seeds: [1] }),
      (e: unknown) => e instanceof InputError && e.path === '--batch-sizes' && /spans 8×.*at least 16×/.test(e.message),
    );
    const extended = planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1], extraMultipliers: new Map([[2048, [4]]]) });
    assert.deepEqual(extended.definition, plan.definition);
    assert.deepEqual(extended.runs.map((r) => r.id).slice(3), ['batch=2048,lrx=0.5,seed=1', 'batch=2048,lrx=1,seed=1', 'batch=2048,lrx=2,seed=1', 'batch=2048,lrx=4,seed=1']);
    // Single-value grid: ids without lrx until an extension names the multipliers.
    const single = planCriticalBatch({ config, configDir: '.', batchSizes: [128, 2048], seeds: [1], lrMultipliers: [1], extraMultipliers: new Map([[128, [2]]]) });
    assert.deepEqual(single.runs.map((r) => r.id), ['batch=128,seed=1', 'batch=128,lrx=2,seed=1', 'batch=2048,seed=1']);
  });
});

describe('critical-batch analysis of run folders', () => {
  /** A run whose return climbs linearly and reaches `reach` after steps(B) updates; B_simple 300 throughout. */
  function fakeData(batch: number, seed: number, status = 'completed'): RunSeries {
    const need = steps(batch) * (1 + 0.05 * (seed - 2));
    const updates = Math.ceil(need * 1.5);
    const returnsList = Array.from({ length: updates }, (_, i) => ({ update: i + 1, envSteps: (i + 1) * batch, returnMean: (100 * (i + 1)) / need }));
    const noise = Array.from({ length: updates }, (_, i) => ({ update: i + 1, envSteps: (i + 1) * batch, gradSq: 2, traceSigma: 600 }));
    return {
      summary: { status, envId: 'X', algo: 'ppo', seed, backend: 'cpu', gpu: false, updates, envSteps: updates * batch, episodes: 1, wallS: 1, returnMean: 150, returnBest: 150 } as RunSeries['summary'],
      returns: returnsList,
      noise: { policy: noise, value: noise, total: noise },
    };
  }

  it('fits each target from steps-to-target medians and compares with B_simple up to the target', () => {
    const runs = BATCHES.flatMap((batch) => [1, 2, 3].map((seed) => ({ id: `batch=${batch},seed=${seed}`, group: `batch=${batch}`, batchSize: batch, lr: 1e-3, data: fakeData(batch, seed) })));
    runs.push({ id: 'batch=64,seed=4', group: 'batch=64', batchSize: 64, lr: 1e-3, data: fakeData(64, 4, 'interrupted') });
    const result = criticalBatchFromRuns(runs, BATCHES, { targets: parseTargets('100,1000'), bootstrap: { replicates: 200 } });
    assert.equal(result.runsUsed, BATCHES.length * 3);
    assert.deepEqual(result.runsLeftOut, [{ id: 'batch=64,seed=4', status: 'interrupted' }]);
    const [reachable, unreachable] = result.targets;
    assert.equal(reachable!.excluded, false);
    assert.equal(reachable!.points.length, BATCHES.length);
    assert.ok(Math.abs(reachable!.bCrit.estimate / B_CRIT - 1) < 0.05, String(reachable!.bCrit.estimate));
    assert.ok(Math.abs(reachable!.sMin.estimate / S_MIN - 1) < 0.05);
    assert.ok(Math.abs(reachable!.bSimple.estimate - 300) < 1e-9);
    assert.equal(unreachable!.excluded, true);
    assert.match(unreachable!.reason!, /0 of 8 batch sizes/);
    assert.deepEqual(unreachable!.unreachedBatchSizes, BATCHES);
  });

  it('runs through the sweep machinery and writes critical-batch.csv and .json', async () => {
    const config = parseConfig({ env: { id: 'CartPole-v1', numEnvs: 1 }, agent: { algo: 'ppo', numSteps: 64 }, run: { totalSteps: 512 * 60 } });
    const plan = planCriticalBatch({ config, configDir: '.', batchSizes: [64, 128, 256, 512], seeds: [1, 2, 3], lrRule: 'fixed', lrMultipliers: [1], minBatchSpan: 8 });
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cb-')), 'cb');
    const result = await runSweep(plan, {
      out,
      workers: 3,
      // S(B) = 20(1 + 256/B) updates to reach a return of 100.
      runOne: async (task) => writeFakeRun(task, { reachAfterUpdates: 20 * (1 + 256 / (task.config.env.numEnvs * task.config.agent.numSteps)) }),
    });
    assert.equal(result.completed, 12);
    const analysis = analyzeCriticalBatch(out, { targets: parseTargets('50%,100'), bootstrap: { replicates: 200 } });
    const fitted = analysis.targets[1]!;
    assert.ok(Math.abs(fitted.bCrit.estimate / 256 - 1) < 0.15, String(fitted.bCrit.estimate));
    const csv = fs.readFileSync(path.join(out, 'critical-batch.csv'), 'utf8').split('\n');
    assert.match(csv[0]!, /^target,target_spec,b_crit,b_crit_lo,b_crit_hi,s_min,s_min_lo,s_min_hi,e_min,e_min_lo,e_min_hi,b_simple,b_simple_lo,b_simple_hi,b_simple_over_b_crit,n_batch_sizes_reached/);
    assert.equal(csv.filter((l) => l.length > 0).length, 3);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'critical-batch.json'), 'utf8')) as { targets: unknown[]; rules: Record<string, string> };
    assert.equal(json.targets.length, 2);
    assert.match(json.rules.fit!, /profile likelihood/);
    assert.match(json.rules.fit!, /1\/Ŝ² with Ŝ the fitted curve/);
    assert.match(json.rules.steps!, /return_mean/);
    assert.throws(() => analyzeCriticalBatch(path.join(out, 'runs')), /not a critical-batch folder/);
    // The analysis (a finish job, the report) takes the estimate's episodes from sweep.json unless told otherwise.
    const out25 = path.join(path.dirname(out), 'cb25');
    await runSweep(planCriticalBatch({ config, configDir: '.', batchSizes: [64, 512], seeds: [1], lrRule: 'fixed', lrMultipliers: [1], minBatchSpan: 8, reachEpisodes: 25 }), {
      out: out25,
      workers: 1,
      runOne: async (task) => writeFakeRun(task, { reachAfterUpdates: 30 }),
    });
    assert.equal(analyzeCriticalBatch(out25, { targets: parseTargets('100') }).reachEpisodes, 25);
    assert.equal(analyzeCriticalBatch(out25, { targets: parseTargets('100'), reachEpisodes: 12 }).reachEpisodes, 12);
    // Without targets (a `sweep finish` by hand) it takes the CLI's defaults: score targets where baseline.json has R_ref.
    const labels = () => analyzeCriticalBatch(out25, { bootstrap: { replicates: 20 } }).targets.map((t) => t.spec.label);
    assert.deepEqual(labels(), ['25%', '50%', '75%']);
    writeJsonAtomic(path.join(out25, BASELINE_FILE), measureBaseline(config));
    assert.deepEqual(labels(), ['s=0.5', 's=0.8']);
  });
});
