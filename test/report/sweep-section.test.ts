/** A sweep's report: level-0 noise per env family, noise vs difficulty, learning curves, findings in words and tables. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { assertReport, tempDir } from '../helpers/report-assert.js';
import { SWEEP_RULES, writeSweepFolder } from '../helpers/report-fixtures.js';

describe('report: sweep folder', () => {
  it('sweep folder: level-0 noise plot per env family, noise vs difficulty, learning curves, findings with intervals', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { seeds: [1, 2, 3] });
    assert.equal(detectFolder(dir), 'sweep');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'sweep');
    const html = assertReport(result, dir, [
      'noise-over-training-cartpole-v1',
      'noise-over-training-acrobot-v1',
      'noise-vs-difficulty',
      'return-curves',
      'noise-over-training-levels-cartpole-v1',
      'noise-over-training-levels-acrobot-v1',
    ]);
    for (const text of [
      'growth over training at the low level (last / first quarter)',
      'high / low level, run average',
      'high / low level, matched progress',
      'harder levels',
      '0 → 4',
      'Acrobot-v1',
      'id=CartPole-v1,level=4,seed=3',
      'backends used',
      '18 completed',
      'B_simple, policy, at matched progress',
    ]) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // The fixture's noise scale rises over training and with difficulty: the verdicts say so, in words too.
    assert.match(html, /<td>rises[^<]*<\/td>/);
    assert.match(html, /<li><b>CartPole-v1<\/b>, policy B_simple over training \(level 0, last \/ first quarter\) [^<]*: rises/);
    assert.ok(!/<td>not resolved/.test(html), 'unresolved figures read “unresolved (≥ x)”');
    assert.match(html, /<td>unresolved \(≥ [\d,.]+×?\)/);
    // Findings first, then figures, then metadata and the runs.
    const at = ['<ul class="findings">', '<figure', '>Metadata</h3>', '>Runs</h3>'].map((s) => html.indexOf(s));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `parts in order: ${JSON.stringify(at)}`);

    // Figure 1: level 0 only, one line per seed, the growth factor in the caption.
    const level0 = fs.readFileSync(path.join(dir, 'plots', 'noise-over-training-cartpole-v1.svg'), 'utf8');
    for (const text of ['seed 1', 'seed 2', 'seed 3', 'Gradient noise scale over training at level 0: CartPole-v1']) assert.ok(level0.includes(`>${text}</text>`), `level-0 figure shows ${text}`);
    assert.ok(!level0.includes('>level 2</text>'), 'level-0 figure holds level 0 only');
    assert.match(html, /one line per seed\. Growth over training \(last \/ first quarter, pooled over seeds\): policy [\d.]+× \[/);
    // The all-levels view stays, as a secondary policy-only figure.
    const levels = fs.readFileSync(path.join(dir, 'plots', 'noise-over-training-levels-cartpole-v1.svg'), 'utf8');
    for (const text of ['level 0', 'level 4', 'policy']) assert.ok(levels.includes(`>${text}</text>`), `all-levels figure shows ${text}`);
    assert.ok(!levels.includes('>value</text>'), 'all-levels figure: policy only');

    // Figure 2: run average and matched progress, policy first, the rule from sweep-summary.json in the caption.
    const difficulty = fs.readFileSync(path.join(dir, 'plots', 'noise-vs-difficulty.svg'), 'utf8');
    for (const text of ['run average', 'matched progress', 'policy', 'value', 'total']) assert.ok(difficulty.includes(`>${text}</text>`), `difficulty figure shows ${text}`);
    assert.ok(difficulty.indexOf('>policy</text>') < difficulty.indexOf('>value</text>'), 'policy panel first');
    assert.ok(html.includes(`diamonds, B_simple at matched progress: ${SWEEP_RULES.matchedProgress}`), 'caption states the matched-progress rule of sweep-summary.json');
  });

  it('a sweep whose runs have not started: the planned runs are listed, with a note', async () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0], seeds: [1], updates: 12 });
    fs.rmSync(path.join(dir, 'runs'), { recursive: true });
    const html = assertReport(await writeReport(dir), dir, []);
    assert.ok(html.includes('No run folders yet.'));
    assert.ok(html.includes('No noise measurements in this sweep yet.'));
  });
});
