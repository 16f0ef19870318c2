/** A reproduce folder's report: preset, machine, wall times and rules; findings; every part's plots; B_crit vs B_simple by task. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeJsonAtomic } from '../../src/run/run-folder.js';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { assertReport, tempDir } from '../helpers/report-assert.js';
import { reproduceManifest, writeReproduceFolder } from '../helpers/report-fixtures.js';

describe('report: reproduce folder', () => {
  it('reproduce folder: preset, machine, wall times and rules; findings; every part’s plots; B_crit vs B_simple by task', async () => {
    const dir = tempDir();
    writeReproduceFolder(dir);
    assert.equal(detectFolder(dir), 'reproduce');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'reproduce');
    const html = assertReport(result, dir, [
      'difficulty-noise-over-training-cartpole-v1',
      'difficulty-noise-over-training-levels-cartpole-v1',
      'difficulty-noise-vs-difficulty',
      'difficulty-return-curves',
      'critical-batch-pareto-fronts',
      'critical-batch-level2-pareto-fronts',
      'bcrit-vs-bsimple',
      'noise-vs-bcrit',
      'difficulty-vs-noise',
    ]);
    // reproduce.json: preset, status, machine, wall time per part, rules.
    for (const text of [
      '<td>quick</td>',
      'The headline figures in minutes.',
      'Test CPU 9000',
      'load average at start (1, 5, 15 min)',
      '21m40s (1,300 s)',
      'Parts and wall time',
      '<td>12m34s</td>',
      '<td>4m06s</td>',
      '<td>4 / 4</td>',
      'B_simple per level at matched progress: target = min + 0.5·(max − min) of the return_mean; also the whole-run average',
    ]) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
    // Headline sections first, in this order, then the parts.
    const order = ['>Findings</h2>', '>Noise scale vs critical batch size</h2>', '>Sweep difficulty</h2>', '>Critical batch size: CartPole-v1 L0 (critical-batch)</h2>', '>Critical batch size: CartPole-v1 L2 (critical-batch-level2)</h2>', '>Reproduction: preset, machine, timing</h2>'];
    const at = order.map((h) => html.indexOf(h));
    assert.ok(at.every((i, k) => i > 0 && (k === 0 || i > at[k - 1]!)), `sections in order: ${JSON.stringify(at)}`);
    assert.ok(html.includes('Findings: policy-gradient B_simple per env family'));
    // Like with like: every measure the fits hold, with its fitted slope.
    const measures = fs.readFileSync(path.join(dir, 'plots', 'noise-vs-bcrit.svg'), 'utf8');
    for (const text of ['B_simple (ratio of means): slope', 'B_simple (w-weighted): slope', 'B_noise (w-weighted): slope']) assert.ok(measures.includes(text), `noise-vs-bcrit shows ${text}`);
    // B_crit vs B_simple: every critical-batch part, points coloured by task (env and level) and labelled by target.
    const crit = fs.readFileSync(path.join(dir, 'plots', 'bcrit-vs-bsimple.svg'), 'utf8');
    for (const text of ['CartPole-v1 L0', 'CartPole-v1 L2', '80%', 'return ≥ 100', 'task']) assert.ok(crit.includes(`>${text}</text>`), `B_crit figure shows ${text}`);
    for (const text of ['<td>critical-batch-level2</td><td>CartPole-v1 L2</td>', '▶ B_crit ≥ 2,600', 'not drawn: not fitted', 'B_crit above the batch sizes tried', '∞ (above the range measured; ≥ 2,600)']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }

    // (a) the power law of each measure with bootstrap intervals over task-levels; (b) E_min vs the w-weighted B_simple.
    assert.match(html, /Power law of each noise measure against B_crit over the task-levels/);
    // Difficulty measured: level 2 against level 0 per target (the fixture's E_min intervals overlap).
    assert.match(html, /Difficulty measured: E_min per level/);
    assert.ok(html.includes('<td>0 (base)</td>') && html.includes('<td>not distinguishable</td>'), 'level 2 vs level 0 verdicts');
    const difficulty = fs.readFileSync(path.join(dir, 'plots', 'difficulty-vs-noise.svg'), 'utf8');
    for (const text of ['CartPole-v1 L0', 'CartPole-v1 L2', 'power law: slope']) assert.ok(difficulty.includes(text), `difficulty figure shows ${text}`);
    // (c) appears once a part has its score scale (baseline.json): B_simple by normalised score per task-level.
    assert.ok(!fs.existsSync(path.join(dir, 'plots', 'noise-by-score.svg')));
    writeJsonAtomic(path.join(dir, 'critical-batch', 'baseline.json'), {
      envId: 'CartPole-v1',
      level: 0,
      params: {},
      random: { policy: 'random', episodes: 200, seed: 1, returnMean: 20, returnStd: 10, returnCi95: [18, 22] },
      reference: { value: 500, basis: 'optimum', note: 'time limit' },
    });
    await writeReport(dir);
    const byScore = fs.readFileSync(path.join(dir, 'plots', 'noise-by-score.svg'), 'utf8');
    assert.ok(byScore.includes('CartPole-v1 L0') && !byScore.includes('CartPole-v1 L2'), 'only the part with a score scale');

    // Another preset's reproduce.json, and none at all.
    writeJsonAtomic(path.join(dir, 'reproduce.json'), reproduceManifest('full'));
    assert.ok(fs.readFileSync((await writeReport(dir)).html, 'utf8').includes('<td>full</td>'));
    fs.rmSync(path.join(dir, 'reproduce.json'));
    assert.ok(fs.readFileSync((await writeReport(dir)).html, 'utf8').includes('No reproduce.json here'));
  });
});
