/** The `gradnoise` command line as a child process, for the sweep, reproduce and Slurm tests. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = path.join(repo, 'bin/gradnoise.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repo,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    ...(options.env ? { env: options.env } : {}),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
