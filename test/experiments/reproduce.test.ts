/**
 * `gradnoise reproduce`: a miniature preset runs end to end (in process with fake runs, and through the CLI with real
 * ones) into DIR/reproduce.json, one folder per part and report.html; interrupts and foreign folders.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { checkReproduceDir, reproduceExitCode, runReproduce, type ReproduceManifest } from '../../src/experiments/reproduce.js';
import { loadPreset, validateReproducePlan } from '../../src/experiments/reproduce-preset.js';
import { repo, runCli as cli } from '../helpers/sweep-cli.js';
import { BASE_LR, optimumFakeRun, writeFakeRun } from '../helpers/sweep-fakes.js';

const mini = path.join(repo, 'test/fixtures/reproduce/mini.json');

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-reproduce-'));
}

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

  it("counts the runs a critical-batch part's lr-grid extensions add, in the manifest and the progress line", async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    try {
      fs.writeFileSync(
        path.join(dir, 'config.json'),
        JSON.stringify({ env: { id: 'CartPole-v1', numEnvs: 4 }, agent: { algo: 'ppo', numSteps: 32, lr: BASE_LR }, run: { totalSteps: 2048 * 80 } }),
      );
      const preset = { name: 'extend', criticalBatch: [{ name: 'cb', config: 'config.json', batchSizes: [128, 256, 512, 1024, 2048], seeds: 3, lrRule: 'fixed', lrExtensions: 2, targets: ['s=0.5'] }] };
      fs.writeFileSync(path.join(dir, 'preset.json'), JSON.stringify(preset));
      const plan = loadPreset(path.join(dir, 'preset.json'));
      await validateReproducePlan(plan);
      let text = '';
      const stream = new Writable({ write: (chunk, _encoding, done) => ((text += String(chunk)), done()) });
      const result = await runReproduce(plan, { out, workers: 2, runOne: optimumFakeRun, progress: 'plain', stream });
      assert.equal(reproduceExitCode(result), 0);
      // 5 batch sizes × 3 lrs × 3 seeds planned; B = 2048's best lr sits at the high edge: ×4 is added and wins, ×8 added and does not.
      const [part] = result.manifest.parts;
      assert.deepEqual([part!.runs, part!.completed], [5 * 3 * 3 + 2 * 3, 5 * 3 * 3 + 2 * 3]);
      assert.match(text, /1\/1 parts done, 51\/51 runs \(6 added by lr-grid extensions\), /);
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
});
