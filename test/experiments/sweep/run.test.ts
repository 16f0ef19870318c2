/**
 * Running a sweep with in-process fake runs: folder and aggregates, resuming, the folder lock, failures recorded while
 * the rest go on, and stopping on abort.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InvalidValueError } from '../../../src/core/errors.js';
import { checkOutDir } from '../../../src/experiments/sweep/folder.js';
import type { RunOne } from '../../../src/experiments/sweep/pool.js';
import { runSweep } from '../../../src/experiments/sweep/run.js';
import { readCsv } from '../../../src/run/csv.js';
import { fakeRun, levelSweep, tempDir, writeFakeRun } from '../../helpers/sweep-fakes.js';

describe('running a sweep (in-process fake runs)', () => {
  it('runs everything, writes sweep.json and the aggregates, and matches progress across seeds', async () => {
    const out = path.join(tempDir(), 'levels');
    const plan = levelSweep();
    assert.equal(checkOutDir(plan, out), 'new');
    const done: string[] = [];
    const result = await runSweep(plan, { out, workers: 3, runOne: fakeRun, onRunDone: (r) => void done.push(r.id), onDone: (dir) => void done.push(`done:${dir}`) });
    assert.equal(result.completed, 6);
    assert.equal(result.failed, 0);
    assert.equal(result.interrupted, false);
    assert.equal(done.length, 7);
    assert.equal(done[6], `done:${out}`);

    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8')) as { kind: string; definition: { grid: unknown }; runs: { id: string; config: { env: { level: number } } }[] };
    assert.equal(manifest.kind, 'sweep');
    assert.deepEqual(manifest.definition.grid, { 'env.level': [0, 1, 2] });
    assert.equal(manifest.runs.length, 6);
    assert.equal(manifest.runs[5]!.config.env.level, 2);

    const header = fs.readFileSync(path.join(out, 'sweep.csv'), 'utf8').split('\n')[0]!.split(',');
    for (const column of ['run_id', 'status', 'env.level', 'seed', 'env_id', 'algo', 'env_steps', 'return_mean_final', 'return_mean_best']) assert.ok(header.includes(column), column);
    for (const c of ['policy', 'value', 'total']) {
      for (const figure of ['b_simple_mean', 'b_simple_final', 'b_simple_matched', 'growth']) assert.ok(header.includes(`${figure}_${c}`), `${figure}_${c}`);
    }
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.equal(rows.length, 6);
    const row = rows.find((r) => r.run_id === 'level=2,seed=1')!;
    assert.equal(row.status, 'completed');
    assert.equal(row['env.level'], '2');
    assert.equal(row.env_steps, '1280');
    assert.equal(row.batch_size, '64');
    // Fake B_simple = 100·(1 + level)·(1 + 9·fraction) over 20 updates.
    const expectedMean = (300 * (20 + (9 * 210) / 20)) / 20;
    assert.ok(Math.abs(Number(row.b_simple_mean_policy) - expectedMean) < 1e-6);
    assert.equal(Number(row.b_simple_final_value), 3000);
    // Growth: last quarter (updates 16..20, mean fraction 0.9) over the first (1..5, mean 0.15): 9.1/2.35.
    assert.ok(Math.abs(Number(row.growth_total) - 9.1 / 2.35) < 1e-6); // CSV cells keep 9 significant digits
    // Return 10·update capped at 150: range 10..150, target 80, reached at update 8 (512 env steps); the 10
    // measurements around it are updates 3..12 (mean fraction 0.375).
    assert.equal(Number(row.matched_target), 80);
    assert.equal(row.matched_update, '8');
    assert.equal(row.matched_env_steps, '512');
    assert.ok(Math.abs(Number(row.b_simple_matched_policy) - 300 * (1 + 9 * 0.375)) < 1e-9);

    const groups = readCsv(path.join(out, 'sweep-groups.csv')).rows;
    assert.deepEqual(groups.map((g) => g.group), ['level=0', 'level=1', 'level=2']);
    assert.equal(groups[1]!.completed, '2');
    assert.ok(Math.abs(Number(groups[2]!.b_simple_matched_total) - 300 * (1 + 9 * 0.375)) < 1e-9);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'sweep-summary.json'), 'utf8')) as { levelRatios: { levels: number[]; component: string; figure: string; ratio: number; lo: number; hi: number }[]; rules: Record<string, string> };
    const ratio = summary.levelRatios.find((r) => r.component === 'policy' && r.figure === 'matched')!;
    assert.deepEqual(ratio.levels, [0, 2]);
    assert.ok(Math.abs(ratio.ratio - 3) < 1e-9 && Math.abs(ratio.lo - 3) < 1e-9 && Math.abs(ratio.hi - 3) < 1e-9);
    assert.match(summary.rules.matchedProgress!, /first update with return_mean ≥ target/);
  });

  it('resumes: completed runs are skipped, incomplete ones cleared and rerun; a different sweep is refused', async () => {
    const out = path.join(tempDir(), 'levels');
    const plan = levelSweep();
    await runSweep(plan, { out, workers: 2, runOne: fakeRun });
    const calls: string[] = [];
    const counting: RunOne = (task, signal) => {
      calls.push(task.id);
      return fakeRun(task, signal);
    };
    assert.equal(checkOutDir(levelSweep(), out), 'resume');
    let result = await runSweep(levelSweep(), { out, workers: 2, runOne: counting });
    assert.deepEqual(calls, []);
    assert.equal(result.skipped, 6);

    // A killed run (no summary, a half-written log) and an interrupted one are rerun from scratch.
    const killed = path.join(out, 'runs', 'level=1,seed=2');
    fs.rmSync(path.join(killed, 'summary.json'));
    fs.writeFileSync(path.join(killed, 'stray.txt'), 'x');
    const interrupted = path.join(out, 'runs', 'level=0,seed=1', 'summary.json');
    fs.writeFileSync(interrupted, JSON.stringify({ ...JSON.parse(fs.readFileSync(interrupted, 'utf8')), status: 'interrupted' }));
    result = await runSweep(levelSweep(), { out, workers: 2, runOne: counting });
    assert.deepEqual(calls.sort(), ['level=0,seed=1', 'level=1,seed=2']);
    assert.equal(result.skipped, 4);
    assert.equal(result.completed, 2);
    assert.equal(fs.existsSync(path.join(killed, 'stray.txt')), false);
    assert.ok(readCsv(path.join(out, 'sweep.csv')).rows.every((r) => r.status === 'completed'));

    assert.throws(
      () => checkOutDir(levelSweep({ seeds: 3 }), out),
      (error: unknown) => error instanceof InvalidValueError && error.path === '--out' && /different sweep \('levels'\)/.test(error.message),
    );
    const other = tempDir();
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    assert.throws(() => checkOutDir(plan, other), /holds files but no sweep\.json/);

    // A sweep still running in the folder (a live pid in sweep.lock) is refused; a stale lock is ignored.
    assert.equal(fs.existsSync(path.join(out, 'sweep.lock')), false);
    fs.writeFileSync(path.join(out, 'sweep.lock'), JSON.stringify({ pid: process.ppid, host: os.hostname() }));
    assert.throws(() => checkOutDir(plan, out), new RegExp(`another gradnoise process \\(pid ${process.ppid}\\)`));
    await assert.rejects(runSweep(plan, { out, runOne: counting }), /another gradnoise process/);
    fs.writeFileSync(path.join(out, 'sweep.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname() }));
    assert.equal(checkOutDir(plan, out), 'resume');
  });

  it('records failed, diverged and crashing runs while the rest complete', async () => {
    const out = path.join(tempDir(), 'failing');
    const runOne: RunOne = async (task, signal) => {
      if (task.id === 'level=1,seed=1') return writeFakeRun(task, { status: 'diverged' }, signal);
      if (task.id === 'level=2,seed=2') throw new Error('boom: the agent blew up');
      if (task.id === 'level=0,seed=2') return { status: 'failed', error: 'failed before writing anything' };
      return fakeRun(task, signal);
    };
    const result = await runSweep(levelSweep(), { out, workers: 2, runOne });
    assert.equal(result.completed, 3);
    assert.equal(result.failed, 3);
    const rows = new Map(readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r]));
    assert.equal(rows.get('level=1,seed=1')!.status, 'diverged');
    assert.equal(rows.get('level=2,seed=2')!.status, 'failed');
    assert.match(rows.get('level=2,seed=2')!.error!, /boom: the agent blew up/);
    assert.match(rows.get('level=0,seed=2')!.error!, /failed before writing anything/);
    assert.equal(rows.get('level=2,seed=1')!.status, 'completed');
    // Every run folder ends with a summary.json.
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'level=2,seed=2', 'summary.json'), 'utf8')) as { status: string; envId: string };
    assert.deepEqual([summary.status, summary.envId], ['failed', 'CartPole-v1']);
    // Failed runs are rerun on resume.
    const again = await runSweep(levelSweep(), { out, workers: 2, runOne: fakeRun });
    assert.equal(again.skipped, 3);
    assert.equal(again.completed, 3);
  });

  it('stops on abort: running runs end interrupted, the rest stay pending', async () => {
    const out = path.join(tempDir(), 'stopped');
    const stop = new AbortController();
    // The first run is instant, the others take 20 ms per update: the abort after the first finds the second running.
    const runOne: RunOne = (task, signal) => writeFakeRun(task, task.id === 'level=0,seed=1' ? {} : { msPerUpdate: 20 }, signal);
    const result = await runSweep(levelSweep(), { out, workers: 2, runOne, signal: stop.signal, onRunDone: () => stop.abort() });
    assert.equal(result.interrupted, true);
    const statuses = readCsv(path.join(out, 'sweep.csv')).rows.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 'completed').length, 1);
    assert.equal(statuses.filter((s) => s === 'interrupted').length, 1);
    assert.equal(statuses.filter((s) => s === 'pending').length, 4);
  });
});

