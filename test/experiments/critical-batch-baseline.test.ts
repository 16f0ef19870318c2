/** baseline.json: R_random measured once with a fixed seed, R_ref from the task or --score-ref, refused when changed. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASELINE_FILE, ensureBaseline, measureBaseline, planBaseline, readBaseline, scaleOf } from '../../src/experiments/critical-batch-baseline.js';
import { InputError } from '../../src/core/errors.js';
import { rolloutStats } from '../../src/run/rollout.js';
import { RANDOM_BASELINE } from '../../src/analysis/score.js';

describe('critical-batch baseline', () => {
  const config = parseConfig({ env: { id: 'CartPole-v1', numEnvs: 2 }, agent: { algo: 'ppo', numSteps: 32 }, run: { totalSteps: 1024 } });

  it('measures the random policy with the fixed seed and episode count and takes R_ref from the task', () => {
    const baseline = measureBaseline(config);
    const direct = rolloutStats({ envId: 'CartPole-v1', policy: { kind: 'random' }, episodes: RANDOM_BASELINE.episodes, seed: RANDOM_BASELINE.seed });
    assert.equal(baseline.random.returnMean, direct.returnMean);
    assert.ok(baseline.random.returnMean > 10 && baseline.random.returnMean < 40, String(baseline.random.returnMean));
    assert.deepEqual([baseline.reference?.value, baseline.reference?.basis], [500, 'optimum']);
    assert.deepEqual(scaleOf(baseline), { random: direct.returnMean, reference: 500 });
    assert.equal(measureBaseline(config, 450).reference?.basis, 'user');
    // The bandit's optimum is its level's gap (level 2: gap 0.5); a task without a known optimum has no scale.
    const bandit = parseConfig({ env: { id: 'GaussianBandit-v0', numEnvs: 2, level: 2 }, agent: { algo: 'reinforce', numSteps: 4 }, run: { totalSteps: 64 } });
    assert.deepEqual([measureBaseline(bandit).reference?.value, measureBaseline(bandit).reference?.basis], [0.5, 'optimum']);
    const pendulum = parseConfig({ env: { id: 'Pendulum-v1', numEnvs: 2 }, agent: { algo: 'reinforce', numSteps: 4 }, run: { totalSteps: 64 } });
    assert.equal(scaleOf(measureBaseline(pendulum)), null);
  });

  it('is written once, read back on resume, and a different --score-ref is refused', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-baseline-')), 'cb');
    // Planning writes nothing.
    const planned = planBaseline(dir, config);
    assert.ok(!fs.existsSync(dir));
    const first = ensureBaseline(dir, config);
    assert.deepEqual(first, planned);
    assert.ok(fs.existsSync(path.join(dir, BASELINE_FILE)));
    assert.deepEqual(readBaseline(dir), first);
    assert.deepEqual(ensureBaseline(dir, config, 500), first);
    assert.throws(() => planBaseline(dir, config, 400), /--score-ref/);
    assert.throws(() => ensureBaseline(dir, config, 400), (e: unknown) => e instanceof InputError && e.path === '--score-ref' && /fixed R_ref = 500/.test(e.message));
    assert.equal(readBaseline(path.join(dir, 'nothing')), null);
  });
});
