/**
 * The Slurm executor's parts that need no cluster: job scripts (directives, quoting, runs per task), options from a
 * file and flags, run states from folder and Slurm, and the command line refusing Slurm flags without the Slurm
 * executor (exit 2, nothing written).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { taskState } from '../../src/experiments/slurm/commands.js';
import { latestTasks } from '../../src/experiments/slurm/jobs.js';
import { defaultSlurmOptions, mergeSlurmOptions, sbatchArgs } from '../../src/experiments/slurm/options.js';
import { arrayScript, finishScript, shellQuote } from '../../src/experiments/slurm/script.js';
import { runState } from '../../src/experiments/sweep/status.js';
import type { RunSummary } from '../../src/run/run-folder.js';
import { runCli } from '../helpers/sweep-cli.js';
import { BASE, tempDir } from '../helpers/sweep-fakes.js';

const summary = (status: RunSummary['status']) => ({ status }) as RunSummary;

describe('Slurm job scripts and options', () => {
  it('an array script lists its runs, one per task, with the options as directives', () => {
    const slurm = mergeSlurmOptions(undefined, { partition: 'gpu', gres: 'gpu:1', time: '01:30:00', throttle: 4, extraArgs: ['--constraint=a100'], setup: ['module load nodejs/20'] });
    const text = arrayScript({ name: 'demo', dir: "/shared/my sweep's", runs: ['level=0,seed=1', 'level=1,seed=1', 'level=2,seed=1'], slurm, output: '/shared/out/%A_%a.out' });
    for (const line of ['#SBATCH --array=0-2%4', '#SBATCH --partition=gpu', '#SBATCH --gres=gpu:1', '#SBATCH --time=01:30:00', '#SBATCH --cpus-per-task=1', '#SBATCH --constraint=a100', 'module load nodejs/20']) {
      assert.ok(text.split('\n').includes(line), line);
    }
    assert.ok(text.includes(`DIR='/shared/my sweep'\\''s'`), 'the folder is one shell word');
    assert.match(text, /RUNS=\(\n {2}level=0,seed=1\n {2}level=1,seed=1\n {2}level=2,seed=1\n\)/);
    assert.match(text, /sweep run-one "\$DIR" --id "\$ID" >>"\$DIR\/logs\/\$ID\.log" 2>&1/);
    assert.match(text, /export TMPDIR="\$\{SLURM_TMPDIR:-\$\{TMPDIR:-\/tmp\}\}/);
  });

  it('with several runs per task the array is shorter and each task passes its slice of ids', () => {
    const slurm = mergeSlurmOptions(undefined, { runsPerTask: 2 });
    const text = arrayScript({ name: 'demo', dir: '/d', runs: ['a', 'b', 'c'], slurm, output: '/d/o' });
    assert.ok(text.includes('#SBATCH --array=0-1\n'));
    assert.match(text, /for ID in "\$\{RUNS\[@\]:\$\(\(SLURM_ARRAY_TASK_ID \* K\)\):K\}"/);
    assert.deepEqual([...latestTasks({ arrays: [{ jobId: '7', script: 's', runs: ['a', 'b', 'c'], runsPerTask: 2, submittedAt: '' }], finish: [] })], [
      ['a', '7_0'],
      ['b', '7_0'],
      ['c', '7_1'],
    ]);
  });

  it('the finish job waits for every array (afterany) and asks for no GPU', () => {
    const slurm = mergeSlurmOptions(undefined, { partition: 'gpu', gres: 'gpu:1', mem: '8G' });
    const text = finishScript({ name: 'demo', dir: '/d', after: ['11', '12'], slurm, output: '/d/f', args: ['--targets', '50%'] });
    assert.ok(text.includes('#SBATCH --dependency=afterany:11:12'));
    assert.ok(text.includes('#SBATCH --partition=gpu'));
    assert.doesNotMatch(text, /--gres|--mem/);
    assert.match(text, /sweep finish \/d --targets 50%$/m);
  });

  it('options: defaults, flags over the file, bad values named by their flag', () => {
    assert.deepEqual(sbatchArgs(defaultSlurmOptions()), ['--cpus-per-task=1']);
    const file = mergeSlurmOptions(undefined, { partition: 'cpu', time: '10' });
    assert.equal(mergeSlurmOptions(file, { partition: 'gpu' }).partition, 'gpu');
    assert.equal(mergeSlurmOptions(file, { partition: 'gpu' }).time, '10');
    assert.throws(
      () => mergeSlurmOptions(file, { time: 'soon' }, (key) => `--${key}`),
      (e: unknown) => e instanceof ConfigError && e.path === '--time' && e.value === 'soon',
    );
    assert.throws(() => mergeSlurmOptions(undefined, { partition: 'a b; rm -rf /' }), /partition/);
    assert.equal(shellQuote('level=3,seed=2'), 'level=3,seed=2');
    assert.equal(shellQuote('a b'), "'a b'");
  });

  it('run states: the folder first, then Slurm; tasks cancelled while queued take the array record', () => {
    const task = (state: string | null) => ({ task: '5_1', state });
    assert.equal(runState(summary('completed'), task('COMPLETED'), true, false), 'completed');
    assert.equal(runState(summary('interrupted'), task('CANCELLED'), true, false), 'cancelled');
    assert.equal(runState(summary('interrupted'), task('TIMEOUT'), true, false), 'timeout');
    assert.equal(runState(null, task('PENDING'), false, false), 'pending');
    assert.equal(runState(null, task('RUNNING'), true, false), 'running');
    assert.equal(runState(null, task('OUT_OF_MEMORY'), true, false), 'failed');
    assert.equal(runState(null, null, true, true), 'running');
    assert.equal(runState(null, null, true, false), 'interrupted');
    assert.equal(runState(null, null, false, false), 'pending');
    const states = new Map([
      ['5', 'CANCELLED'],
      ['5_0', 'COMPLETED'],
    ]);
    assert.equal(taskState(states, '5_0'), 'COMPLETED');
    assert.equal(taskState(states, '5_2'), 'CANCELLED');
    assert.equal(taskState(states, '6_0'), null);
  });

  it('the command line refuses Slurm flags without the Slurm executor, writing nothing', () => {
    const dir = tempDir();
    const file = path.join(dir, 'sweep.json');
    const out = path.join(dir, 'out');
    fs.writeFileSync(file, JSON.stringify({ name: 'x', base: BASE }));
    const partition = runCli(['sweep', file, '--out', out, '--partition', 'gpu']);
    assert.equal(partition.code, 2, partition.stderr);
    assert.match(partition.stderr, /--partition: is a Slurm option; add --executor slurm/);
    const detach = runCli(['sweep', file, '--out', out, '--detach']);
    assert.equal(detach.code, 2);
    assert.match(detach.stderr, /--detach/);
    fs.writeFileSync(file, JSON.stringify({ name: 'x', base: BASE, executor: 'slurm', slurm: { time: 'soon' } }));
    const bad = runCli(['sweep', file, '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /slurm\.time/);
    assert.equal(fs.existsSync(out), false);
  });
});
