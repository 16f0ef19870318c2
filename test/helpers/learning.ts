/**
 * Shared by the learning smoke tests (test/src/learning-smoke.test.ts) and the slow learning benchmarks
 * (test/slow/learning.test.ts): train a shipped config from configs/ through the library API and read its metrics.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { type RunConfig } from '../../src/config/schema.js';
import { loadConfig } from '../../src/config/load.js';
import { train } from '../../src/run/trainer.js';
import { type RunSummary } from '../../src/run/run-folder.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const configsDir = path.join(repo, 'configs');

/** The ready-to-run configs: every *.json directly in configs/ (sweeps/ and reproduce/ hold other formats). */
export function shippedConfigs(): string[] {
  return fs
    .readdirSync(configsDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => path.join(configsDir, entry.name))
    .sort();
}

/** One metrics.csv row: numbers, or null where the cell is empty (no finished episode yet, no estimate). */
export type MetricsRow = Record<string, number | null>;

export function readMetrics(runDir: string): MetricsRow[] {
  const records = parse(fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records.map((record) => {
    const row: MetricsRow = {};
    for (const [key, value] of Object.entries(record)) row[key] = value === '' ? null : Number(value);
    return row;
  });
}

export interface ShippedRun {
  config: RunConfig;
  summary: RunSummary;
  rows: MetricsRow[];
  runDir: string;
}

/**
 * Train configs/NAME.json with `--set`-style overrides on the wasm backend (the backend the shipped figures were
 * measured on), into a fresh temporary folder.
 */
export async function trainShipped(name: string, set: readonly string[] = []): Promise<ShippedRun> {
  const config = loadConfig(path.join(configsDir, `${name}.json`), { set, backend: 'wasm' });
  const runDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `gradnoise-learn-${name.replaceAll('/', '-')}-`)), 'run');
  const summary = await train(config, { runDir, configDir: configsDir });
  return { config, summary, rows: readMetrics(runDir), runDir };
}

/** The rows that have a return_mean (at least one finished episode), as [env_steps, return_mean] pairs. */
export function returnCurve(rows: readonly MetricsRow[]): [number, number][] {
  return rows.filter((row) => row.return_mean !== null).map((row) => [row.env_steps!, row.return_mean!]);
}

/** Env steps at the first row whose return_mean (last 20 episodes) is at least `target`, or null. */
export function stepsToTarget(rows: readonly MetricsRow[], target: number): number | null {
  return returnCurve(rows).find(([, value]) => value >= target)?.[0] ?? null;
}

/** Mean of return_mean over the last `count` rows that have one (smooths the 20-episode window further). */
export function finalReturn(rows: readonly MetricsRow[], count = 10): number {
  const tail = returnCurve(rows).slice(-count);
  return tail.reduce((sum, [, value]) => sum + value, 0) / tail.length;
}

/** Binary entropy h(q) in nats. A categorical policy with entropy below h(q) (q ≥ 1/2) puts more than q on one action. */
export function binaryEntropy(q: number): number {
  return -q * Math.log(q) - (1 - q) * Math.log(1 - q);
}
