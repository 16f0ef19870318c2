/** Comparing run folders row for row, wall-clock columns aside (what "the same run" means for sweeps and executors). */
import fs from 'node:fs';
import path from 'node:path';
import { readCsv } from '../../src/run/csv.js';
import { NOISE_WALL_CLOCK_COLUMNS, WALL_CLOCK_COLUMNS } from '../../src/run/trainer.js';

export interface RunRows {
  readonly metrics: Record<string, string>[];
  readonly noise: Record<string, string>[];
  readonly status: string;
}

/** noise.csv's clock columns (how long the measurement took). */
const NOISE_CLOCK_COLUMNS: readonly string[] = NOISE_WALL_CLOCK_COLUMNS;

/** A run folder's metrics.csv and noise.csv rows without their clock columns, and its status. */
export function runRows(runDir: string): RunRows {
  const metrics = readCsv(path.join(runDir, 'metrics.csv')).rows.map((row) => without(row, WALL_CLOCK_COLUMNS));
  const noiseFile = path.join(runDir, 'noise.csv');
  const noise = fs.existsSync(noiseFile) ? readCsv(noiseFile).rows.map((row) => without(row, NOISE_CLOCK_COLUMNS)) : [];
  const status = (JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as { status: string }).status;
  return { metrics, noise, status };
}

function without(row: Record<string, string>, columns: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(row).filter(([key]) => !columns.includes(key)));
}
