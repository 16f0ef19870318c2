/** The command line as users meet it: exit codes, messages naming path and value, nothing written on bad input. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');
const references = JSON.parse(fs.readFileSync(path.join(repo, 'test/fixtures/reference/classic_control_trajectories.json'), 'utf8')) as {
  env: string;
  state: number[];
  actions: (number | number[])[];
  steps: { obs: number[]; reward: number; terminated: boolean }[];
}[];

function cli(args: string[], cwd = repo) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cli-'));
}

describe('gradnoise CLI', () => {
  it('envs --json lists every env with spaces, params and five levels', () => {
    const { code, stdout } = cli(['envs', '--json']);
    assert.equal(code, 0);
    const envs = JSON.parse(stdout) as { id: string; params: Record<string, { default: unknown }>; levels: unknown[]; actionSpace: { type: string } }[];
    assert.ok(envs.length >= 10);
    const cartPole = envs.find((e) => e.id === 'CartPole-v1')!;
    assert.equal(cartPole.actionSpace.type, 'Discrete');
    assert.equal(cartPole.params.gravity!.default, 9.8);
    for (const env of envs) assert.equal(env.levels.length, 5, env.id);
  });

  it('envs replay reproduces a Gymnasium reference trajectory for each classic-control env', () => {
    const seen = new Set<string>();
    for (const ref of references) {
      if (seen.has(ref.env)) continue;
      seen.add(ref.env);
      const { code, stdout, stderr } = cli(['envs', 'replay', '--env', ref.env, '--state', JSON.stringify(ref.state), '--actions', JSON.stringify(ref.actions)]);
      assert.equal(code, 0, stderr);
      const { steps } = JSON.parse(stdout) as { steps: { obs: number[]; reward: number; terminated: boolean }[] };
      assert.equal(steps.length, ref.steps.length, ref.env);
      steps.forEach((step, k) => {
        const expected = ref.steps[k]!;
        assert.equal(step.terminated, expected.terminated);
        assert.ok(Math.abs(step.reward - expected.reward) <= 1e-5 * Math.max(1, Math.abs(expected.reward)));
        step.obs.forEach((v, j) => assert.ok(Math.abs(v - expected.obs[j]!) <= 1e-5 * Math.max(1e-3, Math.abs(expected.obs[j]!)), `${ref.env} step ${k} obs ${j}`));
      });
    }
    assert.equal(seen.size, 5);
  });

  it('bad input exits 2 with the path and value, and suggests ids', () => {
    let r = cli(['envs', 'replay', '--env', 'CartPol-v1', '--state', '[0,0,0,0]', '--actions', '[0]']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--env: unknown env; did you mean 'CartPole-v1'\?/);
    r = cli(['envs', 'replay', '--env', 'Catch-v0', '--state', '[0]', '--actions', '[0]']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /classic-control envs only/);
    r = cli(['envs', 'replay', '--env', 'CartPole-v1', '--state', '[0,0]', '--actions', '[0]']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--state: expected 4 finite numbers/);
    r = cli(['frobnicate']);
    assert.equal(r.code, 2);
    r = cli(['envs', '--no-such-flag']);
    assert.equal(r.code, 2);
  });

  it('train with an invalid config exits 2 and writes nothing', () => {
    const dir = tempDir();
    const out = path.join(dir, 'run');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ env: { id: 'CartPole-v1', level: 7 }, agent: { algo: 'ppo' } }, /env\.level.*7/],
      [{ env: { id: 'CartPole-v1', params: { massPole: -2 } }, agent: { algo: 'ppo' } }, /env\.params\.massPole.*-2/],
      [{ env: { id: 'CartPole-v2' }, agent: { algo: 'ppo' } }, /env\.id: unknown env; did you mean 'CartPole-v1'/],
      [{ env: { id: 'CartPole-v1' }, agent: { algo: 'ppo', lr: 'fast' } }, /agent\.lr.*'fast'/],
      [{ env: { id: 'CartPole-v1' }, agent: { algo: 'ppo' }, run: { totalSteps: 100, sedd: 1 } }, /run\.sedd: unknown key/],
    ];
    for (const [config, message] of cases) {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify(config));
      const r = cli(['train', file, '--out', out, '--quiet']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(fs.existsSync(out), false, 'nothing written');
    }
    const r = cli(['train', path.join(dir, 'missing.json'), '--out', out]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CONFIG: cannot read config file/);
    const bad = cli(['train', path.join(dir, 'config.json'), '--set', 'agent.lr']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--set: expected path=value/);
  });
});
