/**
 * The job scripts a Slurm sweep writes into its folder (`slurm/array-<n>.sh`, `slurm/finish-<n>.sh`): plain bash with
 * `#SBATCH` directives, readable and resubmittable by hand (`sbatch DIR/slurm/array-1.sh`; completed runs are then
 * skipped). An array task runs one run of the folder, `gradnoise sweep run-one DIR --id ID`, its output appended to
 * `logs/<id>.log`; temporary files go to node-local scratch (`$SLURM_TMPDIR`, else `$TMPDIR`, else /tmp), run folders
 * stay on the shared filesystem. The finish job (`--dependency=afterany`) writes the aggregates and the report.
 */
import path from 'node:path';
import { packageRoot } from '../../core/package-root.js';
import { sbatchArgs, type SlurmOptions } from './options.js';

/** `value` as one shell word. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** How a compute node starts gradnoise: this Node and this package, at the same paths (a shared filesystem). */
export function gradnoiseCommand(): string[] {
  return [process.execPath, path.join(packageRoot(), 'bin', 'gradnoise.js')];
}

function header(title: string, lines: readonly string[], directives: readonly string[]): string[] {
  return ['#!/bin/bash', `# ${title}`, ...lines.map((l) => `# ${l}`), ...directives.map((d) => `#SBATCH ${d}`), 'set -euo pipefail'];
}

function scratch(): string[] {
  return [
    '# Node-local scratch for temporary files; the run folders themselves stay on the shared filesystem.',
    'export TMPDIR="${SLURM_TMPDIR:-${TMPDIR:-/tmp}}/gradnoise-${SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"',
    'mkdir -p "$TMPDIR"',
    "trap 'rm -rf \"$TMPDIR\"' EXIT",
  ];
}

export interface ArrayScript {
  readonly name: string;
  /** The sweep folder, absolute. */
  readonly dir: string;
  /** Task i runs runs[i·k .. i·k + k − 1], k = slurm.runsPerTask. */
  readonly runs: readonly string[];
  readonly slurm: SlurmOptions;
  /** Slurm's output file pattern for the tasks' own messages (before gradnoise starts). */
  readonly output: string;
}

export function arrayScript(spec: ArrayScript): string {
  const perTask = spec.slurm.runsPerTask;
  const last = Math.ceil(spec.runs.length / perTask) - 1;
  const throttle = spec.slurm.throttle ? `%${spec.slurm.throttle}` : '';
  const directives = [`--job-name=${shellQuote(`gradnoise-${spec.name}`)}`, `--array=0-${last}${throttle}`, `--output=${shellQuote(spec.output)}`, ...sbatchArgs(spec.slurm)];
  const [node, bin] = gradnoiseCommand().map(shellQuote);
  const which = perTask === 1 ? 'one per array task (task i runs RUNS[i])' : `${perTask} per array task, one after another in one process`;
  // One run per task: its output is the run's log. Several: one task log, and each run's log points to it.
  const run =
    perTask === 1
      ? ['ID="${RUNS[$SLURM_ARRAY_TASK_ID]}"', `${node} ${bin} sweep run-one "$DIR" --id "$ID" >>"$DIR/logs/$ID.log" 2>&1`]
      : [
          `K=${perTask}`,
          'ARGS=()',
          'for ID in "${RUNS[@]:$((SLURM_ARRAY_TASK_ID * K)):K}"; do ARGS+=(--id "$ID"); done',
          `${node} ${bin} sweep run-one "$DIR" "\${ARGS[@]}" >>"$DIR/logs/task-\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}.log" 2>&1`,
        ];
  return [
    ...header(`gradnoise sweep '${spec.name}': ${spec.runs.length} runs of ${spec.dir}, ${which}.`, ['Resubmit with sbatch; runs already completed are skipped.'], directives),
    `DIR=${shellQuote(spec.dir)}`,
    'RUNS=(',
    ...spec.runs.map((id) => `  ${shellQuote(id)}`),
    ')',
    ...scratch(),
    ...spec.slurm.setup,
    ...run,
    '',
  ].join('\n');
}

export interface FinishScript {
  readonly name: string;
  readonly dir: string;
  readonly after: readonly string[];
  readonly slurm: SlurmOptions;
  readonly output: string;
  /** Further arguments of `gradnoise sweep finish` (critical-batch targets, component). */
  readonly args: readonly string[];
}

/** The dependent job that aggregates once every task has ended (completed or not: afterany). */
export function finishScript(spec: FinishScript): string {
  // Only where to run: the runs' resources (GPUs, memory, long time limits) are not needed to aggregate.
  const where = sbatchArgs({ ...spec.slurm, gres: undefined, mem: undefined, time: undefined, cpusPerTask: 1, extraArgs: [] });
  const directives = [`--job-name=${shellQuote(`gradnoise-${spec.name}-finish`)}`, `--dependency=afterany:${spec.after.join(':')}`, `--output=${shellQuote(spec.output)}`, ...where];
  const [node, bin] = gradnoiseCommand().map(shellQuote);
  return [
    ...header(`gradnoise sweep '${spec.name}': aggregates and report for ${spec.dir} once jobs ${spec.after.join(', ')} have ended.`, [], directives),
    ...scratch(),
    ...spec.slurm.setup,
    [node, bin, 'sweep', 'finish', shellQuote(spec.dir), ...spec.args.map(shellQuote)].join(' '),
    '',
  ].join('\n');
}
