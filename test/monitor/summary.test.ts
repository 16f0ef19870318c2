/** The summary's growth by progress, and the settings the monitor refuses before a run starts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { checkMonitorConfig } from '../../src/monitor/monitor.js';
import { progressFigures } from '../../src/monitor/summary.js';
import type { HistoryEntry } from '../../src/monitor/tracker.js';

/** A measurement with exact parts (tiny variances): tr(Σ) = b, |G|² = 1. */
function entry(envSteps: number, b: number): HistoryEntry {
  return { update: envSteps, envSteps, moments: { gradSq: 1, traceSigma: b, gradSqVar: 1e-6, traceSigmaVar: 1e-6, covariance: 0, df: 100 } };
}

describe('growth by progress', () => {
  it('bins measurements by the running maximum of the progress series and divides the last bin by the first', () => {
    // B = 10 while progress < ¼, 40 after ¾; the learning curve dips at 600 steps, which must not move measurements back.
    const history = [100, 200, 300, 400, 500, 600, 700, 800].map((s) => entry(s, s <= 200 ? 10 : s >= 700 ? 40 : 20));
    const progress = [
      { envSteps: 100, progress: 0.1 },
      { envSteps: 300, progress: 0.3 },
      { envSteps: 500, progress: 0.6 },
      { envSteps: 600, progress: 0.2 },
      { envSteps: 700, progress: 0.9 },
      { envSteps: 800, progress: 1.4 },
    ];
    const f = progressFigures(history, progress, 0.95);
    assert.deepEqual(f.bins.map((b) => b.measurements), [2, 2, 2, 2]);
    assert.ok(Math.abs(f.bins[0]!.bSimple - 10) < 1e-6 && Math.abs(f.bins[3]!.bSimple - 40) < 1e-6);
    assert.ok(Math.abs(f.growth - 4) < 1e-6, `growth ${f.growth}`);
    assert.ok(f.growthLo <= f.growth);
  });

  it('measurements before the first progress point belong to no bin', () => {
    const f = progressFigures([entry(100, 5), entry(200, 5)], [{ envSteps: 150, progress: 0.5 }], 0.95);
    assert.deepEqual(f.bins.map((b) => b.measurements), [0, 0, 1, 0]);
    assert.ok(Number.isNaN(f.growth), 'one non-empty bin: no growth');
  });
});

describe('checkMonitorConfig', () => {
  it('refuses episode grouping where rollouts cut episodes (A2C, PPO), naming monitor.grouping', () => {
    for (const algo of ['ppo', 'a2c'] as const) {
      const config = configSchema.parse({ env: { id: 'CartPole-v1' }, agent: { algo }, monitor: { grouping: 'episode' } });
      assert.throws(() => checkMonitorConfig(config), (e: unknown) => e instanceof InvalidValueError && /monitor\.grouping/.test((e as Error).message));
    }
    checkMonitorConfig(configSchema.parse({ env: { id: 'CartPole-v1' }, agent: { algo: 'reinforce' }, monitor: { grouping: 'episode' } }));
    checkMonitorConfig(configSchema.parse({ env: { id: 'CartPole-v1' }, agent: { algo: 'ppo' } }));
  });
});

describe('train() with a progress series', () => {
  it('passes the caller’s normalised score to the noise summary', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const { train } = await import('../../src/run/trainer.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-progress-'));
    const config = configSchema.parse({
      env: { id: 'GaussianBandit-v0', numEnvs: 4 },
      agent: { algo: 'reinforce', numSteps: 16, network: { hidden: [8] } },
      monitor: { every: 1 },
      run: { totalSteps: 12 * 64, backend: 'cpu' },
    });
    const total = config.run.totalSteps;
    const summary = await train(config, { runDir: path.join(dir, 'run'), noiseProgress: ({ envSteps }) => envSteps / total });
    fs.rmSync(dir, { recursive: true, force: true });
    const byProgress = summary.noise!.components.policy!.byProgress!;
    assert.equal(byProgress.bins.length, 4);
    assert.equal(byProgress.bins.reduce((s, b) => s + b.measurements, 0), summary.noise!.components.policy!.measurements);
  });
});
