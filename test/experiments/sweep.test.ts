/**
 * Sweeps: expansion and ids, validation errors naming path and value, resuming, failures recorded while the rest go
 * on, the aggregate CSVs, worker processes (crash, Ctrl-C), and one real end-to-end sweep.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { sweepCommand } from '../../src/cli/commands/sweep.js';
import { ConfigError, InputError, InvalidValueError } from '../../src/core/errors.js';
import { readCsv } from '../../src/run/csv.js';
import {
  checkOutDir,
  expandSweep,
  formatIdValue,
  loadSweepFile,
  runSweep,
  shortNames,
  validatePlan,
  type RunOne,
  type SweepPlan,
} from '../../src/experiments/sweep.js';
import { writeFakeRun } from '../helpers/sweep-fakes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');

/** Batch 64, 20 updates. */
const BASE = { env: { id: 'CartPole-v1', numEnvs: 2 }, agent: { algo: 'ppo', numSteps: 32 }, run: { totalSteps: 1280 } };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-sweep-'));
}

function levelSweep(extra: Record<string, unknown> = {}): SweepPlan {
  return expandSweep({ name: 'levels', base: BASE, grid: { 'env.level': [0, 1, 2] }, seeds: 2, ...extra }, '.');
}

const fakeRun: RunOne = (task, signal) => writeFakeRun(task, {}, signal);

function throwsConfig(fn: () => unknown, at: string, value: unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.path, at);
    assert.deepEqual(error.value, value);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('sweep expansion', () => {
  it('crosses the grid with the seeds, with readable ids and full config paths kept', () => {
    const plan = expandSweep({ name: 'demo', base: BASE, grid: { 'env.level': [0, 3], 'agent.lr': [0.001, 0.0003] }, seeds: [1, 2] }, '.');
    assert.equal(plan.runs.length, 8);
    assert.deepEqual(plan.keys, ['env.level', 'agent.lr']);
    assert.deepEqual(
      plan.runs.map((r) => r.id).slice(0, 4),
      ['level=0,lr=0.001,seed=1', 'level=0,lr=0.001,seed=2', 'level=0,lr=0.0003,seed=1', 'level=0,lr=0.0003,seed=2'],
    );
    const run = plan.runs.find((r) => r.id === 'level=3,lr=0.0003,seed=2')!;
    assert.equal(run.group, 'level=3,lr=0.0003');
    assert.deepEqual(run.settings, { 'env.level': 3, 'agent.lr': 0.0003 });
    assert.equal(run.config.env.level, 3);
    assert.equal(run.config.agent.lr, 0.0003);
    assert.equal(run.config.run.seed, 2);
    assert.ok(Object.isFrozen(run.config));
    assert.deepEqual((plan.definition as { seeds: number[] }).seeds, [1, 2]);
  });

  it('takes a seed count, fixed overrides and an explicit settings list (only varying paths in the id)', () => {
    const plan = expandSweep(
      {
        name: 'lists',
        base: BASE,
        settings: [
          { 'agent.numSteps': 32, 'agent.lr': 0.001 },
          { 'agent.numSteps': 64, 'agent.lr': 0.001 },
        ],
        seeds: 3,
        set: { 'run.totalSteps': 640 },
      },
      '.',
    );
    assert.deepEqual(plan.runs.map((r) => r.id), ['numSteps=32,seed=1', 'numSteps=32,seed=2', 'numSteps=32,seed=3', 'numSteps=64,seed=1', 'numSteps=64,seed=2', 'numSteps=64,seed=3']);
    assert.ok(plan.runs.every((r) => r.config.run.totalSteps === 640 && r.config.agent.lr === 0.001));
    assert.deepEqual(plan.keys, ['agent.numSteps', 'agent.lr']);
    const single = expandSweep({ name: 'one', base: BASE }, '.');
    assert.deepEqual(single.runs.map((r) => r.id), ['seed=1']);
  });

  it('reads the base config relative to the sweep file', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'configs'));
    fs.mkdirSync(path.join(dir, 'sweeps'));
    fs.writeFileSync(path.join(dir, 'configs', 'base.json'), JSON.stringify(BASE));
    fs.writeFileSync(path.join(dir, 'sweeps', 's.json'), JSON.stringify({ name: 's', base: '../configs/base.json', grid: { 'env.level': [4] } }));
    const plan = loadSweepFile(path.join(dir, 'sweeps', 's.json'));
    assert.equal(plan.runs[0]!.id, 'level=4,seed=1');
    assert.equal(plan.configDir, path.join(dir, 'configs'));
    assert.deepEqual((plan.definition as { base: unknown }).base, BASE);
  });

  it('shortens paths to their last segment unless two clash, and formats values for folder names', () => {
    assert.deepEqual(shortNames(['env.level', 'agent.lr']), ['level', 'lr']);
    assert.deepEqual(shortNames(['agent.network.hidden', 'agent.lr', 'monitor.lr']), ['hidden', 'agent.lr', 'monitor.lr']);
    assert.equal(formatIdValue([64, 64]), '64x64');
    assert.equal(formatIdValue('CartPole-v1'), 'CartPole-v1');
    assert.equal(formatIdValue(1e-7), '1e-7');
    assert.equal(formatIdValue([{ type: 'rewardNoise', std: 0.1 }]), 'type-rewardNoise+std-0.1');
    assert.equal(formatIdValue('a/b c'), 'a_b_c');
    const plan = expandSweep({ name: 'n', base: BASE, grid: { 'agent.network.hidden': [[64, 64], [32]] } }, '.');
    assert.deepEqual(plan.runs.map((r) => r.id), ['hidden=64x64,seed=1', 'hidden=32,seed=1']);
  });
});

describe('sweep validation', () => {
  it('names the sweep path and the bad value', () => {
    const sweep = (extra: Record<string, unknown>) => () => expandSweep({ name: 'v', base: BASE, ...extra }, '.');
    throwsConfig(sweep({ grid: { 'env.level': [0, 7] } }), 'grid.env.level', 7, /run level=7,seed=1/);
    throwsConfig(sweep({ set: { 'agent.lr': 'fast' } }), 'set.agent.lr', 'fast');
    throwsConfig(sweep({ settings: [{ 'agent.numSteps': 0 }] }), 'settings.0.agent.numSteps', 0);
    throwsConfig(() => expandSweep({ name: 'v', base: { ...BASE, agent: { algo: 'ppo', lrr: 1 } } }, '.'), 'base.agent.lrr', 1, /unknown key/);
    throwsConfig(sweep({ grdi: {} }), 'grdi', {}, /unknown key 'grdi'/);
    throwsConfig(sweep({ grid: { 'env..level': [0] } }), 'grid.env..level', 'env..level', /config path/);
    throwsConfig(sweep({ grid: { 'env.level': [] } }), 'grid.env.level', [], /too small/i);
    throwsConfig(sweep({ grid: { 'env.level': 3 } }), 'grid.env.level', 3);
    throwsConfig(sweep({ grid: { 'env.level': [1, 1] } }), 'grid.env.level', 1, /listed twice/);
    throwsConfig(sweep({ seeds: [1, 2, 1] }), 'seeds', 1, /listed twice/);
    throwsConfig(sweep({ seeds: 0 }), 'seeds', 0);
    throwsConfig(sweep({ grid: { 'run.seed': [1, 2] } }), 'grid.run.seed', [1, 2], /seeds/);
    throwsConfig(sweep({ grid: { 'agent.lr': [1] }, set: { 'agent.lr': 2 } }), 'grid.agent.lr', [1], /one source/);
    throwsConfig(() => expandSweep({ name: 'a/b', base: BASE }, '.'), 'name', 'a/b');
    throwsConfig(() => expandSweep({ name: 'x', base: 'missing.json' }, '/nonexistent'), 'base', 'missing.json', /cannot read/);
    throwsConfig(() => expandSweep({ name: 'x', base: 3 }, '.'), 'base', 3, /config object or a config file path/);
    throwsConfig(() => expandSweep([], '.'), '(sweep)', []);
  });

  it('checks env ids and params of every expanded run before anything runs', async () => {
    const plan = expandSweep({ name: 'v', base: BASE, grid: { 'env.id': ['CartPole-v1', 'CartPol-v1'] } }, '.');
    await assert.rejects(validatePlan(plan), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.path, 'grid.env.id');
      assert.equal(error.value, 'CartPol-v1');
      assert.match(error.message, /did you mean 'CartPole-v1'/);
      return true;
    });
    const params = expandSweep({ name: 'v', base: BASE, grid: { 'env.params.massPole': [0.1, -2] } }, '.');
    await assert.rejects(validatePlan(params), (error: unknown) => error instanceof ConfigError && error.path === 'grid.env.params.massPole' && error.value === -2);
    await validatePlan(levelSweep());
  });

  it('the command exits with an input error and writes nothing for a bad sweep', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.json');
    const out = path.join(dir, 'out');
    fs.writeFileSync(file, JSON.stringify({ name: 'bad', base: BASE, grid: { 'env.level': [9] } }));
    const cli = () => yargs().command(sweepCommand).strict().fail(false).parseAsync(['sweep', file, '--out', out, '--quiet']);
    await assert.rejects(cli(), (error: unknown) => error instanceof InputError && error.path === 'grid.env.level' && error.value === 9);
    assert.equal(fs.existsSync(out), false);
    fs.writeFileSync(file, '{ not json');
    await assert.rejects(cli(), (error: unknown) => error instanceof InputError && error.path === 'SWEEP');
    assert.equal(fs.existsSync(out), false);
  });
});

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

describe('running a sweep in worker processes', () => {
  const workerScript = path.join(here, '../helpers/fake-sweep-worker.ts');

  it('a worker that dies is recorded as a failed run with its output; the others complete', async () => {
    const out = path.join(tempDir(), 'crash');
    const plan = expandSweep({ name: 'crash', base: BASE, grid: { 'agent.gamma': [0.99, 0.5] }, seeds: 2 }, '.');
    const result = await runSweep(plan, { out, workers: 2, workerScript });
    assert.equal(result.completed, 2);
    assert.equal(result.failed, 2);
    const rows = new Map(readCsv(path.join(out, 'sweep.csv')).rows.map((r) => [r.run_id, r]));
    assert.equal(rows.get('gamma=0.99,seed=2')!.status, 'completed');
    assert.equal(rows.get('gamma=0.5,seed=1')!.status, 'failed');
    assert.match(rows.get('gamma=0.5,seed=1')!.error!, /worker process died during the run \(exit code 3\)/);
    assert.match(fs.readFileSync(path.join(out, 'logs', 'gamma=0.5,seed=1.log'), 'utf8'), /about to crash/);
  });

  it('Ctrl-C: workers stop their runs, which end interrupted with their data kept', async () => {
    const out = path.join(tempDir(), 'slow');
    const plan = expandSweep({ name: 'slow', base: BASE, grid: { 'agent.gamma': [0.9] }, seeds: 3 }, '.');
    const stop = new AbortController();
    const started: string[] = [];
    const timer = setTimeout(() => stop.abort(), 1500);
    const result = await runSweep(plan, { out, workers: 2, workerScript, signal: stop.signal, onRunDone: (r) => started.push(r.id) });
    clearTimeout(timer);
    assert.equal(result.interrupted, true);
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.deepEqual(rows.map((r) => r.status), ['interrupted', 'interrupted', 'pending']);
    const metrics = readCsv(path.join(out, 'runs', 'gamma=0.9,seed=1', 'metrics.csv')).rows;
    assert.ok(metrics.length > 0 && metrics.length < 20, `${metrics.length} updates kept`);
  });

  it('end to end: a real 2-run CartPole PPO sweep in 2 workers', { skip: !fs.existsSync(path.join(repo, 'agents', 'index.ts')) && 'agents not written yet' }, async () => {
    const out = path.join(tempDir(), 'e2e');
    const plan = expandSweep(
      {
        name: 'e2e',
        base: { env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 64 }, run: { totalSteps: 1024, backend: 'cpu' } },
        grid: { 'env.level': [0, 4] },
        seeds: [1],
      },
      '.',
    );
    await validatePlan(plan);
    const result = await runSweep(plan, { out, workers: 2 });
    const rows = readCsv(path.join(out, 'sweep.csv')).rows;
    assert.deepEqual(
      rows.map((r) => [r.run_id, r.status, r.error]),
      [
        ['level=0,seed=1', 'completed', ''],
        ['level=4,seed=1', 'completed', ''],
      ],
    );
    assert.equal(result.completed, 2);
    assert.equal(rows[0]!.env_steps, '1024');
    assert.ok(Number(rows[0]!.return_mean_best) > 0);
    for (const id of ['level=0,seed=1', 'level=4,seed=1']) {
      for (const file of ['config.json', 'metrics.csv', 'noise.csv', 'summary.json']) assert.ok(fs.existsSync(path.join(out, 'runs', id, file)), `${id}/${file}`);
    }
    assert.ok(fs.existsSync(path.join(out, 'sweep-groups.csv')));
  });
});
