/** Stopping at a return target: the trainer settles the same update the critical-batch analysis finds, and stops there. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { firstReaching } from '../../src/analysis/noise-figures.js';
import { postUpdateReturns } from '../../src/analysis/score.js';
import { readCsvIfExists } from '../../src/run/csv.js';
import { Rng } from '../../src/core/rng.js';
import { observeTarget, type LoggedCount } from '../../src/run/target-stop.js';
import { train, WALL_CLOCK_COLUMNS } from '../../src/run/trainer.js';
import type { RunSummary } from '../../src/run/run-folder.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-stop-'));
}

function bandit(run: Record<string, unknown> = {}) {
  return parseConfig({
    env: { id: 'GaussianBandit-v0', numEnvs: 4, level: 2 },
    agent: { algo: 'reinforce', lr: 0.05, numSteps: 8, baseline: 'mean', normAdv: false, entCoef: 0, maxGradNorm: 0, network: { hidden: [] } },
    monitor: { enabled: true },
    run: { totalSteps: 4096, seed: 7, backend: 'cpu', checkpointEvery: 0, ...run },
  });
}

/** metrics.csv as rows of cells, the wall-clock columns dropped. */
function rowsOf(dir: string): string[][] {
  const table = readCsvIfExists(path.join(dir, 'metrics.csv'))!;
  const columns = table.columns.filter((c) => !(WALL_CLOCK_COLUMNS as readonly string[]).includes(c));
  return table.rows.map((row) => columns.map((c) => row[c]!));
}

function firstReach(dir: string, target: number, episodes = 10) {
  return firstReaching(postUpdateReturns(readCsvIfExists(path.join(dir, 'metrics.csv')), episodes)!, target);
}

describe('observeTarget', () => {
  it('settles each logged row exactly as postUpdateReturns reads it back, and names the first that reaches', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 50; trial++) {
      const episodesAfter = 1 + Math.floor(rng.uniform() * 6);
      let episodes = 0;
      let sum = 0;
      const rows: LoggedCount[] = [];
      for (let u = 1; u <= 60; u++) {
        const ended = Math.floor(rng.uniform() * 4);
        for (let e = 0; e < ended; e++) sum += rng.normal() + u / 30;
        episodes += ended;
        rows.push({ update: u, envSteps: 16 * u, episodes, returnSum: sum });
      }
      const table = { columns: ['update', 'env_steps', 'episodes', 'return_sum'], rows: rows.map((r) => ({ update: String(r.update), env_steps: String(r.envSteps), episodes: String(r.episodes), return_sum: String(Number(r.returnSum.toPrecision(9))) })) };
      const target = 0.5 + rng.uniform();
      const expected = firstReaching(postUpdateReturns(table, episodesAfter)!, target);
      const pending: LoggedCount[] = [];
      let found = null;
      let settledAt = -1;
      for (const [i, row] of rows.entries()) {
        found = observeTarget(pending, row, target, episodesAfter);
        if (found) {
          settledAt = i;
          break;
        }
      }
      assert.deepEqual(found && { update: found.update, envSteps: found.envSteps, returnMean: found.returnMean }, expected && { update: expected.update, envSteps: expected.envSteps, returnMean: expected.returnMean });
      if (expected) {
        // Settled by the first row that has enough episodes after the reaching one, not later.
        const at = rows.findIndex((r) => r.update === expected.update);
        const first = rows.findIndex((r, j) => j > at && r.episodes - rows[at]!.episodes >= episodesAfter);
        assert.equal(settledAt, first);
      }
    }
  });
});

describe('run.stopAtReturn', () => {
  it('stops right after the row that settles the target; the rows up to there equal a full run', async () => {
    const full = path.join(tempDir(), 'full');
    const whole = await train(bandit(), { runDir: full });
    assert.equal(whole.status, 'completed');
    assert.equal(whole.target, undefined);
    // A target the full run reaches half-way or so: the return halfway between its first and its best estimate.
    const estimates = postUpdateReturns(readCsvIfExists(path.join(full, 'metrics.csv')))!.map((p) => p.returnMean).filter(Number.isFinite);
    const target = (estimates[0]! + Math.max(...estimates)) / 2;
    const reach = firstReach(full, target)!;
    assert.ok(reach.envSteps < 3000, `target ${target} is reached at ${reach.envSteps} env steps: too late for the test`);

    for (const logEvery of [1, 3]) {
      const reference = logEvery === 1 ? full : path.join(tempDir(), 'full3');
      if (logEvery !== 1) await train(bandit({ logEvery }), { runDir: reference });
      const stopped = path.join(tempDir(), `stopped${logEvery}`);
      const summary = await train(bandit({ stopAtReturn: target, logEvery }), { runDir: stopped });
      assert.equal(summary.status, 'completed');
      const expected = firstReach(reference, target)!;
      assert.deepEqual(summary.target, { return: target, episodes: 10, reached: { update: expected.update, envSteps: expected.envSteps, returnMean: expected.returnMean } });
      assert.ok(summary.envSteps < 4096, 'the rest of the budget is not spent');
      const a = rowsOf(stopped);
      const b = rowsOf(reference);
      assert.deepEqual(a, b.slice(0, a.length), 'the rows written are those of the full run');
      // The analysis finds the same update in the stopped folder, and the last row is the one that settled it.
      assert.deepEqual(firstReach(stopped, target), expected);
      const metrics = readCsvIfExists(path.join(stopped, 'metrics.csv'))!.rows;
      const at = metrics.findIndex((r) => Number(r['update']) === expected.update);
      const last = metrics.at(-1)!;
      assert.ok(Number(last['episodes']) - Number(metrics[at]!['episodes']) >= 10);
      assert.ok(Number(metrics.at(-2)!['episodes']) - Number(metrics[at]!['episodes']) < 10 || metrics.length - 2 === at);
    }
  });

  it('a target never reached leaves the run to its budget, with reached: null', async () => {
    const summary: RunSummary = await train(bandit({ stopAtReturn: 1e6, totalSteps: 512 }), { runDir: path.join(tempDir(), 'never') });
    assert.equal(summary.status, 'completed');
    assert.equal(summary.envSteps, 512);
    assert.deepEqual(summary.target, { return: 1e6, episodes: 10, reached: null });
  });

  it('a run interrupted between reaching the target and settling it stops, resumed, where one that ran through does', async () => {
    // 100 episodes per estimate (about 3 updates of 32 one-step episodes): the interruption falls inside that gap.
    const through = path.join(tempDir(), 'through');
    const whole = await train(bandit({ checkpointEvery: 1 }), { runDir: through });
    const estimates = postUpdateReturns(readCsvIfExists(path.join(through, 'metrics.csv')), 100)!.map((p) => p.returnMean).filter(Number.isFinite);
    const target = Math.max(...estimates.slice(0, 13)) + 1e-9;
    const stopConfig = bandit({ checkpointEvery: 1, stopAtReturn: target, stopEpisodes: 100 });
    const straight = path.join(tempDir(), 'straight');
    const expected = await train(stopConfig, { runDir: straight });
    const reachedAt = expected.target?.reached?.update ?? NaN;
    assert.ok(reachedAt > 12 && expected.updates >= reachedAt + 3 && expected.updates < whole.updates, JSON.stringify([expected.target, expected.updates]));
    const broken = path.join(tempDir(), 'broken');
    const controller = new AbortController();
    const abortAt = reachedAt + 1;
    const first = await train(stopConfig, { runDir: broken, signal: controller.signal, noiseProgress: ({ update }) => (update === abortAt ? (controller.abort(), null) : null) });
    assert.equal(first.status, 'interrupted');
    assert.equal(first.updates, abortAt);
    const resumed = await train(stopConfig, { runDir: broken, resume: true });
    assert.deepEqual(resumed.target, expected.target);
    assert.equal(resumed.updates, expected.updates);
    assert.deepEqual(rowsOf(broken), rowsOf(straight));
  });
});
