/**
 * Slow learning benchmarks: each shipped config, unchanged (seed 1, full budget, wasm backend), trained through the
 * library API, must reach its documented target. Skipped unless GRADNOISE_SLOW=1 (`npm run test:slow`); about
 * 10-15 minutes on 2 cores. Thresholds below the targets of the issue were measured with margin (see the figures
 * quoted beside each test).
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { ShippedRun } from '../helpers/learning.js';

const skip = !process.env.GRADNOISE_SLOW && 'set GRADNOISE_SLOW=1';
// Loaded only when the benchmarks run, so that a skipped file costs npm test nothing (no tfjs start-up).
const { binaryEntropy, finalReturn, stepsToTarget, trainShipped } = skip
  ? ({} as typeof import('../helpers/learning.js'))
  : await import('../helpers/learning.js');
const timeout = 20 * 60_000;

function report(t: TestContext, name: string, run: ShippedRun, target: number): number | null {
  const steps = stepsToTarget(run.rows, target);
  const { summary } = run;
  t.diagnostic(
    `${name}: target ${target} first reached at ${steps ?? 'never'} env steps; final return_mean ${summary.returnMean?.toFixed(2)} ` +
      `(mean of last 10 rows ${finalReturn(run.rows).toFixed(2)}); ${summary.envSteps} steps in ${summary.wallS.toFixed(0)} s ` +
      `(${(summary.envSteps / summary.wallS).toFixed(0)} steps/s, backend ${summary.backend})`,
  );
  assert.equal(summary.status, 'completed', summary.error);
  return steps;
}

describe('learning benchmarks (shipped configs, full budgets)', { skip }, () => {
  it('cartpole-ppo reaches mean return ≥ 475 (last 20 episodes) within 500k steps', { timeout }, async (t) => {
    // Measured (seed 1, wasm): first ≥ 475 at 182k steps, 500 from ~280k to the end.
    const run = await trainShipped('cartpole-ppo');
    assert.equal(run.config.run.totalSteps, 500_000);
    const steps = report(t, 'cartpole-ppo', run, 475);
    assert.ok(steps !== null && steps <= 500_000, `never reached 475 (best ${run.summary.returnBest})`);
    assert.ok(finalReturn(run.rows) >= 450, `does not stay there: ${finalReturn(run.rows)}`);
  });

  it('pendulum-ppo reaches mean return ≥ −400', { timeout }, async (t) => {
    // Measured (seed 1, wasm): first ≥ −400 at 150k steps; −218 at the end of 300k (last 10 rows −197).
    const run = await trainShipped('pendulum-ppo');
    const steps = report(t, 'pendulum-ppo', run, -400);
    assert.ok(steps !== null, `never reached −400 (best ${run.summary.returnBest})`);
    assert.ok(finalReturn(run.rows) >= -400, `ends below −400: ${finalReturn(run.rows)}`);
  });

  it('bandit-reinforce converges to the best arm (probability ≥ 0.9, reward near its mean 1)', { timeout }, async (t) => {
    // Measured (seed 1): entropy below h(0.9) from 7.6k pulls, 0.067 at the end (best arm ≈ 0.99);
    // mean reward of the last 200 pulls 0.91.
    const run = await trainShipped('bandit-reinforce');
    report(t, 'bandit-reinforce', run, 0.9);
    // The policy's entropy H bounds its favourite arm's probability: H < h(0.9) ⇒ max_a π(a) > 0.9
    // (for max π ≥ 1/2 the least entropy is h(max π); below 1/2 it is at least ln 2 > h(0.9)).
    const entropy = run.rows.at(-1)!.entropy!;
    t.diagnostic(`bandit-reinforce: final policy entropy ${entropy.toFixed(3)} (h(0.9) = ${binaryEntropy(0.9).toFixed(3)}, uniform ${Math.log(10).toFixed(3)})`);
    assert.ok(entropy < binaryEntropy(0.9), `policy entropy ${entropy} ≥ h(0.9) = ${binaryEntropy(0.9).toFixed(3)}: no arm has probability 0.9`);
    // That favourite is the best arm: the last 10 rows' windows are 200 distinct pulls (128 per update) and earn
    // ~0.9 or more on the best arm, ≤ 0.1 + noise (std 1/√200 ≈ 0.07) on any other.
    const reward = finalReturn(run.rows);
    assert.ok(reward >= 0.7, `mean reward of the last 200 pulls ${reward}: the favourite arm is not the best one (mean 1)`);
  });

  it('cartpole-a2c reaches 475 and stays near the maximum', { timeout }, async (t) => {
    // Measured (seed 1, wasm): first ≥ 475 at 95k steps, 500 without a dip from ~160k steps to the end at 500k.
    const run = await trainShipped('cartpole-a2c');
    const steps = report(t, 'cartpole-a2c', run, 475);
    assert.ok(steps !== null, `never reached 475 (best ${run.summary.returnBest})`);
    assert.ok(finalReturn(run.rows) >= 400, `ends at ${finalReturn(run.rows)}`);
  });

  it('catch-a2c catches almost every ball', { timeout }, async (t) => {
    // Measured (seed 1, wasm): first ≥ 0.9 (95% caught) at 21k steps, 1.0 over the last 10 rows at 100k.
    const run = await trainShipped('catch-a2c');
    const steps = report(t, 'catch-a2c', run, 0.9);
    assert.ok(steps !== null, `never reached 0.9 (best ${run.summary.returnBest})`);
    assert.ok(finalReturn(run.rows) >= 0.8, `ends at ${finalReturn(run.rows)}`);
  });

  it('memory-chain-gru (recurrent PPO) recalls the context bit: best-of-bits accuracy ≥ 0.9 within 200k steps', { timeout }, async (t) => {
    // With one bit, best-of-bits accuracy is the fraction answered right, (return + 1) / 2: return ≥ 0.8 ⇔ ≥ 0.9.
    // A feed-forward policy stays at 0.5 (return 0). Measured (seed 1, wasm): return ≥ 0.8 (accuracy 0.9)
    // first at 18k steps; accuracy 1.0 over the last 10 rows at 200k (543 s on 2 loaded cores).
    const run = await trainShipped('memory-chain-gru');
    assert.equal(run.config.run.totalSteps, 200_000);
    const steps = report(t, 'memory-chain-gru', run, 0.8);
    const accuracy = (finalReturn(run.rows) + 1) / 2;
    t.diagnostic(`memory-chain-gru: accuracy over the last 10 rows' windows ${accuracy.toFixed(3)}`);
    assert.ok(steps !== null, `never reached accuracy 0.9 (best return ${run.summary.returnBest})`);
    assert.ok(accuracy >= 0.9, `ends at accuracy ${accuracy}`);
  });
});
