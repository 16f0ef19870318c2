/** `gradnoise critical-batch` refuses what the protocol forbids with exit 2, naming flag and value, writing nothing. */
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
});
