/** Reading output folders: kinds told apart, and every file read through its writer's type (no key guessing). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { componentFindings, FINDINGS_METRICS_COLUMNS, FINDINGS_NOISE_COLUMNS, READ_FOR_FINDINGS, runData } from '../../src/analysis/findings.js';
import { NOISE_COLUMNS } from '../../src/monitor/monitor.js';
import { CsvLog, readCsv } from '../../src/run/csv.js';
import { detectFolder, loadCritical, loadReproduce, loadRun, loadRuns, loadSweep } from '../../src/report/load.js';
import { readJson, readRunFolder, writeJsonAtomic } from '../../src/run/run-folder.js';
import { metricsColumns } from '../../src/run/trainer.js';
import type { SweepManifest } from '../../src/experiments/sweep/folder.js';
import { tempDir } from '../helpers/report-assert.js';
import { METRICS_COLUMNS, NOISE_FIXTURE_COLUMNS, writeCriticalBatchFolder, writeReproduceFolder, writeRunFolder, writeSweepFolder } from '../helpers/report-fixtures.js';

describe('report: loading folders', () => {
  it('the fixtures write the columns the trainer and the monitor write', () => {
    assert.deepEqual(METRICS_COLUMNS, metricsColumns(true));
    const order = NOISE_FIXTURE_COLUMNS.map((c) => NOISE_COLUMNS.indexOf(c));
    assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)), 'noise.csv columns in the monitor’s order');
  });

  it('reads the logs to the columns the findings and the report use: every one they name, the same figures', () => {
    // Every metrics.csv or noise.csv column named in a quoted string under src/analysis or src/report is one the loader keeps.
    const logColumns = (log: readonly string[]) => new Set(log);
    const metrics = logColumns(metricsColumns(true));
    const noise = logColumns(NOISE_COLUMNS);
    const named = new Set<string>();
    const walk = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of [...walk('src/analysis'), ...walk('src/report')].filter((f) => f.endsWith('.ts'))) {
      for (const [, name] of fs.readFileSync(file, 'utf8').matchAll(/'([a-z_0-9]+)'/g)) if (metrics.has(name!) || noise.has(name!)) named.add(name!);
    }
    assert.ok(named.size >= 15, `found ${[...named].join(', ')}`);
    for (const name of named) {
      if (metrics.has(name)) assert.ok(FINDINGS_METRICS_COLUMNS.includes(name), `metrics.csv ${name} is read but not loaded`);
      if (noise.has(name)) assert.ok(FINDINGS_NOISE_COLUMNS.includes(name as never), `noise.csv ${name} is read but not loaded`);
    }

    const dir = tempDir();
    writeRunFolder(dir, { updates: 12 });
    // A per-layer row beside each component row (monitor.perLayer) is detail the report does not read.
    const file = path.join(dir, 'noise.csv');
    const table = readCsv(file);
    fs.rmSync(file);
    const log = new CsvLog(file, table.columns);
    log.append(table.rows.flatMap((r) => [r, { ...r, layer: 'layer0', b_simple: '1e9', grad_sq: '1e-9' }]));
    const kept = loadRun(dir);
    const rows = kept.folder.noise!.rows;
    assert.equal(rows.length, table.rows.length);
    assert.ok(rows.every((r) => Object.keys(r).every((c) => FINDINGS_NOISE_COLUMNS.includes(c as never))));
    const full = runData(readRunFolder(dir));
    assert.deepEqual(kept.series, full.series);
    assert.ok(kept.folder.metrics!.rows.every((r) => Object.keys(r).length === FINDINGS_METRICS_COLUMNS.length));
    for (const component of ['policy', 'value', 'total'] as const) assert.deepEqual(componentFindings(kept, component), componentFindings(full, component));
    assert.deepEqual(runData(readRunFolder(dir, READ_FOR_FINDINGS)).series, full.series);
  });

  it('tells the folder kinds apart', () => {
    const root = tempDir();
    writeRunFolder(path.join(root, 'run'), { updates: 5 });
    writeSweepFolder(path.join(root, 'sweep'), { envs: ['CartPole-v1'], levels: [0], seeds: [1], updates: 5 });
    writeCriticalBatchFolder(path.join(root, 'critical'));
    assert.equal(detectFolder(path.join(root, 'run')), 'run');
    assert.equal(detectFolder(path.join(root, 'sweep')), 'sweep');
    assert.equal(detectFolder(path.join(root, 'critical')), 'critical-batch');
    // Before its analysis wrote critical-batch.json, sweep.json says what the folder is.
    fs.rmSync(path.join(root, 'critical', 'critical-batch.json'));
    assert.equal(detectFolder(path.join(root, 'critical')), 'critical-batch');
    // A folder of sweeps is a reproduce folder even without reproduce.json.
    assert.equal(detectFolder(root), 'reproduce');
    assert.equal(detectFolder(path.join(root, 'run', 'missing')), null);
  });

  it('runs: in sweep.json order, the planned config while config.json is missing, the target sweep.csv gives', () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0, 2], seeds: [1, 2], updates: 8 });
    const manifest = readJson<SweepManifest>(path.join(dir, 'sweep.json'));
    const waiting = manifest.runs[1]!.id;
    fs.rmSync(path.join(dir, 'runs', waiting, 'config.json'));
    const runs = loadRuns(dir, manifest, { columns: ['run_id', 'matched_target'], rows: [{ run_id: waiting, matched_target: '123.5' }] });
    assert.deepEqual(
      runs.map((r) => r.id),
      manifest.runs.map((r) => r.id),
    );
    const run = runs.find((r) => r.id === waiting)!;
    assert.equal(run.config, manifest.runs[1]!.config);
    assert.equal(run.level, manifest.runs[1]!.config.env.level);
    assert.equal(run.seed, manifest.runs[1]!.seed);
    assert.equal(run.matchedTarget, 123.5);
    assert.ok(runs.filter((r) => r.id !== waiting).every((r) => Number.isNaN(r.matchedTarget)));
    assert.equal(loadRun(path.join(dir, 'runs', waiting)).config, null);
  });

  it('sweeps: one family per env and other varied setting, the matched-progress rule of sweep-summary.json', () => {
    const dir = tempDir();
    writeSweepFolder(dir, { envs: ['CartPole-v1'], levels: [0], seeds: [1, 2], updates: 8 });
    const manifest = readJson<SweepManifest>(path.join(dir, 'sweep.json'));
    writeJsonAtomic(path.join(dir, 'sweep.json'), {
      ...manifest,
      keys: [...manifest.keys, 'agent.lr'],
      runs: manifest.runs.map((r, i) => ({ ...r, settings: { ...r.settings, 'agent.lr': i === 0 ? 0.001 : 0.0003 } })),
    } satisfies SweepManifest);
    const sweep = loadSweep(dir);
    assert.deepEqual(sweep.families, ['CartPole-v1 · agent.lr=0.001', 'CartPole-v1 · agent.lr=0.0003']);
    assert.match(sweep.matchedRule, /^within each group \(runs differing only in seed\), target = min \+ 0\.5/);
    fs.rmSync(path.join(dir, 'sweep-summary.json'));
    assert.match(loadSweep(dir).matchedRule, /^within each level \(runs differing only in seed\), target = min \+ 0\.5/);
  });

  it('critical batch: fits from critical-batch.json, ∞ told by the regime; from critical-batch.csv, points off the runs', () => {
    const dir = tempDir();
    writeCriticalBatchFolder(dir, { level: 2, aboveRange: true });
    const info = loadCritical(dir);
    assert.equal(info.env, 'CartPole-v1');
    assert.equal(info.level, 2);
    assert.equal(info.component, 'total');
    assert.deepEqual(info.batchSizes, [64, 128, 256, 512, 1024, 2048]);
    assert.deepEqual(
      info.fits.map((f) => [f.spec?.kind, f.spec?.label, f.target, f.regime]),
      [
        ['return', '100', 100, 'fit'],
        ['fraction', '80%', 300, 'b_crit_above_range'],
        ['return', '480', 480, 'not_fitted'],
      ],
    );
    assert.deepEqual(info.fits[0]!.bCrit, { value: 600, lo: 360, hi: 1020, n: 1 });
    assert.equal(info.fits[1]!.bCrit.value, Infinity, 'JSON wrote ∞ as null; the regime restores it');
    assert.equal(info.fits[1]!.bCrit.lo, 2600);
    assert.equal(info.fits[2]!.bCrit.n, 0, 'not fitted: no B_crit at all');
    assert.equal(info.fits[0]!.points.length, 6);

    fs.rmSync(path.join(dir, 'critical-batch.json'));
    fs.writeFileSync(path.join(dir, 'critical-batch.csv'), 'target,target_spec,b_crit,b_crit_lo,b_crit_hi,fit_regime,component\n100,50%,inf,2600,inf,b_crit_above_range,value\n');
    const csv = loadCritical(dir);
    assert.equal(csv.component, 'value');
    assert.deepEqual(csv.fits[0]!.spec, { kind: 'fraction', label: '50%' });
    assert.equal(csv.fits[0]!.bCrit.value, Infinity);
    // Both runs (batch 128 and 512, seed 1) reach a return of 100: their steps come off metrics.csv.
    assert.deepEqual(
      csv.fits[0]!.points.map((p) => [p.batchSize, p.seed]),
      [
        [128, 1],
        [512, 1],
      ],
    );
    assert.ok(csv.fits[0]!.points.every((p) => p.samples === p.steps * p.batchSize));
  });

  it('reproduce: parts in reproduce.json’s order, then any other sub-folder', () => {
    const dir = tempDir();
    writeReproduceFolder(dir);
    writeRunFolder(path.join(dir, 'a-run'), { updates: 5 });
    const info = loadReproduce(dir);
    assert.equal(info.manifest?.preset.name, 'quick');
    assert.deepEqual(
      info.parts.map((p) => [path.basename(p.dir), p.kind]),
      [
        ['difficulty', 'sweep'],
        ['critical-batch', 'critical-batch'],
        ['critical-batch-level2', 'critical-batch'],
        ['a-run', 'run'],
      ],
    );
  });
});
