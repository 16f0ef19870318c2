/**
 * The shipped configs (configs/*.json) parse, and each learns something in a tiny budget when trained through
 * `train()` exactly as users run them, with `--set`-style overrides for the budget only (plus, where stated, the lr
 * annealing that would starve a tiny run, or the monitor for speed). The full targets are in test/slow/learning.test.ts
 * (`npm run test:slow`). Agent-level learning checks live in test/agents/learning.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { configsDir, finalReturn, returnCurve, shippedConfigs, trainShipped } from '../helpers/learning.js';

const EXPECTED = ['bandit-reinforce', 'cartpole-a2c', 'cartpole-ppo', 'catch-a2c', 'pendulum-ppo'];

describe('shipped configs', () => {
  it('every configs/*.json parses with the schema, and the documented ones are there', () => {
    const files = shippedConfigs();
    for (const name of EXPECTED) assert.ok(files.includes(path.join(configsDir, `${name}.json`)), `configs/${name}.json is missing`);
    for (const file of files) {
      const config = loadConfig(file);
      assert.equal(config.run.seed, 1, `${path.basename(file)}: the shipped figures are for seed 1`);
    }
  });

  it('cartpole-ppo.json spells out CleanRL’s PPO settings', () => {
    const raw = JSON.parse(fs.readFileSync(path.join(configsDir, 'cartpole-ppo.json'), 'utf8')) as {
      env: Record<string, unknown>;
      agent: Record<string, unknown> & { network: Record<string, unknown> };
      run: Record<string, unknown>;
    };
    assert.deepEqual(
      { numEnvs: raw.env.numEnvs, numSteps: raw.agent.numSteps, updateEpochs: raw.agent.updateEpochs, numMinibatches: raw.agent.numMinibatches },
      { numEnvs: 4, numSteps: 128, updateEpochs: 4, numMinibatches: 4 },
    );
    const { lr, annealLr, gamma, gaeLambda, clipCoef, entCoef, vfCoef, maxGradNorm } = raw.agent;
    assert.deepEqual(
      { lr, annealLr, gamma, gaeLambda, clipCoef, entCoef, vfCoef, maxGradNorm },
      { lr: 2.5e-4, annealLr: true, gamma: 0.99, gaeLambda: 0.95, clipCoef: 0.2, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5 },
    );
    assert.deepEqual(raw.agent.network.hidden, [64, 64]);
    assert.equal(raw.agent.network.activation, 'tanh');
    assert.deepEqual(raw.run, { totalSteps: 500000, seed: 1 });
  });
});

describe('shipped configs learn (tiny budgets)', () => {
  it('cartpole-ppo: 16k steps raise the mean return well above a random policy’s', async (t) => {
    // lr annealed to 0 over 16k steps would leave half the run nearly frozen; the full config anneals over 500k.
    const { summary, rows, runDir } = await trainShipped('cartpole-ppo', ['run.totalSteps=16384', 'agent.annealLr=false']);
    assert.equal(summary.status, 'completed');
    const curve = returnCurve(rows);
    const first = curve[0]![1];
    const last = finalReturn(rows, 3);
    t.diagnostic(`cartpole-ppo: return_mean ${first.toFixed(1)} → ${last.toFixed(1)} in ${summary.envSteps} steps, ${summary.wallS.toFixed(1)} s`);
    assert.ok(first < 40, `a random policy scores ~22, got ${first}`);
    assert.ok(last > 100 && last > first + 60, `return_mean ${first} → ${last}`);
    const noise = fs.readFileSync(path.join(runDir, 'noise.csv'), 'utf8').trim().split('\n');
    assert.ok(noise.length > 3 * 16, 'the monitor measured policy, value and total at every update');
  });

  it('bandit-reinforce: 4k pulls make the best arm the policy’s favourite', async (t) => {
    const { summary, rows } = await trainShipped('bandit-reinforce', ['run.totalSteps=4096']);
    assert.equal(summary.status, 'completed');
    // Each update is 128 one-pull episodes, so the last 5 rows' 20-episode windows are 100 distinct pulls.
    // Uniform play earns 0.1 on average (best arm 1, the nine others 0), the best arm alone 1.
    const last = finalReturn(rows, 5);
    const entropy = rows.at(-1)!.entropy!;
    t.diagnostic(`bandit-reinforce: mean reward of the last 100 pulls ${last.toFixed(2)}, policy entropy ${entropy.toFixed(2)} (uniform ${Math.log(10).toFixed(2)})`);
    assert.ok(last > 0.5, `mean reward ${last}: the best arm is not picked far more often than uniformly`);
    assert.ok(entropy < Math.log(10) - 0.5, `policy entropy ${entropy} is still near uniform`);
  });

  it('pendulum-ppo: a few updates run with finite losses and noise estimates', async (t) => {
    // 4 updates of 1024 steps, 8 minibatches (the full config: 2048 steps, 32 minibatches, 300k steps).
    const { summary, rows, runDir } = await trainShipped('pendulum-ppo', ['run.totalSteps=4096', 'agent.numSteps=1024', 'agent.numMinibatches=8']);
    assert.equal(summary.status, 'completed');
    assert.equal(rows.length, 4);
    for (const row of rows) {
      for (const column of ['return_mean', 'policy_loss', 'value_loss', 'entropy', 'grad_norm', 'approx_kl']) {
        assert.ok(Number.isFinite(row[column]), `update ${row.update}: ${column} = ${row[column]}`);
      }
    }
    const returns = returnCurve(rows).map(([, value]) => value);
    t.diagnostic(`pendulum-ppo: return_mean ${returns.map((r) => r.toFixed(0)).join(' → ')}`);
    // Pendulum returns lie in about [-1900, 0]; the rewardScale wrapper must not leak into the recorded returns.
    for (const value of returns) assert.ok(value < 0 && value > -2000, `episode returns are the clean task's: ${value}`);
    const noise = readNoiseComponents(runDir);
    assert.deepEqual([...noise].sort(), ['policy', 'total', 'value']);
  });

  it('cartpole-a2c: 10k steps raise the mean return', async (t) => {
    // Monitor off here for speed (A2C's 40-step batches make it ~2× the cost); the other smoke tests exercise it.
    const { summary, rows } = await trainShipped('cartpole-a2c', ['run.totalSteps=10000', 'monitor.enabled=false']);
    assert.equal(summary.status, 'completed');
    const first = returnCurve(rows)[0]![1];
    const last = finalReturn(rows, 3);
    t.diagnostic(`cartpole-a2c: return_mean ${first.toFixed(1)} → ${last.toFixed(1)} in ${summary.wallS.toFixed(1)} s`);
    assert.ok(last > 60 && last > first + 40, `return_mean ${first} → ${last}`);
  });

  it('catch-a2c: 20k steps turn mostly misses into mostly catches', async (t) => {
    const { summary, rows } = await trainShipped('catch-a2c', ['run.totalSteps=20000', 'monitor.enabled=false']);
    assert.equal(summary.status, 'completed');
    const first = returnCurve(rows)[0]![1];
    const last = finalReturn(rows, 3);
    t.diagnostic(`catch-a2c: return_mean ${first.toFixed(2)} → ${last.toFixed(2)} in ${summary.wallS.toFixed(1)} s`);
    // A random paddle catches about one ball in five (return ≈ -0.6); every catch is +1, every miss -1.
    assert.ok(last > 0.2 && last > first + 0.6, `return_mean ${first} → ${last}`);
  });
});

describe('conv and recurrent configs', () => {
  const games = ['asterix', 'breakout', 'freeway', 'seaquest', 'space-invaders'];

  it('configs/minatar/<game>-ppo-conv.json: the five games, PPO with the conv torso and gymnax-blines’ MinAtar settings', () => {
    const ids = games.map((game) => {
      const config = loadConfig(path.join(configsDir, 'minatar', `${game}-ppo-conv.json`));
      assert.equal(config.agent.algo, 'ppo');
      const agent = config.agent as typeof config.agent & { numMinibatches: number; updateEpochs: number };
      assert.deepEqual(
        { torso: agent.network.torso, hidden: agent.network.hidden, activation: agent.network.activation, numEnvs: config.env.numEnvs, numSteps: agent.numSteps, numMinibatches: agent.numMinibatches, updateEpochs: agent.updateEpochs, lr: agent.lr, gamma: agent.gamma },
        { torso: 'conv', hidden: [128], activation: 'relu', numEnvs: 64, numSteps: 128, numMinibatches: 8, updateEpochs: 4, lr: 5e-4, gamma: 0.999 },
      );
      assert.deepEqual({ totalSteps: config.run.totalSteps, seed: config.run.seed }, { totalSteps: 2_000_000, seed: 1 });
      return config.env.id;
    });
    assert.deepEqual(ids, ['Asterix-MinAtar-v0', 'Breakout-MinAtar-v0', 'Freeway-MinAtar-v0', 'Seaquest-MinAtar-v0', 'SpaceInvaders-MinAtar-v0']);
  });

  it('breakout-ppo-conv runs end to end on a small rollout: fast-path noise rows, and a seed fixes the rows', async () => {
    const set = ['env.numEnvs=4', 'agent.numSteps=32', 'agent.numMinibatches=2', 'run.totalSteps=384', 'monitor.every=1'];
    const runs = [await trainShipped('minatar/breakout-ppo-conv', set), await trainShipped('minatar/breakout-ppo-conv', set)];
    for (const run of runs) assert.equal(run.summary.status, 'completed');
    const strip = (rows: typeof runs[number]['rows']) => rows.map((row) => ({ ...row, wall_s: null, sps: null }));
    assert.deepEqual(strip(runs[0]!.rows), strip(runs[1]!.rows));
    const [header, ...lines] = fs.readFileSync(path.join(runs[0]!.runDir, 'noise.csv'), 'utf8').trim().split('\n');
    const method = header!.split(',').indexOf('method');
    assert.equal(lines.length, 3 * 3, 'policy, value and total at each of the three updates');
    assert.deepEqual(new Set(lines.map((line) => line.split(',')[method])), new Set(['fast']));
  });

  it('memory-chain-gru runs end to end: one noise sample per env segment, through the fallback', async () => {
    const { summary, runDir } = await trainShipped('memory-chain-gru', ['run.totalSteps=2048', 'monitor.every=1']);
    assert.equal(summary.status, 'completed');
    assert.deepEqual(readNoiseComponents(runDir), new Set(['policy', 'value', 'total']));
    const [header, ...lines] = fs.readFileSync(path.join(runDir, 'noise.csv'), 'utf8').trim().split('\n');
    const cells = (name: string) => new Set(lines.map((line) => line.split(',')[header!.split(',').indexOf(name)]));
    assert.deepEqual(cells('method'), new Set(['fallback']));
    assert.deepEqual(cells('b_big'), new Set(['32']), 'the 32 env segments are the samples');
  });
});

function readNoiseComponents(runDir: string): Set<string> {
  const [header, ...lines] = fs.readFileSync(path.join(runDir, 'noise.csv'), 'utf8').trim().split('\n');
  const column = header!.split(',').indexOf('component');
  return new Set(lines.map((line) => line.split(',')[column]!).filter((c) => ['policy', 'value', 'total'].includes(c)));
}
