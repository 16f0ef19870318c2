/**
 * `gradnoise train --resume DIR` through the CLI: a run killed with `kill -9` (and one stopped by SIGTERM) after its
 * first checkpoint, resumed, ends with the same metrics.csv and noise.csv rows as an uninterrupted run (wall-clock
 * columns aside); what cannot be resumed is refused with exit 2 and one line.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runRows, type RunRows } from '../helpers/sweep-compare.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-resume-'));
// 75 updates, a checkpoint every 5; wasm, as `auto` picks without a GPU (cpu prints a banner on stderr).
const CONFIG = {
  env: { id: 'CartPole-v1', numEnvs: 2 },
  agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 1, network: { hidden: [8] } },
  monitor: { every: 1 },
  run: { totalSteps: 2400, seed: 5, backend: 'wasm', checkpointEvery: 5 },
};
const configFile = path.join(work, 'config.json');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stderr: result.stderr };
}

function start(out: string): ChildProcess {
  return spawn(process.execPath, [bin, 'train', configFile, '--out', out, '--quiet'], { cwd: work, stdio: 'ignore' });
}

async function untilFile(file: string, child: ChildProcess): Promise<void> {
  while (!fs.existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`the run exited (${child.exitCode}) before ${file} appeared`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

/** Differing rows (same position, different cells) plus the difference in row counts. */
function differences(a: RunRows, b: RunRows): number {
  const count = (x: Record<string, string>[], y: Record<string, string>[]) => x.filter((row, i) => JSON.stringify(row) !== JSON.stringify(y[i])).length + Math.abs(x.length - y.length);
  return count(a.metrics, b.metrics) + count(a.noise, b.noise);
}

let whole: RunRows;

describe('train --resume (CLI)', () => {
  before(() => {
    fs.writeFileSync(configFile, JSON.stringify(CONFIG));
    const r = cli(['train', configFile, '--out', path.join(work, 'whole'), '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    whole = runRows(path.join(work, 'whole'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('kill -9 after the first checkpoint, then --resume: the same rows as an uninterrupted run', async () => {
    const out = path.join(work, 'killed');
    const child = start(out);
    await untilFile(path.join(out, 'checkpoint.json'), child);
    child.kill('SIGKILL');
    await exited(child);
    assert.ok(!fs.existsSync(path.join(out, 'summary.json')), 'killed before it finished');
    // As if killed mid-write: a torn metrics row and a half-written next checkpoint.
    fs.appendFileSync(path.join(out, 'metrics.csv'), '99,3168,0.5');
    fs.writeFileSync(path.join(out, 'checkpoint.json.tmp-999999'), '{"format":"gradnoise-checkp');
    const r = cli(['train', '--resume', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const resumed = runRows(out);
    assert.equal(resumed.status, 'completed');
    assert.equal(resumed.metrics.length, 75);
    assert.equal(resumed.metrics.length, whole.metrics.length);
    assert.equal(resumed.noise.length, whole.noise.length);
    assert.equal(differences(resumed, whole), 0);
    assert.deepEqual(fs.readdirSync(out).sort(), ['config.json', 'metrics.csv', 'noise.csv', 'summary.json']);
  });

  it('SIGTERM ends the run interrupted with a checkpoint; --resume completes it with the same rows', async () => {
    const out = path.join(work, 'stopped');
    const child = start(out);
    await untilFile(path.join(out, 'checkpoint.json'), child);
    child.kill('SIGTERM');
    assert.equal(await exited(child), 130);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { status: string; updates: number };
    assert.equal(summary.status, 'interrupted');
    const checkpoint = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint.json'), 'utf8')) as { update: number };
    assert.equal(checkpoint.update, summary.updates, 'checkpointed at the interruption');
    const r = cli(['train', '--resume', out, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(differences(runRows(out), whole), 0);
  });

  it('refuses with exit 2 and one line what it cannot resume, writing nothing', () => {
    const notRun = path.join(work, 'not-a-run');
    fs.mkdirSync(notRun);
    const other = path.join(work, 'other-config');
    fs.cpSync(path.join(work, 'whole'), other, { recursive: true });
    fs.rmSync(path.join(other, 'summary.json'));
    const folderConfig = JSON.parse(fs.readFileSync(path.join(other, 'config.json'), 'utf8')) as { meta: Record<string, unknown> };
    const oldVersion = path.join(work, 'old-version');
    fs.mkdirSync(oldVersion);
    fs.writeFileSync(path.join(oldVersion, 'config.json'), JSON.stringify(folderConfig));
    const checkpoint = { format: 'gradnoise-checkpoint/2', version: '0.0.1', config: CONFIG, backend: 'wasm', update: 5, envSteps: 160, wallS: 1, logs: {}, loop: null, state: null };
    fs.writeFileSync(path.join(oldVersion, 'checkpoint.json'), JSON.stringify(checkpoint));
    const oldFormat = path.join(work, 'old-format');
    fs.mkdirSync(oldFormat);
    fs.writeFileSync(path.join(oldFormat, 'config.json'), JSON.stringify(folderConfig));
    fs.writeFileSync(path.join(oldFormat, 'checkpoint.json'), JSON.stringify({ ...checkpoint, format: 'gradnoise-checkpoint/1', version: folderConfig.meta.version }));
    fs.writeFileSync(path.join(other, 'checkpoint.json'), JSON.stringify({ ...checkpoint, version: folderConfig.meta.version, config: { ...CONFIG, run: { ...CONFIG.run, seed: 6 } } }));
    const cases: [string[], RegExp][] = [
      [['--resume', path.join(work, 'missing')], /no such folder/],
      [['--resume', notRun], /not a run folder/],
      [['--resume', path.join(work, 'whole')], /already complete/],
      [['--resume', oldVersion], /written by gradnoise 0\.0\.1/],
      [['--resume', oldFormat], /format gradnoise-checkpoint\/1; it reads gradnoise-checkpoint\/2/],
      [['--resume', other], /another config/],
      [['--resume', other, '--backend', 'cpu'], /ran on wasm/],
      [[configFile, '--resume', other], /drop CONFIG/],
      [['--resume', other, '--seed', '2'], /drop --seed/],
      [['--resume', other, '--set', 'run.seed=2', '--out', notRun], /drop --set, --out/],
    ];
    for (const [args, message] of cases) {
      const before = fs.readdirSync(other).sort();
      const r = cli(['train', ...args, '--quiet']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, message);
      assert.deepEqual(fs.readdirSync(other).sort(), before, 'nothing written');
    }
    assert.deepEqual(fs.readdirSync(notRun), []);
  });
});
