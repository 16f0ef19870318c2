/**
 * `gradnoise critical-batch` refuses what the protocol forbids with exit 2, naming flag and value, writing nothing; its
 * runs stop at the highest target unless told otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stderr: result.stderr };
}

describe('gradnoise critical-batch input', () => {
  it('exits 2 on batch sizes spanning under 16×, a score target without R_ref, or a bad score; writes nothing', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cb-cli-')), 'cb');
    const cases: [string[], RegExp][] = [
      [['configs/cartpole-ppo.json', '--batch-sizes', '128,256,512'], /--batch-sizes: spans 4× \(largest\/smallest\); a B_crit fit needs at least 16×.*\(got '128,256,512'\)/],
      [['configs/pendulum-ppo.json', '--batch-sizes', '64,1024', '--scale', 'steps', '--scores', '0.5'], /--scores: Pendulum-v1 has no reference return R_ref; give one with --score-ref \(got 's=0.5'\)/],
      [['configs/cartpole-ppo.json', '--batch-sizes', '128,2048', '--targets', '50%,s=2'], /--targets: normalised scores lie in \(0, 1.5\].*\(got 2\)/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = cli(['critical-batch', ...args, '--out', out, '--quiet']);
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
      assert.ok(!fs.existsSync(out), `nothing written for ${args.join(' ')}`);
    }
  });

  it('stops every run at the highest score target (R_random from baseline.json); --no-stop-at-target runs the budget out', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-cb-stop-'));
    const common = ['critical-batch', 'configs/bandit-reinforce.json', '--batch-sizes', '8,128', '--scale', 'steps', '--set', 'env.numEnvs=8', '--set', 'run.totalSteps=4096', '--set', 'env.level=1'];
    const flags = ['--seeds', '1', '--lr-multipliers', '1', '--lr-extensions', '0', '--scores', '0.3,0.5', '--workers', '1', '--quiet'];
    for (const stop of [true, false]) {
      const out = path.join(root, stop ? 'stop' : 'full');
      const result = spawnSync(process.execPath, [bin, ...common, ...flags, ...(stop ? [] : ['--no-stop-at-target']), '--out', out], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
      assert.equal(result.status, 0, result.stderr);
      const baseline = JSON.parse(fs.readFileSync(path.join(out, 'baseline.json'), 'utf8'));
      const highest = baseline.random.returnMean + 0.5 * (baseline.reference.value - baseline.random.returnMean);
      for (const id of ['batch=8,seed=1', 'batch=128,seed=1']) {
        const dir = path.join(out, 'runs', id);
        const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
        const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
        assert.equal(summary.status, 'completed');
        if (stop) {
          assert.equal(config.run.stopAtReturn, highest, id);
          assert.equal(summary.target.return, highest);
          if (summary.target.reached) assert.ok(summary.envSteps < 4096 && summary.target.reached.returnMean >= highest, id);
        } else {
          assert.equal(config.run.stopAtReturn, undefined);
          assert.equal(summary.envSteps, 4096);
        }
      }
    }
  });
});
