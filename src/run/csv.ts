/**
 * gradnoise's CSV files, written and read in one place (as bsuite keeps its csv logger and loader side by side):
 * logs appended row by row, so a killed run keeps every complete row; aggregates replaced atomically; a reader that
 * ignores a torn last line. A write the OS refuses (full disk, read-only folder) becomes a one-line FileSystemError
 * and leaves no partial row and no temp file behind.
 */
import fs from 'node:fs';
import { onFile } from '../core/errors.js';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

export type CsvValue = number | string | boolean | null | undefined;

export interface CsvTable {
  columns: string[];
  rows: Record<string, string>[];
}

/**
 * One cell as text, the same value always giving the same text: integers as such, other numbers to 9 significant
 * digits, ±∞ as `inf`/`-inf`, no value as an empty cell, NaN as `nanText` (`nan` in logs, empty in aggregates).
 */
export function formatCell(value: CsvValue, nanText = 'nan'): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return nanText;
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(9)));
  }
  return String(value);
}

/** A cell as a number: empty and `nan` are NaN, `inf`/`-inf` (any case, or `infinity`) infinite. */
export function cellNumber(value: string | undefined): number {
  const text = value?.trim().toLowerCase();
  if (text === undefined || text === '' || text === 'nan') return NaN;
  if (text === 'inf' || text === '+inf' || text === 'infinity') return Infinity;
  if (text === '-inf' || text === '-infinity') return -Infinity;
  return Number(text);
}

/**
 * Appends rows with a fixed column order; the header goes out with the first row. A failed append (a full disk
 * writes part of it) is cut back off, so the file always ends with a complete row.
 */
export class CsvLog {
  /** Bytes of complete rows in the file. */
  private size: number;
  constructor(
    readonly file: string,
    readonly columns: readonly string[],
  ) {
    this.size = onFile(file, () => (fs.existsSync(file) ? fs.statSync(file).size : 0));
  }

  append(rows: readonly Record<string, CsvValue>[]): void {
    if (rows.length === 0) return;
    const header = this.size === 0;
    const records = rows.map((row) => this.columns.map((c) => formatCell(row[c])));
    const text = stringify(records, { header, columns: header ? [...this.columns] : undefined });
    try {
      onFile(this.file, () => fs.appendFileSync(this.file, text));
    } catch (error) {
      attempt(() => fs.truncateSync(this.file, this.size));
      throw error;
    }
    this.size += Buffer.byteLength(text);
  }

  /** Bytes of complete rows in the file (header included). */
  get bytes(): number {
    return this.size;
  }
}

/** `operation`, ignoring any error: for clean-up after a failure that is already being reported. */
export function attempt(operation: () => void): void {
  try {
    operation();
  } catch {
    // the original failure is the one to report
  }
}

/** Replace `file` with `text` atomically (temp file + rename); a failure leaves the old file and no temp file. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    onFile(file, () => {
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
    });
  } catch (error) {
    attempt(() => fs.rmSync(tmp, { force: true }));
    throw error;
  }
}

/** Write a whole table at once (atomically); NaN cells are left empty. */
export function writeCsvAtomic(file: string, columns: readonly string[], rows: readonly Record<string, CsvValue>[]): void {
  const records = rows.map((row) => columns.map((c) => formatCell(row[c], '')));
  writeFileAtomic(file, stringify(records, { header: true, columns: [...columns] }));
}

/**
 * Parse a CSV with a header row. A run killed mid-write may leave a partial last line: only lines that end in a
 * newline are read, and rows with the wrong number of cells are dropped.
 */
export function readCsv(file: string): CsvTable {
  const text = fs.readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  let records: string[][];
  if (!complete.includes('"')) {
    // gradnoise's own files never need quotes; splitting is ten times faster than the general parser.
    records = complete.split('\n').filter((line) => line.length > 0).map((line) => line.replace(/\r$/, '').split(','));
  } else {
    records = parse(complete, { skip_empty_lines: true, relax_column_count: true, relax_quotes: true }) as string[][];
  }
  const columns = records[0] ?? [];
  const rows: Record<string, string>[] = [];
  for (let r = 1; r < records.length; r++) {
    const cells = records[r]!;
    if (cells.length !== columns.length) continue;
    const row: Record<string, string> = {};
    for (let c = 0; c < columns.length; c++) row[columns[c]!] = cells[c]!;
    rows.push(row);
  }
  return { columns, rows };
}

/** `readCsv`, or null when the file does not exist. */
export function readCsvIfExists(file: string): CsvTable | null {
  return fs.existsSync(file) ? readCsv(file) : null;
}
