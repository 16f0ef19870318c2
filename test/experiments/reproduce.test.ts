/**
 * `gradnoise reproduce`: the shipped presets are well-formed and cover what the issue asks for, every sweep they name
 * expands and validates, a miniature preset runs end to end (in process with fake runs, and through the CLI with real
 * ones) into DIR/reproduce.json, one folder per part and report.html, and bad input exits 2 with nothing written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/package-root.js';
import {
  BUILT_IN_PRESETS,
  checkLadderIsLive,
  checkReproduceDir,
  loadPreset,
  reproduceExitCode,
  resolvePresetFile,
  runReproduce,
  validateReproducePlan,
  type ReproduceManifest,
  type ReproducePlan,
} from '../../src/experiments/reproduce.js';
import { loadSweepFile, validatePlan } from '../../src/experiments/sweep.js';
import { writeFakeRun } from '../helpers/sweep-fakes.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');
const mini = path.join(repo, 'test/fixtures/reproduce/mini.json');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-reproduce-'));
}

function cli(args: string[], timeout = 120_000) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', timeout });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Preset files with one mistake each, written into `dir`. */
function badPresets(dir: string) {
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };
  const base = path.join(repo, 'configs/bandit-reinforce.json');
  write('bad-level.json', { name: 'bad-level', base, grid: { 'env.level': [0, 7] }, set: { 'env.params': {} } });
  write('good.json', { name: 'good', base, grid: { 'env.level': [0, 1] }, set: { 'env.params': {}, 'run.totalSteps': 256 } });
  const critical = { name: 'c', config: base, set: { 'env.params': {} }, batchSizes: [64, 128] };
  return {
    unknownKey: write('unknown-key.json', { name: 'p', sweeps: ['good.json'], seeds: 3 }),
    missingSweep: write('missing-sweep.json', { name: 'p', sweeps: ['good.json', 'nope.json'] }),
    badSweep: write('bad-sweep.json', { name: 'p', sweeps: ['good.json', 'bad-level.json'] }),
    badBatch: write('bad-batch.json', { name: 'p', criticalBatch: [{ ...critical, batchSizes: [100, 128] }] }),
    badTarget: write('bad-target.json', { name: 'p', criticalBatch: [{ ...critical, targets: ['150%'] }] }),
    sameName: write('same-name.json', { name: 'p', sweeps: ['good.json'], criticalBatch: [{ ...critical, name: 'good' }] }),
    notJson: write('not-json.json', '{ "name": '),
    empty: write('empty.json', { name: 'p' }),
  };
}

const envOf = (plan: ReproducePlan, name: string) => plan.parts.find((p) => p.name === name)!.plan.runs[0]!.config.env.id;

describe('reproduce presets', () => {
  it('resolve by name from configs/reproduce and parse, naming existing sweep files and configs', () => {
    assert.equal(packageRoot(), repo);
    for (const name of BUILT_IN_PRESETS) {
      const file = resolvePresetFile(name);
      assert.equal(file, path.join(repo, 'configs/reproduce', `${name}.json`));
      const plan = loadPreset(file);
      assert.equal(plan.preset.name, name);
      assert.ok(plan.parts.length >= 2, name);
      for (const sweep of plan.preset.sweeps) assert.ok(fs.existsSync(path.resolve(path.dirname(file), sweep)), `${name}: ${sweep}`);
      for (const entry of plan.preset.criticalBatch) assert.ok(fs.existsSync(path.resolve(path.dirname(file), entry.config)), `${name}: ${entry.config}`);
      assert.equal(new Set(plan.parts.map((p) => p.name)).size, plan.parts.length, `${name}: part names are unique`);
    }
  });

  it('every sweep in both presets and every file in configs/sweeps expands and validates, with a live difficulty ladder', async () => {
    for (const name of BUILT_IN_PRESETS) await validateReproducePlan(loadPreset(resolvePresetFile(name)));
    const folder = path.join(repo, 'configs/sweeps');
    for (const file of fs.readdirSync(folder).filter((f) => f.endsWith('.json'))) {
      const plan = loadSweepFile(path.join(folder, file));
      await validatePlan(plan);
      checkLadderIsLive({ kind: 'sweep', name: plan.name, source: file, plan });
    }
  });

  it('full covers the eight env families at levels 0..4 with ≥ 3 seeds, and B_crit on ≥ 4 tasks', () => {
    const plan = loadPreset(resolvePresetFile('full'));
    const sweeps = plan.parts.filter((p) => p.kind === 'sweep');
    const families = new Map<string, { levels: Set<number>; seeds: Map<number, Set<number>> }>();
    for (const part of sweeps) {
      for (const run of part.plan.runs) {
        const id = run.config.env.id;
        const f = families.get(id) ?? { levels: new Set(), seeds: new Map() };
        f.levels.add(run.config.env.level);
        const seeds = f.seeds.get(run.config.env.level) ?? new Set();
        seeds.add(run.seed);
        f.seeds.set(run.config.env.level, seeds);
        families.set(id, f);
      }
    }
    const required = ['CartPole-v1', 'Pendulum-v1', 'GaussianBandit-v0', 'Catch-v0', 'DeepSea-v0', 'MemoryChain-v0', 'UmbrellaChain-v0'];
    for (const id of required) assert.ok(families.has(id), `full lacks ${id}`);
    assert.ok(families.has('Acrobot-v1') || families.has('MountainCar-v0'), 'full lacks Acrobot or MountainCar');
    for (const [id, f] of families) {
      assert.deepEqual([...f.levels].sort(), [0, 1, 2, 3, 4], id);
      for (const [level, seeds] of f.seeds) assert.ok(seeds.size >= 3, `${id} level ${level}: ${seeds.size} seeds`);
    }
    const critical = plan.parts.filter((p) => p.kind === 'critical-batch');
    const tasks = new Set(critical.map((p) => `${p.plan.runs[0]!.config.env.id}/${p.plan.runs[0]!.config.env.level}`));
    assert.ok(tasks.size >= 4, `B_crit on ${tasks.size} tasks`);
    for (const part of critical) {
      const sizes = [...new Set(part.plan.runs.map((r) => r.config.env.numEnvs * r.config.agent.numSteps))];
      assert.ok(sizes.length >= 3 && Math.max(...sizes) / Math.min(...sizes) >= 4, `${part.name}: batch sizes ${sizes.join(',')}`);
    }
  });

  it('quick stays small: level 0 of every family, a bounded number of env steps, no critical batch', () => {
    const plan = loadPreset(resolvePresetFile('quick'));
    assert.ok(plan.parts.every((p) => p.kind === 'sweep'));
    for (const part of plan.parts) assert.ok(part.plan.runs.some((r) => r.config.env.level === 0), part.name);
    assert.equal(envOf(plan, 'cartpole-difficulty-quick'), 'CartPole-v1');
    const steps = plan.parts.reduce((n, p) => n + p.plan.runs.reduce((m, r) => m + r.config.run.totalSteps, 0), 0);
    // 1.22M env steps took 2-6 minutes on 2 loaded cores, report included; growing it needs a new measurement.
    assert.ok(steps <= 1_300_000, `quick runs ${steps} env steps`);
  });

  it('rejects bad presets before anything runs, naming the file, path and value', async () => {
    const dir = tempDir();
    try {
      const cases = badPresets(dir);
      const expectations: [string, RegExp][] = [
        [cases.unknownKey, /unknown-key\.json: seeds: unknown key 'seeds'/],
        [cases.missingSweep, /sweeps\.1: no such sweep file/],
        [cases.badSweep, /bad-level\.json: grid\.env\.level.*\(got 7\)/],
        [cases.badBatch, /criticalBatch\.0\.batchSizes.*\(got 100\)/],
        [cases.badTarget, /criticalBatch\.0\.targets.*\(got '150%'\)/],
        [cases.sameName, /two parts are named 'good'/],
        [cases.notJson, /not valid JSON/],
        [cases.empty, /at least one sweep or critical-batch experiment/],
      ];
      for (const [file, message] of expectations) {
        await assert.rejects(
          async () => validateReproducePlan(loadPreset(resolvePresetFile(file))),
          (e: unknown) => e instanceof InputError && message.test(e.message),
          file,
        );
      }
      assert.throws(() => resolvePresetFile(path.join(dir, 'absent.json')), /--preset: no such preset file/);
      assert.throws(() => resolvePresetFile('fastest'), /--preset: expected a preset name \(.*quick.*\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a sweep whose base config pins the params the ladder sets', () => {
    const dir = tempDir();
    try {
      const sweep = path.join(dir, 'pinned.json');
      fs.writeFileSync(
        sweep,
        JSON.stringify({ name: 'pinned', base: path.join(repo, 'configs/bandit-reinforce.json'), grid: { 'env.level': [0, 2] }, set: { 'env.params': { gap: 1, noiseStd: 1 } } }),
      );
      const plan = loadSweepFile(sweep);
      assert.throws(() => checkLadderIsLive({ kind: 'sweep', name: 'pinned', source: sweep, plan }), (e: unknown) => e instanceof InputError && /same env params/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runReproduce (in process, fake runs)', () => {
  it('writes reproduce.json and one folder per part, resumes, and the report finds a reproduce folder', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    try {
      const plan = loadPreset(mini);
      await validateReproducePlan(plan);
      assert.equal(checkReproduceDir(plan, out), 'new');
      const result = await runReproduce(plan, { out, workers: 2, runOne: (task, signal) => writeFakeRun(task, {}, signal) });
      assert.equal(reproduceExitCode(result), 0);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'reproduce.json'), 'utf8')) as ReproduceManifest;
      assert.equal(manifest.status, 'completed');
      assert.equal(manifest.preset.name, 'mini');
      assert.deepEqual(
        manifest.parts.map((p) => [p.name, p.kind, p.status, p.runs, p.completed]),
        [
          ['mini-sweep', 'sweep', 'completed', 2, 2],
          ['mini-critical-batch', 'critical-batch', 'completed', 2, 2],
        ],
      );
      assert.ok(typeof manifest.machine['cpus'] === 'number' && manifest.timings.totalS >= 0);
      assert.ok(fs.existsSync(path.join(out, 'mini-sweep', 'sweep.json')));
      assert.ok(fs.existsSync(path.join(out, 'mini-sweep', 'runs', 'level=4,seed=1', 'summary.json')));
      assert.ok(fs.existsSync(path.join(out, 'mini-critical-batch', 'critical-batch.json')));
      // The fake runs' B_simple is 100·(1 + level)·(1 + 9·fraction): ten-fold growth, five times larger at level 4.
      const findings = manifest.parts[0]!.findings as { groups: { level: number; growth: { value: number }; bSimpleMean: { value: number } }[] };
      const [low, high] = findings.groups;
      assert.ok(low!.growth.value > 1, `growth ${low!.growth.value}`);
      assert.ok(Math.abs(high!.bSimpleMean.value / low!.bSimpleMean.value - 5) < 1e-6);

      // Rerunning into the same folder skips every completed run.
      assert.equal(checkReproduceDir(plan, out), 'resume');
      const again = await runReproduce(plan, { out, workers: 1, runOne: () => Promise.reject(new Error('nothing should run')) });
      assert.deepEqual(again.manifest.parts.map((p) => [p.skipped, p.completed]), [[2, 2], [2, 2]]);
      assert.equal(reproduceExitCode(again), 0);
      // The first invocation's record is kept; part wall times add up.
      assert.equal(again.manifest.createdAt, manifest.createdAt);
      assert.equal(again.manifest.history.length, 1);
      assert.deepEqual(again.manifest.history[0]!.timings, manifest.timings);
      assert.ok(again.manifest.parts[0]!.wallS >= manifest.parts[0]!.wallS);

      const { detectFolder } = await import('../../src/report/report.js');
      assert.equal(detectFolder(out), 'reproduce');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('after an interrupt starts no further part, keeps what it has, and exits 130', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    try {
      const plan = loadPreset(mini);
      const stop = new AbortController();
      let done = 0;
      const result = await runReproduce(plan, {
        out,
        workers: 1,
        signal: stop.signal,
        runOne: async (task, signal) => {
          const outcome = await writeFakeRun(task, {}, signal);
          if (++done === 1) stop.abort();
          return outcome;
        },
        onDone: (d) => assert.equal(d, out),
      });
      assert.equal(reproduceExitCode(result), 130);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'reproduce.json'), 'utf8')) as ReproduceManifest;
      assert.equal(manifest.status, 'interrupted');
      assert.deepEqual(manifest.parts.map((p) => p.status), ['interrupted', 'not_started']);
      assert.equal(manifest.parts[0]!.completed, 1);
      assert.ok(!fs.existsSync(path.join(out, 'mini-critical-batch')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an output folder holding another preset or unrelated files', () => {
    const dir = tempDir();
    try {
      const plan = loadPreset(mini);
      fs.writeFileSync(path.join(dir, 'reproduce.json'), JSON.stringify({ preset: { name: 'other' } }));
      assert.throws(() => checkReproduceDir(plan, dir), (e: unknown) => e instanceof InputError && /preset 'other'/.test(e.message));
      fs.rmSync(path.join(dir, 'reproduce.json'));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      assert.throws(() => checkReproduceDir(plan, dir), (e: unknown) => e instanceof InputError && /no reproduce.json/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gradnoise reproduce (CLI)', () => {
  it('runs a miniature preset end to end: reproduce.json, part folders, report.html', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    try {
      const { code, stderr } = cli(['reproduce', '--preset', mini, '--out', out, '--workers', '2']);
      assert.equal(code, 0, stderr);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'reproduce.json'), 'utf8')) as ReproduceManifest;
      assert.equal(manifest.status, 'completed');
      assert.ok(manifest.timings.reportS !== null);
      assert.ok(manifest.parts.every((p) => p.status === 'completed' && p.completed === p.runs && p.backends.length === 1), JSON.stringify(manifest.parts));
      for (const id of ['level=0,seed=1', 'level=4,seed=1']) {
        assert.ok(fs.existsSync(path.join(out, 'mini-sweep', 'runs', id, 'noise.csv')), id);
      }
      assert.ok(fs.existsSync(path.join(out, 'mini-critical-batch', 'critical-batch.csv')));
      const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
      assert.match(html, /mini-sweep/);
      assert.match(html, /<svg/);
      assert.match(stderr, /reproduce mini: 2\/2 parts done/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on a bad preset or sweep file, naming the file, path and value, and writes nothing', () => {
    const dir = tempDir();
    try {
      const { unknownKey, badSweep } = badPresets(dir);
      for (const [preset, message] of [
        [unknownKey, /unknown-key\.json: seeds: unknown key 'seeds'/],
        [badSweep, /bad-level\.json: grid\.env\.level.*\(got 7\)/],
      ] as const) {
        const out = path.join(dir, 'out');
        const { code, stderr } = cli(['reproduce', '--preset', preset, '--out', out, '--quiet']);
        assert.equal(code, 2, `${preset}: ${stderr}`);
        assert.match(stderr, message, preset);
        assert.ok(!fs.existsSync(out), `${preset}: wrote ${out}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
