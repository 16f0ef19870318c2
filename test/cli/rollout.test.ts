/**
 * `gradnoise envs rollout` and the library function behind it (`rolloutStats` in src/run/rollout.ts): the statistics
 * it prints, determinism per seed, policies, unbiased collection over parallel copies, and bad input (exit 2, the flag
 * and the value named).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/core/errors.js';
import { parsePolicy, rolloutEpisodes, rolloutStats, sampleStats, type RolloutOptions } from '../../src/run/rollout.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, 'envs', 'rollout', ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const KEYS = ['envId', 'level', 'policy', 'episodes', 'returnMean', 'returnStd', 'returnCi95', 'returnMin', 'returnMax', 'lengthMean', 'lengthStd', 'lengthCi95', 'lengthMin', 'lengthMax', 'seed'];

function rejects(options: RolloutOptions, path: string, value: RegExp): void {
  assert.throws(() => rolloutStats(options), (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.path, path);
    assert.match(error.message, value);
    return true;
  });
}

describe('envs rollout', () => {
  it('--json: the last line is one object with the statistics, equal to rolloutStats from code; the text form says the same', async () => {
    const [json, text] = await Promise.all([
      cli(['--env', 'Breakout-MinAtar-v0', '--level', '2', '--episodes', '300', '--seed', '5', '--json']),
      cli(['--env', 'Breakout-MinAtar-v0', '--level', '2', '--episodes', '300', '--seed', '5']),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const stats = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    for (const key of KEYS) assert.ok(key in stats, key);
    assert.deepEqual(stats, JSON.parse(JSON.stringify(rolloutStats({ envId: 'Breakout-MinAtar-v0', level: 2, episodes: 300, seed: 5 }))));
    assert.equal(stats.episodes, 300);
    assert.equal((stats.params as Record<string, number>).stickyProb, 0.2, 'level 2 params');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Breakout-MinAtar-v0 level 2, policy random, 300 episodes, seed 5/);
    assert.match(text.stdout, new RegExp(`return\\s+mean ${Number((stats.returnMean as number).toPrecision(4))} `));
  });

  it('mean, sample std (ddof 1), 95% interval mean ± 1.96·std/√n, min and max of the episodes it ran', () => {
    const { stats, returns, lengths } = rolloutEpisodes({ envId: 'CartPole-v1', episodes: 50, seed: 3 });
    assert.equal(returns.length, 50);
    const mean = lengths.reduce((a, b) => a + b, 0) / 50;
    const std = Math.sqrt(lengths.reduce((a, b) => a + (b - mean) ** 2, 0) / 49);
    assert.ok(Math.abs(stats.lengthMean - mean) < 1e-12);
    assert.ok(Math.abs(stats.lengthStd - std) < 1e-12);
    assert.ok(Math.abs(stats.lengthCi95[1] - (mean + (1.96 * std) / Math.sqrt(50))) < 1e-12);
    assert.equal(stats.lengthMin, Math.min(...lengths));
    assert.equal(stats.lengthMax, Math.max(...lengths));
    assert.deepEqual(Array.from(returns), Array.from(lengths), 'CartPole pays +1 per step');
    const single = sampleStats([4]);
    assert.ok(Number.isNaN(single.std), 'no sample std from one episode');
    assert.deepEqual(sampleStats([1, 2, 3]), { mean: 2, std: 1, ci95: [2 - 1.96 / Math.sqrt(3), 2 + 1.96 / Math.sqrt(3)], min: 1, max: 3 });
  });

  it('one seed fixes the result; another seed changes it', () => {
    const a = rolloutStats({ envId: 'Asterix-MinAtar-v0', episodes: 40, seed: 1 });
    assert.deepEqual(rolloutStats({ envId: 'Asterix-MinAtar-v0', episodes: 40, seed: 1 }), a);
    assert.notDeepEqual(rolloutStats({ envId: 'Asterix-MinAtar-v0', episodes: 40, seed: 2 }), a);
  });

  it('each copy collects a fixed quota of its own episodes, so many copies do not favour short episodes', () => {
    // The first 2,000 episodes to finish across 1,000 copies would be the shorter ones of each copy's first two.
    const one = rolloutStats({ envId: 'CartPole-v1', episodes: 2000, seed: 11, numEnvs: 1 });
    const many = rolloutStats({ envId: 'CartPole-v1', episodes: 2000, seed: 12, numEnvs: 1000 });
    const se = Math.sqrt((one.lengthStd ** 2 + many.lengthStd ** 2) / 2000);
    assert.ok(Math.abs(one.lengthMean - many.lengthMean) < 3.3 * se, `${one.lengthMean} vs ${many.lengthMean} (se ${se})`);
  });

  it('constant:K repeats one action; random samples a Box uniformly; time-limit cuts are counted', () => {
    const left = rolloutStats({ envId: 'CartPole-v1', episodes: 30, seed: 0, policy: { kind: 'constant', action: 0 } });
    const random = rolloutStats({ envId: 'CartPole-v1', episodes: 30, seed: 0 });
    assert.ok(left.lengthMean < 12 && left.lengthMean < random.lengthMean, `always pushing left falls fast: ${left.lengthMean}`);
    assert.equal(left.policy, 'constant:0');
    const pendulum = rolloutStats({ envId: 'Pendulum-v1', episodes: 4, seed: 0 });
    assert.equal(pendulum.truncated, 4);
    assert.equal(pendulum.lengthMean, 200);
    const idle = rolloutStats({ envId: 'Seaquest-MinAtar-v0', episodes: 2, seed: 0, policy: parsePolicy('constant:0') });
    assert.deepEqual([idle.lengthMean, idle.truncated, idle.returnMax], [10_000, 2, 0], 'a sub idling at the surface lives until the 10,000-step limit');
  });

  it('bad options name the flag and the value', () => {
    rejects({ envId: 'Breakot-MinAtar-v0' }, '--env', /did you mean 'Breakout-MinAtar-v0'/);
    rejects({ envId: 'Catch-v0', level: 7 }, '--level', /0\.\.4 \(got 7\)/);
    rejects({ envId: 'Catch-v0', params: { rows: 0 } }, '--params.rows', /got 0/);
    rejects({ envId: 'Catch-v0', params: { row: 3 } }, '--params.row', /did you mean 'rows'/);
    rejects({ envId: 'Catch-v0', episodes: 0 }, '--episodes', /got 0/);
    rejects({ envId: 'Catch-v0', seed: NaN }, '--seed', /got NaN/);
    rejects({ envId: 'Catch-v0', policy: { kind: 'constant', action: 3 } }, '--policy', /0\.\.2.*got 'constant:3'/);
    rejects({ envId: 'Pendulum-v1', policy: { kind: 'constant', action: 0 } }, '--policy', /needs a Discrete action space/);
    assert.throws(() => parsePolicy('greedy'), /--policy: expected 'random' or 'constant:K'.*got 'greedy'/);
  });

  it('bad flags exit 2 with the flag and the value (the library errors above reach the CLI the same way)', async () => {
    const cases: [string[], RegExp][] = [
      [['--env', 'Catch-v0', '--level', 'abc'], /--level: expected a number \(got 'abc'\)/],
      [['--env', 'Catch-v0', '--params', '[1]'], /--params: expected a JSON object/],
      [['--env', 'Freeway-MinAtar-v0', '--params', '{"stickyProb":2}'], /--params\.stickyProb: .*\(got 2\)/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, k) => {
      assert.equal(r.code, 2, `${cases[k]![0].join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, cases[k]![1]);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  });
});
