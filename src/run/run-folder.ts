/**
 * Writing a run's folder: CSV logs appended row by row (so a killed run keeps everything up to its last update) and
 * JSON files written atomically (temp file + rename, so no reader ever sees half a file).
 */
import fs from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { InvalidValueError } from '../core/errors.js';

export type CsvValue = number | string | boolean | null | undefined;

/** Appends rows with a fixed column order; the header goes out with the first row. */
export class CsvLog {
  private headerWritten: boolean;
  constructor(
    readonly file: string,
    readonly columns: readonly string[],
  ) {
    this.headerWritten = fs.existsSync(file) && fs.statSync(file).size > 0;
  }

  append(rows: readonly Record<string, CsvValue>[]): void {
    if (rows.length === 0) return;
    const records = rows.map((row) => this.columns.map((c) => formatCell(row[c])));
    const text = stringify(records, { header: !this.headerWritten, columns: this.headerWritten ? undefined : [...this.columns] });
    fs.appendFileSync(this.file, text);
    this.headerWritten = true;
  }
}

/** Numbers written so that the same value always gives the same text; non-finite values as empty cells or nan/inf. */
function formatCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(9)));
  }
  return String(value);
}

export function writeJsonAtomic(file: string, value: unknown): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, jsonReplacer, 2)}\n`);
  fs.renameSync(tmp, file);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}

/** Create an empty run folder; refuse one that already holds files (never overwrite results). */
export function createRunFolder(dir: string, argPath = '--out'): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new InvalidValueError(argPath, dir, 'exists and is not a folder');
    if (fs.readdirSync(dir).length > 0) throw new InvalidValueError(argPath, dir, 'folder already holds files; choose a new one');
  }
  fs.mkdirSync(dir, { recursive: true });
}

/** `env__algo__seed__time`, CleanRL-style, with a filesystem-safe timestamp. */
export function defaultRunName(envId: string, algo: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${envId}__${algo}__${seed}__${stamp}`;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

