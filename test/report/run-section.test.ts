/** A run folder's report: noise over training (or the learning curve), findings per component, metadata. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { detectFolder, writeReport } from '../../src/report/report.js';
import { readCsv } from '../../src/run/csv.js';
import { loadConfig } from '../../src/config/load.js';
import { train } from '../../src/run/trainer.js';
import { assertReport, tempDir } from '../helpers/report-assert.js';
import { writeRunFolder } from '../helpers/report-fixtures.js';

describe('report: run folder', () => {
  it('run folder: noise-over-training plot, findings per component and run metadata', async () => {
    const dir = tempDir();
    writeRunFolder(dir, { updates: 60 });
    assert.equal(detectFolder(dir), 'run');
    const result = await writeReport(dir);
    assert.equal(result.kind, 'run');
    const html = assertReport(result, dir, ['noise-over-training']);
    for (const text of ['Findings: gradient noise scale', 'growth (last/first)', '>policy<', '>value<', '>total<', 'backend', '>cpu<', 'gradnoise version', '0.1.0', 'CartPole-v1']) {
      assert.ok(html.includes(text), `report shows ${text}`);
    }
  });

  it('run folder of a killed run (no summary.json, half-written last line) and with the monitor off', async () => {
    const dir = tempDir();
    writeRunFolder(dir, { updates: 20 });
    fs.rmSync(path.join(dir, 'summary.json'));
    fs.appendFileSync(path.join(dir, 'metrics.csv'), '21,10752,10.5,1024,6');
    assert.equal(readCsv(path.join(dir, 'metrics.csv')).rows.length, 20);
    const html = assertReport(await writeReport(dir), dir, ['noise-over-training']);
    assert.ok(html.includes('incomplete (no summary.json)'));

    const quiet = tempDir();
    writeRunFolder(quiet, { updates: 10, noNoise: true });
    const noNoise = assertReport(await writeReport(quiet), quiet, ['return-curve']);
    assert.ok(noNoise.includes('No noise measurements'));
  });

  it('a run measured with B_noise also gets the B_noise-beside-B_simple figure, at the measurements that had B_noise', async () => {
    const dir = path.join(tempDir(), 'run');
    const set = ['env.numEnvs=8', 'agent.numSteps=16', 'agent.network.hidden=[8]', 'run.totalSteps=1024', 'run.backend=cpu', 'monitor.every=1', 'monitor.bNoise=true', 'monitor.bNoiseEvery=2'];
    const summary = await train(loadConfig('configs/cartpole-ppo.json', { set }), { runDir: dir });
    assert.equal(summary.status, 'completed');
    const html = assertReport(await writeReport(dir), dir, ['noise-over-training', 'b-noise-over-training']);
    assert.ok(html.includes('B_noise = tr(HΣ)/GᵀHG beside B_simple'));
    const svg = fs.readFileSync(path.join(dir, 'plots', 'b-noise-over-training.svg'), 'utf8');
    for (const series of ['policy B_noise', 'policy B_simple', 'value B_noise']) assert.ok(svg.includes(series), `legend shows ${series}`);

    const plain = path.join(tempDir(), 'run');
    await train(loadConfig('configs/cartpole-ppo.json', { set: set.filter((s) => !s.startsWith('monitor.bNoise')) }), { runDir: plain });
    await writeReport(plain);
    assert.ok(!fs.existsSync(path.join(plain, 'plots', 'b-noise-over-training.svg')), 'no B_noise figure without B_noise');
  });
});
