/**
 * Reading the experiment definitions users write (sweep files, reproduce presets): JSON files, the schema fields they
 * share, and a zod issue turned into a ConfigError that names the path and the value found there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { valueAt } from '../core/json-path.js';

export const configPathSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/, 'expected a dot-separated config path such as env.level');

/** A name that becomes a folder name. */
export const folderNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected letters, digits, . _ - (it names the output folder)');

export const seedsSchema = z
  .union([z.number().int().positive(), z.array(z.number().int().min(0)).min(1)])
  .describe('seed list, or a count N meaning seeds 1..N');

/** A `seeds` value as a list: a count N means seeds 1..N. */
export function seedList(seeds: number | readonly number[]): number[] {
  return typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i + 1) : [...seeds];
}

/** Parse and read a JSON file given as input; problems are ConfigErrors at `where` naming `given`. */
export function readJsonInput(file: string, where: string, given: unknown = file, what = 'file'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(where, given, `cannot read ${what}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError(where, given, `not valid JSON: ${(error as Error).message}`);
  }
}

/** The first problem of a failed parse: its path (an unknown key's own path), the value there, and a message. */
export function firstIssue(error: z.ZodError, raw: unknown): { at: string[]; value: unknown; message: string; code: string } {
  const issue = error.issues[0]!;
  let at = issue.path.map(String);
  let message = issue.message;
  let value = valueAt(raw, at);
  if (issue.code === 'unrecognized_keys') {
    at = [...at, issue.keys[0]!];
    value = valueAt(raw, at);
    message = `unknown key '${issue.keys[0]}'`;
  } else if (issue.code === 'invalid_key') {
    value = at[at.length - 1];
    message = issue.issues[0]?.message ?? message;
  }
  return { at, value, message, code: issue.code };
}

/** A path as shown to the user: relative to the working folder when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
