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

/** What `readCsv` keeps of a file; by default every column and every row. */
export interface CsvReadOptions {
  /** Keep only these columns (the others are never stored): a reader that needs a few columns of a wide log. */
  readonly columns?: readonly string[];
  /** Keep only the rows for which this holds, called on the row as kept (so it sees only the kept columns). */
  readonly where?: (row: Readonly<Record<string, string>>) => boolean;
}

/**
 * Parse a CSV with a header row. A run killed mid-write may leave a partial last line: only lines that end in a
 * newline are read, and rows with the wrong number of cells are dropped. Rows are built one line at a time, so the
 * memory held is that of the rows kept, not of every line and cell of the file at once.
 */
export function readCsv(file: string, options: CsvReadOptions = {}): CsvTable {
  const text = fs.readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  // gradnoise's own files never need quotes; splitting is ten times faster than the general parser.
  const lines: Iterable<string[]> = text.lastIndexOf('"', end) < 0 ? splitLines(text, end) : parsedLines(text.slice(0, end));
  let header: string[] | null = null;
  let kept: { name: string; at: number }[] = [];
  const rows: Record<string, string>[] = [];
  for (const cells of lines) {
    if (header === null) {
      header = cells;
      const wanted = options.columns && new Set(options.columns);
      kept = header.map((name, at) => ({ name, at })).filter((c) => !wanted || wanted.has(c.name));
      continue;
    }
    if (cells.length !== header.length) continue;
    const row: Record<string, string> = {};
    for (const { name, at } of kept) row[name] = cells[at]!;
    if (!options.where || options.where(row)) rows.push(row);
  }
  return { columns: kept.map((c) => c.name), rows };
}

function* splitLines(text: string, end: number): Generator<string[]> {
  for (let from = 0; from < end; ) {
    const to = text.indexOf('\n', from);
    const line = text.slice(from, to > 0 && text[to - 1] === '\r' ? to - 1 : to);
    from = to + 1;
    if (line.length > 0) yield line.split(',');
  }
}

function parsedLines(text: string): string[][] {
  return parse(text, { skip_empty_lines: true, relax_column_count: true, relax_quotes: true }) as string[][];
}

/** `readCsv`, or null when the file does not exist. */
export function readCsvIfExists(file: string, options: CsvReadOptions = {}): CsvTable | null {
  return fs.existsSync(file) ? readCsv(file, options) : null;
}
