/** `gradnoise bench envs|train|monitor|ops|sweep|all [--json]`: throughput figures; with --json the last line is one JSON object. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runEnvBench } from '../../bench/envs.js';
import { machineInfo } from '../../run/machine.js';
import { runMonitorBench, type MonitorBenchResult } from '../../bench/monitor.js';
import { runOpsBench, type OpsBenchResult } from '../../bench/ops.js';
import { ALL_BACKENDS, benchConfig, ppoOf, type BackendUsed, type ConcreteBackend } from '../../bench/setup.js';
import { loadAverage } from '../../run/machine.js';
import { runSweepBench, type SweepBenchResult } from '../../bench/sweep.js';
import { runTrainBench, type TrainBenchResult } from '../../bench/train.js';
import { InvalidValueError } from '../../core/errors.js';
import { webgpuSoftwareFromEnv } from '../../run/backend.js';

type BenchTarget = 'envs' | 'train' | 'monitor' | 'ops' | 'sweep' | 'all';

interface BenchArgs {
  what: BenchTarget;
  json: boolean;
  seconds: number;
  solve: boolean;
  updates?: number;
  warmup?: number;
  backends?: string;
  webgpuSoftware: boolean;
  conv: boolean;
  convUpdates: number;
  convWarmup: number;
  sweepRuns: number;
  sweepSteps: number;
}

function formatRate(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}

const fixed = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

function benchEnvs(seconds: number, log: (line: string) => void) {
  const result = runEnvBench({ seconds });
  log('env                        impl            numEnvs   steps/s');
  for (const r of result.rows) log(`${r.env.padEnd(26)} ${r.implementation.padEnd(15)} ${String(r.numEnvs).padStart(7)}   ${formatRate(r.stepsPerSec)}`);
  log(`CartPole-v1 at ${result.largestNumEnvs} envs: ${formatRate(result.cartPoleAtLargest)} steps/s, ${result.cartPoleSpeedup.toFixed(1)}x the naive baseline`);
  return result;
}

function printTrain(r: TrainBenchResult, log: (line: string) => void): void {
  const c = r.config;
  log('');
  log(
    `bench train: ${c.env} PPO, ${c.numEnvs} envs × ${c.numSteps} steps, ${c.updateEpochs} epochs × ${c.numMinibatches} minibatches, ` +
      `${c.hidden.join('-')} ${c.activation}, lr ${c.lr}${c.annealLr ? ' annealed' : ''} (config: ${c.source})`,
  );
  log('backend     setting        batch   monitor          updates*   env steps/s   ms/update   cpu share   runs (env steps/s)');
  for (const row of r.rows) {
    log(
      `${row.backend.padEnd(11)} ${row.setting.padEnd(13)} ${String(row.batch).padStart(6)}   ${(row.monitor === 'on' ? `on (${row.monitorMode}${row.monitorMethodUsed && !row.monitorMode?.endsWith(row.monitorMethodUsed) ? ` → ${row.monitorMethodUsed}!` : ''})` : 'off').padEnd(16)} ` +
        `${`${row.warmupUpdates}+${row.updates}`.padStart(8)}   ${formatRate(row.sps).padStart(11)}   ${fixed(row.msPerUpdate).padStart(9)}   ${fixed(row.cpuShare, 2).padStart(9)}   ${row.spsRuns.map(formatRate).join(', ')}`,
    );
  }
  log('* warm-up + timed updates per run; env steps/s and ms/update are medians over the runs');
  if (r.naive.length > 0) {
    log('');
    log(`naive tfjs PPO baseline (tf.sequential, tfjs call per env step, autodiff loss, tf.train.adam), same run, ${r.naive[0]!.warmupUpdates}+${r.naive[0]!.updates} updates:`);
    log('backend     gradnoise steps/s (monitor off)   naive steps/s   speed-up');
    for (const x of r.ratios) log(`${x.backend.padEnd(11)} ${formatRate(x.gradnoiseSps).padStart(31)}   ${formatRate(x.naiveSps).padStart(13)}   ${fixed(x.ratio, 1).padStart(7)}x`);
  }
  if (r.conv) {
    const c = r.conv.config;
    log('');
    log(
      `conv case: ${c.env} PPO, conv torso (3×3×16 valid, ReLU) + ${c.hidden.join('-')} ${c.activation}, ${c.numEnvs} envs × ${c.numSteps} steps ` +
        `(reduced from the config's ${c.configNumEnvs} × ${c.configNumSteps}), ${c.updateEpochs} epochs × ${c.numMinibatches} minibatches, monitor off (config: ${c.source})`,
    );
    log('naive: the same PPO with tf.layers.conv2d + flatten + dense in tf.sequential, a tfjs call per env step, tf.train.adam; one run each');
    log('backend     updates*   gradnoise steps/s   ms/update   naive steps/s   ms/update   speed-up');
    for (const x of r.conv.rows) {
      log(
        `${x.backend.padEnd(11)} ${`${x.warmupUpdates}+${x.updates}`.padStart(8)}   ${formatRate(x.gradnoise.sps).padStart(17)}   ${fixed(x.gradnoise.msPerUpdate).padStart(9)}   ` +
          `${formatRate(x.naive.sps).padStart(13)}   ${fixed(x.naive.msPerUpdate).padStart(9)}   ${fixed(x.ratio, 1).padStart(7)}x`,
      );
    }
  }
  for (const p of r.profiles) {
    const ms = p.phases.ms;
    const share = (x: number) => `${fixed(x, 1)} ms (${fixed((100 * x) / p.phases.totalMs, 0)}%)`;
    log('');
    log(`where an update goes, ${p.backend}, monitor off, ${fixed(p.phases.totalMs, 1)} ms per profiled update (medians of ${p.phases.updates} after ${p.phases.warmupUpdates}; the trainer's own: ${fixed(p.trainerMsPerUpdate, 1)} ms):`);
    log(`  env ${share(ms.env)}, acting ${share(ms.acting)}, advantages ${share(ms.advantages)}, tfjs update ${share(ms.update)}, bookkeeping ${share(ms.bookkeeping)}`);
    log(
      `  dense matMul work ${formatRate(p.phases.flops.perEnvStep)} FLOP per env step; the loop runs at ${fixed(100 * p.fractionOfLimit.loop, 1)}% and the update phase at ` +
        `${fixed(100 * p.fractionOfLimit.update, 1)}% of the backend's matMul rate (${fixed(p.machine.gflops, 1)} GFLOP/s; ${fixed(p.machine.denseShapeGflops, 1)} at the net's own shape)`,
    );
  }
  if (r.solve) {
    const s = r.solve;
    log('');
    log(
      s.reached
        ? `time to mean return ${s.target} (last 20 episodes), ${s.backend}, seed ${s.seed}, monitor off: ${fixed(s.wallS!)} s, ${s.envSteps} env steps (${s.updates} updates, ${formatRate(s.sps)} steps/s)`
        : `time to mean return ${s.target}, ${s.backend}, seed ${s.seed}: not reached within ${s.maxSteps} env steps (best mean return ${fixed(s.bestReturnMean ?? NaN)})`,
    );
  }
  printUsed(r.backendsUsed, log);
  for (const s of r.skipped) log(`skipped ${s.backend}: ${s.reason}`);
  const ref = r.reference;
  log('');
  log(
    `reference (CleanRL PyTorch PPO, same 2-core machine): median ${formatRate(ref.cleanrlSps)} env steps/s; 475 reached after median ` +
      `${formatRate(ref.cleanrlStepsTo475)} env steps ≈ ${ref.cleanrlSecondsTo475} s. Target ≥ ${formatRate(ref.targetSps)} steps/s (1.5×), stretch ${formatRate(ref.stretchSps)} (2×).`,
  );
  log(`load average (1/5/15 min): start ${r.load.start.join(' ')}, end ${r.load.end.join(' ')}; ${fixed(r.wallS, 0)} s`);
}

function printMonitor(r: MonitorBenchResult, log: (line: string) => void): void {
  const c = r.config;
  log('');
  log(`bench monitor: ${c.env} PPO, ${c.numEnvs} envs × ${c.numSteps} steps (batch ${c.batch}), seed ${c.seed}; ms per update (median)`);
  log('backend   variant           updates*   ms/update    mean   collect   measure     learn   method used');
  for (const row of r.rows) {
    log(
      `${row.backend.padEnd(9)} ${row.variant.padEnd(16)} ${`${row.warmupUpdates}+${row.updates}`.padStart(9)}   ${fixed(row.msPerUpdate).padStart(9)}   ${fixed(row.meanMsPerUpdate).padStart(5)}   ` +
        `${fixed(row.collectMs).padStart(7)}   ${fixed(row.measureMs).padStart(7)}   ${fixed(row.learnMs).padStart(7)}   ${row.methodUsed ?? '-'}`,
    );
  }
  log('variants take turns update by update, same seed');
  log('');
  log('* warm-up + timed; overheads compare mean ms per update (B_noise costs only every 10th update)');
  log(`backend   defaults (target ≤ ${r.targets.maxOverheadPct}%)   + B_noise/10 (target ≤ ${r.targets.maxBNoiseOverheadPct}%)   every update: block   per-sample   segment   fallback/fast measure (target ≥ ${r.targets.minFallbackRatio}x)`);
  for (const s of r.summary) {
    log(
      `${s.backend.padEnd(9)} ${`${fixed(s.overheadPct)}%`.padStart(24)}   ${`${fixed(s.bNoiseOverheadPct)}%`.padStart(28)}   ${`${fixed(s.blockOverheadPct)}%`.padStart(19)}   ${`${fixed(s.sampleOverheadPct)}%`.padStart(10)}   ${`${fixed(s.segmentOverheadPct)}%`.padStart(7)}   ` +
        `${(Number.isFinite(s.fallbackFastRatio) ? `${fixed(s.fallbackFastRatio, 0)}x` : 'not run').padStart(38)}`,
    );
  }
  for (const s of r.summary) {
    log(`${s.backend.padEnd(9)} monitor's own time / update off: defaults ${fixed(s.measuredOverheadPct)}%, B_noise/10 adds ${fixed(s.measuredBNoiseOverheadPct)}%`);
  }
  printUsed(r.backendsUsed, log);
  for (const s of r.skipped) log(`skipped ${s.backend}: ${s.reason}`);
  log(`load average (1/5/15 min): start ${r.load.start.join(' ')}, end ${r.load.end.join(' ')}; ${fixed(r.wallS, 0)} s`);
}

function printUsed(used: readonly BackendUsed[], log: (line: string) => void): void {
  for (const u of used) if (u.adapter) log(`adapter: ${u.label}${u.adapter.description ? `; ${u.adapter.description}` : ''}`);
}

function printOps(r: OpsBenchResult, log: (line: string) => void): void {
  log('');
  log('bench ops: one small op (64×64 add, in a chain), a read back, matMul GFLOP/s (per wall / per CPU second), critic forward tfjs vs plain TS');
  const sizes = r.rows[0]?.matMul.map((m) => m.n) ?? [];
  log(`backend   µs/op   cpu µs/op   read ms   ${sizes.map((n) => `matMul ${n}`.padStart(13)).join(' ')}   dense 512×64·64`);
  const rate = (wall: number, cpu: number) => `${fixed(wall, 2)}/${fixed(cpu, 2)}`;
  for (const row of r.rows) {
    log(
      `${row.backend.padEnd(9)} ${fixed(row.dispatchMs * 1000, 0).padStart(5)}   ${fixed(row.dispatchCpuMs * 1000, 0).padStart(9)}   ${fixed(row.readMs, 2).padStart(7)}   ` +
        `${row.matMul.map((m) => rate(m.gflops, m.cpuGflops).padStart(13)).join(' ')}   ${rate(row.denseGflops, row.denseCpuGflops).padStart(15)}`,
    );
  }
  if (r.nullDispatch) log(`Dawn null backend (host only, nothing executes): ${fixed(r.nullDispatch.dispatchMs * 1000, 0)} µs/op, ${fixed(r.nullDispatch.dispatchCpuMs * 1000, 0)} cpu µs/op, read ${fixed(r.nullDispatch.readMs, 2)} ms`);
  log('');
  log('critic forward (cartpole-ppo net), ms per call: tfjs (forward + read) / plain TS');
  for (const row of r.rows) log(`${row.backend.padEnd(9)} ${row.forward.map((f) => `${f.rows} rows: ${fixed(f.tfjsMs, 3)} / ${fixed(f.plainMs, 3)}`).join('   ')}`);
  if (r.profile) {
    const p = r.profile;
    log('');
    log(
      `one PPO update of the cartpole-ppo config (batch ${p.batch}): learn ${p.learnKernels} kernels, ${p.learnReads} reads, ${fixed(p.learnFlopsPerSample / 1e3, 0)}k matMul FLOPs/sample; ` +
        `monitor (fast, per sample) ${p.measureKernels} kernels, ${p.measureReads} reads, ${fixed(p.measureFlopsPerSample / 1e3, 0)}k FLOPs/sample`,
    );
  }
  for (const c of r.crossover) {
    const show = (b: number | null) => (b === null ? 'never' : `B ≥ ${formatRate(b)}`);
    log(`crossover vs ${c.reference}: monitor off ${show(c.batchOff)}, on ${show(c.batchOn)} (${c.basis})`);
  }
  printUsed(r.rows.filter((row) => row.adapter).map((row) => ({ backend: row.backend, label: `${row.backend} (${row.adapter!.software ? 'software' : 'GPU'}: ${row.adapter!.device}, ${row.adapter!.backendType})`, gpu: !row.adapter!.software, adapter: row.adapter })), log);
  for (const s of r.skipped) log(`skipped ${s.backend}: ${s.reason}`);
  log(`load average (1/5/15 min): start ${r.load.start.join(' ')}, end ${r.load.end.join(' ')}; ${fixed(r.wallS, 0)} s`);
}

function printSweep(r: SweepBenchResult, log: (line: string) => void): void {
  const c = r.config;
  log('');
  log(`bench sweep: ${c.runs} runs of ${c.env} ${c.algo.toUpperCase()}, ${c.totalSteps} env steps each (batch ${c.batch}), ${c.backend}, monitor ${c.monitor ? 'on' : 'off'}; ${r.cpus} CPUs`);
  log('variant                       runs   wall s (each repeat)        median   run s (median)');
  for (const row of r.rows) log(`${row.variant.padEnd(29)} ${String(row.runs).padStart(4)}   ${row.wallS.map((x) => fixed(x)).join(', ').padEnd(26)} ${fixed(row.medianS).padStart(7)}   ${fixed(row.runS, 2).padStart(8)}`);
  log(`2 workers vs 1: ${fixed(r.speedup.median, 2)}x (per repeat ${r.speedup.pairs.map((x) => fixed(x, 2)).join(', ')}; target ≥ 1.8x on 2 cores)`);
  log(`reused worker vs a process per run (wall time per run, 1 worker): ${fixed(r.reuse.median, 2)}x faster, ${fixed(r.reuse.savedPerRunS, 2)} s saved per run`);
  log(`rows identical across variants (wall-clock columns aside): ${r.identical ? 'yes' : 'NO'}`);
  log(`load average (1/5/15 min): start ${r.load.start.join(' ')}, end ${r.load.end.join(' ')}; ${fixed(r.wallS, 0)} s`);
}

/** --sweep-runs and --sweep-steps, checked: positive integers, the steps whole updates of the benchmark config's rollout. */
function sweepSize(runs: number, steps: number): { runs: number; totalSteps: number } {
  if (!(Number.isInteger(runs) && runs >= 1)) throw new InvalidValueError('--sweep-runs', runs, 'expected a positive integer');
  const { config } = benchConfig();
  const numSteps = ppoOf(config).numSteps;
  const rollout = config.env.numEnvs * numSteps;
  if (!(Number.isInteger(steps) && steps >= rollout && steps % rollout === 0)) {
    throw new InvalidValueError('--sweep-steps', steps, `expected a positive multiple of the rollout, ${rollout} env steps (${config.env.numEnvs} envs × ${numSteps} steps): runs train whole updates`);
  }
  return { runs, totalSteps: steps };
}

function parseBackends(text: string | undefined): ConcreteBackend[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const name of list) {
    if (!(ALL_BACKENDS as readonly string[]).includes(name)) throw new InvalidValueError('--backends', name, `expected a comma-separated list of ${ALL_BACKENDS.join(', ')}`);
  }
  return list as ConcreteBackend[];
}

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench <what>',
  describe: 'Throughput benchmarks (envs, train, monitor, ops, sweep, or all)',
  builder: (y: Argv) =>
    y
      .positional('what', { choices: ['envs', 'train', 'monitor', 'ops', 'sweep', 'all'] as const, demandOption: true })
      .option('json', { type: 'boolean', default: false, describe: 'end with one JSON line holding every figure' })
      .option('seconds', { type: 'number', default: 0.5, describe: 'envs: measuring time per env case' })
      .option('solve', { type: 'boolean', default: true, describe: 'train: also time a wasm run to mean return 475 (--no-solve skips it, ~1-2 min)' })
      .option('updates', { type: 'number', describe: 'train/monitor: measured updates per figure (default 16 train; monitor 20 wasm, 10 cpu)' })
      .option('warmup', { type: 'number', describe: 'train/monitor: untimed updates before each figure (default 30 train; monitor 20, 5 on cpu)' })
      .option('backends', {
        type: 'string',
        alias: 'backend',
        describe: 'train/monitor/ops: comma-separated backends (default: train tensorflow,webgpu,wasm,cpu; monitor wasm,cpu; ops webgpu,wasm,cpu)',
      })
      .option('conv', {
        type: 'boolean',
        default: true,
        describe:
          'train: also the conv case, breakout-ppo-conv.json at 16 envs × 128 steps, monitor off, vs a naive tfjs conv PPO, fast backends only (--no-conv skips it; --updates/--warmup do not apply to it)',
      })
      .option('conv-updates', { type: 'number', default: 3, describe: 'train: timed updates of the conv case (each several seconds on wasm)' })
      .option('conv-warmup', { type: 'number', default: 1, describe: 'train: untimed updates before the conv case is timed' })
      .option('sweep-runs', { type: 'number', default: 12, describe: 'sweep: runs in the sweep (seeds 1..N), a positive integer' })
      .option('sweep-steps', {
        type: 'number',
        default: 8192,
        describe: 'sweep: env steps per run, a positive multiple of the cartpole-ppo rollout (512 = 4 envs × 128 steps); longer runs show scaling past worker start-up',
      })
      .option('webgpu-software', { type: 'boolean', default: false, describe: 'webgpu may use a software adapter (llvmpipe), as run.webgpuSoftware / GRADNOISE_WEBGPU_SOFTWARE=1' })
      .check((a) => {
        if (a.updates !== undefined && !(Number.isInteger(a.updates) && a.updates >= 1)) throw new Error(`--updates must be a positive integer, got ${a.updates}`);
        if (a.warmup !== undefined && !(Number.isInteger(a.warmup) && a.warmup >= 0)) throw new Error(`--warmup must be a non-negative integer, got ${a.warmup}`);
        if (!(Number.isInteger(a['conv-updates']) && a['conv-updates'] >= 1)) throw new Error(`--conv-updates must be a positive integer, got ${a['conv-updates']}`);
        if (!(Number.isInteger(a['conv-warmup']) && a['conv-warmup'] >= 0)) throw new Error(`--conv-warmup must be a non-negative integer, got ${a['conv-warmup']}`);
        if (!(Number.isFinite(a.seconds) && a.seconds > 0)) throw new Error(`--seconds must be positive, got ${a.seconds}`);
        return true;
      })
      .example('$0 bench envs --json', '')
      .example('$0 bench train --no-solve', '')
      .example('$0 bench train --backend webgpu --webgpu-software --no-solve', '')
      .example('$0 bench all --json', '') as unknown as Argv<BenchArgs>,
  handler: async (args: ArgumentsCamelCase<BenchArgs>) => {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    // Progress lines go to stderr so that stdout holds the tables (and, with --json, ends with the JSON line).
    const progress = (line: string) => process.stderr.write(`gradnoise bench: ${line}\n`);
    const backends = parseBackends(args.backends);
    // Checked before any bench runs, so that `bench all` with a bad size fails at once.
    const sweep = args.what === 'sweep' || args.what === 'all' ? sweepSize(args.sweepRuns, args.sweepSteps) : null;
    const software = args.webgpuSoftware || webgpuSoftwareFromEnv();
    const overrides = software ? ['run.webgpuSoftware=true'] : [];
    const report: Record<string, unknown> = { machine: machineInfo(), date: new Date().toISOString(), loadStart: loadAverage() };
    if (args.what === 'envs' || args.what === 'all') report.envs = benchEnvs(args.seconds, log);
    if (args.what === 'train' || args.what === 'all') {
      const result = await runTrainBench({
        ...(backends ? { backends } : {}),
        overrides,
        ...(args.updates !== undefined ? { updates: args.updates } : {}),
        ...(args.warmup !== undefined ? { warmupUpdates: args.warmup } : {}),
        ...(args.solve ? {} : { solve: false as const }),
        conv: args.conv ? { updates: args.convUpdates, warmupUpdates: args.convWarmup } : false,
        log: progress,
      });
      printTrain(result, log);
      report.train = result;
    }
    if (args.what === 'monitor' || args.what === 'all') {
      const result = await runMonitorBench({
        ...(backends ? { backends } : {}),
        overrides,
        ...(args.updates !== undefined ? { updates: args.updates } : {}),
        ...(args.warmup !== undefined ? { warmupUpdates: args.warmup } : {}),
        log: progress,
      });
      printMonitor(result, log);
      report.monitor = result;
    }
    if (args.what === 'ops' || args.what === 'all') {
      const result = await runOpsBench({ ...(backends ? { backends } : {}), webgpuSoftware: software, log: progress });
      printOps(result, log);
      report.ops = result;
    }
    if (sweep) {
      const result = await runSweepBench({ ...sweep, log: progress });
      printSweep(result, log);
      report.sweep = result;
    }
    report.loadEnd = loadAverage();
    if (args.json) log(JSON.stringify(report, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value)));
  },
};
