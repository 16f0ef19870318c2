/** baseline.json: R_random measured once with a fixed seed, R_ref from the task or --score-ref, refused when changed. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { BASELINE_FILE, baselineEpisodes, ensureBaseline, measureBaseline, planBaseline, readBaseline, scaleOf } from '../../src/experiments/critical-batch-baseline.js';
import { parseTargets, reachEpisodesOf } from '../../src/experiments/critical-batch.js';
import { InputError } from '../../src/core/errors.js';
import { rolloutStats } from '../../src/run/rollout.js';
import { RANDOM_BASELINE, REACH_Z, reachEpisodesFor } from '../../src/analysis/score.js';

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

  it('measures a noisy task with enough episodes for a 5% standard error of the score span, and the estimate episodes by REACH_Z', () => {
    // GaussianBandit level 4: gap 0.25 over 10 arms, reward noise 4; R_random = gap/arms exactly.
    const bandit = parseConfig({ env: { id: 'GaussianBandit-v0', numEnvs: 2, level: 4 }, agent: { algo: 'reinforce', numSteps: 4 }, run: { totalSteps: 64 } });
    const baseline = measureBaseline(bandit);
    const span = 0.25 - baseline.random.returnMean;
    const se = baseline.random.returnStd / Math.sqrt(baseline.random.episodes);
    assert.ok(baseline.random.episodes > 10 * RANDOM_BASELINE.episodes, String(baseline.random.episodes));
    assert.ok(se <= RANDOM_BASELINE.relativeError * span * 1.05, `standard error ${se} of span ${span}`);
    assert.ok(Math.abs(baseline.random.returnMean - 0.025) < 3 * se, `R_random ${baseline.random.returnMean}`);
    // The pilot alone (200 episodes) would be off by more than the whole span's 5%.
    const pilot = rolloutStats({ envId: 'GaussianBandit-v0', level: 4, policy: { kind: 'random' }, episodes: RANDOM_BASELINE.episodes, seed: RANDOM_BASELINE.seed });
    assert.equal(baselineEpisodes(pilot, 0.25), Math.ceil((pilot.returnStd / (RANDOM_BASELINE.relativeError * (0.25 - pilot.returnMean))) ** 2));
    // A precise task keeps its pilot; a long-episode one is capped at maxSteps.
    assert.equal(baselineEpisodes({ episodes: 200, returnMean: 22, returnStd: 12, lengthMean: 22 }, 500), 200);
    assert.equal(baselineEpisodes({ episodes: 200, returnMean: 0, returnStd: 100, lengthMean: 1000 }, 1), RANDOM_BASELINE.maxSteps / 1000);
    // Estimate episodes: the lowest target REACH_Z standard errors above random play, at least 10.
    assert.equal(reachEpisodesFor(0.5, { returnMean: 0, returnStd: 1 }), Math.ceil((REACH_Z / 0.5) ** 2));
    assert.equal(reachEpisodesFor(400, { returnMean: 22, returnStd: 12 }), 10);
    assert.equal(reachEpisodesFor(-1, { returnMean: 0, returnStd: 1 }), null);
    const s05 = baseline.random.returnMean + 0.5 * span;
    assert.equal(reachEpisodesOf(parseTargets('s=0.8,s=0.5'), baseline), reachEpisodesFor(s05, baseline.random));
    assert.equal(reachEpisodesOf(parseTargets('s=0.5,50%'), baseline), 10, 'a fraction target is only known at the end');
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
