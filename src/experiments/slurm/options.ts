/**
 * Where a sweep's runs execute (`executor`: `local` worker processes, or `slurm` array jobs) and the Slurm options:
 * the `slurm` section of a sweep file or preset, or the matching command-line flags (which win).
 *
 *     "executor": "slurm",
 *     "slurm": { "partition": "gpu", "gres": "gpu:1", "time": "02:00:00", "cpusPerTask": 2, "mem": "8G",
 *                "throttle": 50, "account": "lab", "qos": "normal", "extraArgs": ["--constraint=a100"],
 *                "setup": ["module load nodejs/20"] }
 *
 * Neither is part of what makes two sweeps the same one: a sweep started locally can be finished on a cluster.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

export const EXECUTORS = ['local', 'slurm'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export const executorSchema = z.enum(EXECUTORS).describe('where runs execute: local worker processes, or Slurm array jobs');

const safeText = (what: string) => z.string().min(1).regex(/^[A-Za-z0-9_.,:=+@%/-]+$/, `expected a Slurm ${what} (letters, digits and _ . , : = + @ % / -)`);

export const slurmSchema = z.strictObject({
  partition: safeText('partition name').optional().describe('sbatch --partition'),
  account: safeText('account').optional().describe('sbatch --account'),
  qos: safeText('QOS').optional().describe('sbatch --qos'),
  time: z
    .string()
    .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'expected a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS')
    .optional()
    .describe('time limit per run (sbatch --time); a run stopped by it ends interrupted and is resubmitted by a re-run'),
  cpusPerTask: z.number().int().min(1).max(1024).optional().describe('CPUs per run (sbatch --cpus-per-task, default 1)'),
  mem: z.string().regex(/^\d+[KMGT]?$/, 'expected a memory size such as 4G or 500M').optional().describe('memory per run (sbatch --mem)'),
  gres: safeText('generic resource list').optional().describe('e.g. gpu:1 (sbatch --gres); pair with run.backend tensorflow or webgpu'),
  throttle: z.number().int().min(1).optional().describe('array tasks at once at most (the %K of --array=0-N%K)'),
  runsPerTask: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe('runs one array task serves one after another in one process (start-up paid once; for short runs)'),
  extraArgs: z.array(z.string().min(1)).default([]).describe('further sbatch arguments, e.g. ["--constraint=a100"]'),
  setup: z.array(z.string()).default([]).describe('shell lines the job script runs first, e.g. "module load nodejs/20"'),
  pollSeconds: z.number().positive().max(3600).default(5).describe('how often a waiting client looks at the folder and squeue'),
});

export type SlurmOptions = z.infer<typeof slurmSchema>;

/** Where runs go, as resolved from file and flags. */
export type ExecutorChoice = { readonly executor: 'local' } | { readonly executor: 'slurm'; readonly slurm: SlurmOptions; readonly detach: boolean };

/** The defaults of every option (what an empty `slurm` section means). */
export function defaultSlurmOptions(): SlurmOptions {
  return slurmSchema.parse({});
}

/**
 * Options from a file (`base`, already validated) with command-line values on top; a bad value is a ConfigError at
 * `nameOf(key)` (the flag that gave it).
 */
export function mergeSlurmOptions(
  base: SlurmOptions | undefined,
  flags: Partial<Record<keyof SlurmOptions, unknown>>,
  nameOf: (key: string) => string = (key) => `slurm.${key}`,
): SlurmOptions {
  const merged: Record<string, unknown> = { ...(base ?? {}) };
  for (const [key, value] of Object.entries(flags)) if (value !== undefined) merged[key] = value;
  const result = slurmSchema.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  throw new ConfigError(key ? nameOf(key) : 'slurm', key ? merged[key] : merged, issue.message);
}

/** sbatch arguments for these options (the directives of the job script). */
export function sbatchArgs(options: SlurmOptions): string[] {
  const args: string[] = [];
  if (options.partition) args.push(`--partition=${options.partition}`);
  if (options.account) args.push(`--account=${options.account}`);
  if (options.qos) args.push(`--qos=${options.qos}`);
  if (options.time) args.push(`--time=${options.time}`);
  args.push(`--cpus-per-task=${options.cpusPerTask ?? 1}`);
  if (options.mem) args.push(`--mem=${options.mem}`);
  if (options.gres) args.push(`--gres=${options.gres}`);
  args.push(...options.extraArgs);
  return args;
}
