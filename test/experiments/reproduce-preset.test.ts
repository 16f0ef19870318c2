/**
 * Reproduce presets: the shipped presets are well-formed and cover what the findings need, every sweep they name
 * expands and validates with a live difficulty ladder, and bad presets exit 2 naming the file, path and value, with
 * nothing written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { packageRoot } from '../../src/core/package-root.js';
import {
  BUILT_IN_PRESETS,
  checkLadderIsLive,
  loadPreset,
  resolvePresetFile,
  validateReproducePlan,
  type ReproducePlan,
} from '../../src/experiments/reproduce-preset.js';
import { loadSweepFile, validatePlan } from '../../src/experiments/sweep/plan.js';
import { measureBaseline, scaleOf } from '../../src/experiments/critical-batch-baseline.js';
import { repo, runCli as cli } from '../helpers/sweep-cli.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-reproduce-'));
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
  const critical = { name: 'c', config: base, set: { 'env.params': {} }, batchSizes: [64, 128], minBatchSpan: 2 };
  return {
    unknownKey: write('unknown-key.json', { name: 'p', sweeps: ['good.json'], seeds: 3 }),
    missingSweep: write('missing-sweep.json', { name: 'p', sweeps: ['good.json', 'nope.json'] }),
    badSweep: write('bad-sweep.json', { name: 'p', sweeps: ['good.json', 'bad-level.json'] }),
    badBatch: write('bad-batch.json', { name: 'p', criticalBatch: [{ ...critical, batchSizes: [100, 256] }] }),
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

  it('full covers the eight env families at levels 0..4 with ≥ 3 seeds (MinAtar at 0, 2, 4 × 2), and B_crit by the protocol on ≥ 12 task-levels', () => {
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
    const minatar = ['Breakout', 'Asterix', 'Freeway', 'SpaceInvaders', 'Seaquest'].map((g) => `${g}-MinAtar-v0`);
    for (const id of minatar) assert.ok(families.has(id), `full lacks ${id}`);
    for (const [id, f] of families) {
      // The MinAtar games (2M-step learners, 500k per run here) are swept more sparsely.
      const [levels, seeds] = minatar.includes(id) ? [[0, 2, 4], 2] : [[0, 1, 2, 3, 4], 3];
      assert.deepEqual([...f.levels].sort(), levels, id);
      for (const [level, s] of f.seeds) assert.ok(s.size >= seeds, `${id} level ${level}: ${s.size} seeds`);
    }
    const critical = plan.parts.filter((p) => p.kind === 'critical-batch');
    const tasks = new Set(critical.map((p) => `${p.plan.runs[0]!.config.env.id}/${p.plan.runs[0]!.config.env.level}`));
    assert.ok(tasks.size >= 12, `B_crit on ${tasks.size} task-levels`);
    for (const part of critical) {
      const sizes = [...new Set(part.plan.runs.map((r) => r.config.env.numEnvs * r.config.agent.numSteps))];
      assert.ok(sizes.length >= 3 && Math.max(...sizes) / Math.min(...sizes) >= 16, `${part.name}: batch sizes ${sizes.join(',')}`);
      const lrs = part.request!.lrMultipliers ?? [];
      assert.ok(lrs.length >= 3 && Math.max(...lrs) / Math.min(...lrs) >= 4, `${part.name}: lr grid ${lrs.join(',')}`);
      assert.ok(part.request!.seeds.length >= 5, `${part.name}: ${part.request!.seeds.length} seeds`);
      assert.ok(part.targets!.every((t) => t.kind === 'score'), `${part.name}: score targets`);
      // Every run stops once it reaches the highest target, fixed from the random-policy baseline before any run.
      const config = part.plan.runs[0]!.config;
      assert.equal(config.monitor.bNoise, true, `${part.name}: B_noise beside B_simple`);
      const scale = scaleOf(measureBaseline(config))!;
      const highest = Math.max(...part.targets!.map((t) => scale.random + t.value * (scale.reference - scale.random)));
      assert.equal(part.request!.stop?.return, highest, part.name);
      for (const run of part.plan.runs) assert.equal(run.config.run.stopAtReturn, highest, `${part.name} ${run.id}`);
      // The estimate averages enough episodes that random play sits 3 standard errors below the lowest target.
      const episodes = part.request!.reachEpisodes!;
      const lowest = Math.min(...part.targets!.map((t) => scale.random + t.value * (scale.reference - scale.random)));
      const baseline = measureBaseline(config);
      assert.ok(episodes >= 10 && (lowest - scale.random) / (baseline.random.returnStd / Math.sqrt(episodes)) >= 3, `${part.name}: ${episodes} episodes`);
      assert.equal(part.plan.runs[0]!.config.run.stopEpisodes, episodes);
      if (episodes !== 10) assert.equal((part.plan.definition as { reachEpisodes?: number }).reachEpisodes, episodes, 'the analysis reads it from sweep.json');
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
