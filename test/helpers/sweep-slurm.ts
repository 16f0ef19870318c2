/**
 * A local one-node Slurm for the Slurm executor tests, through scripts/slurm-local.sh: started when it can be (it
 * installs slurm-wlm and munge with apt when missing, which needs root), stopped afterwards if the tests started it.
 * Where it cannot start, `reason` says why and the tests skip with it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repo } from './sweep-cli.js';

const script = path.join(repo, 'scripts', 'slurm-local.sh');

export interface LocalSlurm {
  /** The cluster's slurm.conf, or null when it could not be started. */
  readonly conf: string | null;
  readonly reason: string;
  /** Stop the daemons if this process started them. */
  readonly stop: () => void;
}

function call(verb: string, timeout: number) {
  const result = spawnSync('bash', [script, verb], { encoding: 'utf8', timeout });
  const conf = /^SLURM_CONF=(.+)$/m.exec(result.stdout ?? '')?.[1] ?? null;
  return { ok: result.status === 0 && conf !== null, conf, stderr: (result.stderr ?? '').trim() || String(result.error ?? `exit ${result.status}`) };
}

/** Start (or find running) the local cluster and point this process's Slurm commands at it (SLURM_CONF). */
export function localSlurm(): LocalSlurm {
  if (process.env.GRADNOISE_SLURM_TESTS === '0') return { conf: null, reason: 'GRADNOISE_SLURM_TESTS=0', stop: () => {} };
  const before = call('status', 10_000);
  // Installing the packages on a fresh machine takes a minute or two; starting takes about a second.
  const started = before.ok ? before : call('start', 300_000);
  if (!started.ok) return { conf: null, reason: `no local Slurm (scripts/slurm-local.sh start: ${started.stderr.split('\n').slice(-2).join(' ')})`, stop: () => {} };
  process.env.SLURM_CONF = started.conf!;
  return {
    conf: started.conf,
    reason: '',
    stop: () => {
      if (!before.ok) call('stop', 30_000);
    },
  };
}

/** Poll `check` every 200 ms until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}
