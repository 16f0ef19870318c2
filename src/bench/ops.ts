/**
 * `gradnoise bench ops`: what one tfjs op costs on each backend, and where a GPU backend starts to pay off.
 *
 * Per backend: the cost of one small op (a chain of adds on a 64×64 tensor, one read at the end, less the read), the
 * latency of a read back to JavaScript, matMul throughput at a few sizes, and the cartpole-ppo critic's forward pass
 * in tfjs against the plain-TypeScript one (PlainForward) at the row counts the agents use: one env step of 4 envs,
 * one rollout (512) and the large-batch setting (16384). Plus, from the cpu backend, the kernels, sync reads and
 * matMul FLOPs of one PPO update (monitor off and on) of the cartpole-ppo config, and with Dawn present the per-op
 * host cost on Dawn's null backend (nothing executes: the floor under any GPU's per-op cost).
 *
 * Crossover. An update costs about K·c + F·B/R on a backend with per-op cost c and matMul rate R (K kernels and
 * F FLOPs per sample, both fixed by the config, B the batch), plus r sync reads of latency ℓ. A GPU backend g beats
 * the reference (wasm, else cpu) from B* = (K·(c_g − c_ref) + r·(ℓ_g − ℓ_ref)) / (F·(1/R_ref − 1/R_g)) on; never
 * when R_g ≤ R_ref. c and R are taken per CPU second (see costsOf). K is per update at the config's minibatch
 * settings; F·B counts every epoch's passes, so B* is the rollout batch (numEnvs × numSteps).
 */
import * as tf from '@tensorflow/tfjs';
import { createAgent } from '../../agents/index.js';
import { ActorCritic, PlainForward } from '../../agents/networks.js';
import { Rng } from '../core/rng.js';
import { makeEnv } from '../run/registry.js';
import { onNullWebGpu, type WebGpuAdapter } from '../run/webgpu.js';
import { median } from '../core/stats.js';
import { loadAverage } from '../run/machine.js';
import { benchConfig, describeConfig, ppoOf, useBackend, type ConcreteBackend } from './setup.js';

export interface OpsBenchOptions {
  /** Backends to measure (default webgpu, wasm, cpu; those that do not load are skipped). */
  backends?: readonly ConcreteBackend[];
  /** Let webgpu use a software adapter (as run.webgpuSoftware). */
  webgpuSoftware?: boolean;
  /** Square matMul sizes (default 64, 256, 512). */
  matMulSizes?: readonly number[];
  /** Critic forward row counts (default 4, 512, 16384). */
  forwardRows?: readonly number[];
  /** Adds per dispatch chain (default 200). */
  chain?: number;
  /** Repeats per figure; the median is reported (default 5). */
  repeats?: number;
  /** Skip the PPO update profile (it trains one update on cpu). */
  profile?: boolean;
  log?: (line: string) => void;
}

export interface MatMulFigure {
  n: number;
  ms: number;
  gflops: number;
  /** GFLOP per process CPU second (all threads): what the rate would be on an otherwise idle machine. */
  cpuGflops: number;
}

export interface ForwardFigure {
  rows: number;
  /** tfjs forward of the critic plus the read back (criticValues). */
  tfjsMs: number;
  /** PlainForward.value, float64 plain TypeScript. */
  plainMs: number;
}

export interface OpsRow {
  backend: ConcreteBackend;
  adapter: WebGpuAdapter | null;
  /** Wall ms per small op (64×64 add) in a chain, the read excluded. */
  dispatchMs: number;
  /** Process CPU ms (all threads) per op. */
  dispatchCpuMs: number;
  /** Wall ms of one small op and its read back. */
  readMs: number;
  matMul: MatMulFigure[];
  /** matMul GFLOP/s (wall and per CPU second) at the dense shape of the cartpole-ppo net: [512, 64] × [64, 64]. */
  denseGflops: number;
  denseCpuGflops: number;
  forward: ForwardFigure[];
}

export interface UpdateProfile {
  batch: number;
  /** Kernels run by one update (learn), and by one monitor measurement (fast path, per sample). */
  learnKernels: number;
  measureKernels: number;
  /** Synchronous reads back to JavaScript in each. */
  learnReads: number;
  measureReads: number;
  /** matMul FLOPs per sample in each. */
  learnFlopsPerSample: number;
  measureFlopsPerSample: number;
}

export interface Crossover {
  backend: ConcreteBackend;
  reference: ConcreteBackend;
  /** Per update, monitor off and on: the batch from which the GPU backend is faster, or null if never. */
  batchOff: number | null;
  batchOn: number | null;
  basis: string;
}

export interface OpsBenchResult {
  config: ReturnType<typeof describeConfig>;
  rows: OpsRow[];
  skipped: { backend: ConcreteBackend; reason: string }[];
  profile: UpdateProfile | null;
  /** tfjs-webgpu per-op host cost and read latency on Dawn's null backend (ms), or null without Dawn. */
  nullDispatch: { dispatchMs: number; dispatchCpuMs: number; readMs: number } | null;
  crossover: Crossover[];
  load: { start: number[]; end: number[] };
  wallS: number;
}

/** Median wall and CPU ms of `repeats` calls of `fn`, after three untimed ones (kernel compilation, JIT). */
function timed(fn: () => void, repeats: number): { wall: number; cpu: number } {
  for (let w = 0; w < 3; w++) fn();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    walls.push(performance.now() - t0);
    const used = process.cpuUsage(cpu0);
    cpus.push((used.user + used.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

function dispatchCost(chain: number, repeats: number) {
  const x = tf.randomNormal([64, 64]);
  const run = (k: number) => () =>
    tf.tidy(() => {
      let y = tf.add(x, 1);
      for (let i = 0; i < k; i++) y = tf.add(y, 1);
      y.dataSync();
    });
  const one = timed(run(0), repeats);
  const many = timed(run(chain), repeats);
  x.dispose();
  return { dispatchMs: Math.max(0, many.wall - one.wall) / chain, dispatchCpuMs: Math.max(0, many.cpu - one.cpu) / chain, readMs: one.wall };
}

/** Wall and CPU ms per matMul of [m, k] × [k, n], `reps` sized to ~0.3 s from a first timing. */
export function matMulMs(m: number, k: number, n: number): { ms: number; cpuMs: number } {
  const a = tf.randomNormal([m, k]);
  const b = tf.randomNormal([k, n]);
  const once = () => tf.tidy(() => tf.matMul(a, b).dataSync());
  once();
  const t0 = performance.now();
  once();
  const estimate = Math.max(1e-3, performance.now() - t0);
  const reps = Math.max(1, Math.min(50, Math.ceil(300 / estimate)));
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  tf.tidy(() => {
    let last: tf.Tensor | null = null;
    for (let r = 0; r < reps; r++) last = tf.matMul(a, b);
    last!.dataSync();
  });
  const ms = (performance.now() - t1) / reps;
  const used = process.cpuUsage(cpu0);
  tf.dispose([a, b]);
  return { ms, cpuMs: (used.user + used.system) / 1000 / reps };
}

/** The cartpole-ppo actor-critic (separate 64-64 tanh nets), made on the active backend. */
function benchNet(hidden: readonly number[]): ActorCritic {
  const env = makeEnv('CartPole-v1', { numEnvs: 1 });
  return new ActorCritic(env.obsSize, env.actionSpace, { torso: 'mlp', recurrentHidden: 64, hidden: [...hidden], activation: 'tanh', shared: false, policyGain: 0.01, valueGain: 1, logStdInit: 0 }, new Rng('bench-ops'), { value: true });
}

function forwardFigures(net: ActorCritic, rowsList: readonly number[], repeats: number): ForwardFigure[] {
  const plain = new PlainForward(net);
  const rng = new Rng('bench-ops-obs');
  return rowsList.map((rows) => {
    const obs = Float32Array.from({ length: rows * net.obsSize }, () => rng.normal());
    const out = new Float64Array(rows);
    const reps = rows <= 16 ? 50 : repeats;
    const tfjs = timed(() => {
      for (let r = 0; r < (rows <= 16 ? 20 : 1); r++) tf.tidy(() => net.forward(tf.tensor2d(obs, [rows, net.obsSize]), undefined, 'value').value!.dataSync());
    }, reps);
    const plainTime = timed(() => {
      for (let r = 0; r < (rows <= 16 ? 20 : 1); r++) plain.value(obs, rows, out);
    }, reps);
    const inner = rows <= 16 ? 20 : 1;
    return { rows, tfjsMs: tfjs.wall / inner, plainMs: plainTime.wall / inner };
  });
}

/** Kernels, sync reads and matMul FLOPs of one PPO update and one fast-path measurement, on the cpu backend. */
async function profileUpdate(overrides: readonly string[]): Promise<UpdateProfile> {
  const { config } = benchConfig(overrides);
  const { NoiseMonitor } = await import('../monitor/monitor.js');
  const env = makeEnv(config.env.id, { numEnvs: config.env.numEnvs, level: config.env.level, params: config.env.params, wrappers: config.env.wrappers });
  const root = new Rng(config.run.seed);
  env.reset(root.split('env').uint32());
  const agent = createAgent(config.agent, env, root.split('agent'));
  const monitor = new NoiseMonitor({ ...config.monitor, enabled: true, method: 'fast', grouping: 'sample', every: 1 }, { rng: root.split('monitor') });
  try {
    // The monitor's first measurement runs its one-off self-check; profile a later one.
    monitor.measure(agent.noiseProbe(agent.collect()), { update: 1, envSteps: agent.stepsPerUpdate });
    const batch = agent.collect();
    const n = agent.batchSize(batch);
    const measure = await countKernels(() => monitor.measure(agent.noiseProbe(batch), { update: 2, envSteps: 2 * agent.stepsPerUpdate }));
    const learn = await countKernels(() => agent.learn(batch, 0));
    return {
      batch: n,
      learnKernels: learn.kernels,
      measureKernels: measure.kernels,
      learnReads: learn.reads,
      measureReads: measure.reads,
      learnFlopsPerSample: learn.flops / n,
      measureFlopsPerSample: measure.flops / n,
    };
  } finally {
    agent.dispose();
  }
}

export async function countKernels(fn: () => void): Promise<{ kernels: number; reads: number; flops: number }> {
  const engine = tf.engine() as unknown as { readSync: (dataId: object) => unknown };
  const readSync = engine.readSync;
  let reads = 0;
  engine.readSync = function (this: unknown, dataId: object) {
    reads++;
    return readSync.call(this, dataId);
  };
  try {
    const info = await tf.profile(() => {
      fn();
      return [];
    });
    let flops = 0;
    for (const k of info.kernels) {
      if (k.name !== 'BatchMatMul' && k.name !== '_FusedMatMul') continue;
      const out = k.outputShapes[0]!;
      const a = k.inputShapes[0]!;
      const outSize = out.reduce((p, d) => p * d, 1);
      const inner = (a.reduce((p, d) => p * d, 1) * out[out.length - 1]!) / outSize;
      flops += 2 * outSize * inner;
    }
    return { kernels: info.kernels.length, reads, flops };
  } finally {
    engine.readSync = readSync;
  }
}

/** What the crossover needs from a backend: ms per op, ms per read, matMul GFLOP/s. */
export interface Costs {
  opMs: number;
  readMs: number;
  gflops: number;
}

/**
 * Per-op costs and rates per CPU second, not per wall second: on a shared machine the wall figures measure the share
 * of the machine a process got as much as the work, and the CPU figures are what an idle machine would show.
 */
function costsOf(row: OpsRow): Costs {
  return { opMs: row.dispatchCpuMs, readMs: row.readMs, gflops: Math.max(row.denseCpuGflops, ...row.matMul.map((m) => m.cpuGflops)) };
}

/**
 * B* = (K·(c_g − c_ref) + r·(ℓ_g − ℓ_ref)) / (F·(1/R_ref − 1/R_g)), rounded up: the batch from which `gpu` runs an
 * update of K kernels, r reads and F FLOPs per sample faster than `reference`; null when it never does.
 */
export function crossoverBatch(gpu: Costs, reference: Costs, kernels: number, reads: number, flopsPerSample: number): number | null {
  const fixed = kernels * (gpu.opMs - reference.opMs) + reads * (gpu.readMs - reference.readMs);
  const perSample = flopsPerSample * (1 / (reference.gflops * 1e6) - 1 / (gpu.gflops * 1e6));
  if (perSample <= 0) return null;
  return Math.max(0, Math.ceil(fixed / perSample));
}

function crossoverFor(backend: ConcreteBackend, gpu: Costs, referenceRow: OpsRow, profile: UpdateProfile, basis: string): Crossover {
  const reference = { ...costsOf(referenceRow), gflops: referenceRow.denseCpuGflops };
  const solve = (kernels: number, reads: number, flopsPerSample: number) => crossoverBatch(gpu, reference, kernels, reads, flopsPerSample);
  return {
    backend,
    reference: referenceRow.backend,
    batchOff: solve(profile.learnKernels, profile.learnReads, profile.learnFlopsPerSample),
    batchOn: solve(profile.learnKernels + profile.measureKernels, profile.learnReads + profile.measureReads, profile.learnFlopsPerSample + profile.measureFlopsPerSample),
    basis,
  };
}

export async function runOpsBench(options: OpsBenchOptions = {}): Promise<OpsBenchResult> {
  const log = options.log ?? (() => {});
  const start = performance.now();
  const loadStart = loadAverage();
  const bench = benchConfig(options.webgpuSoftware ? ['run.webgpuSoftware=true'] : []);
  const hidden = ppoOf(bench.config).network.hidden;
  const repeats = options.repeats ?? 5;
  const chain = options.chain ?? 200;
  const rows: OpsRow[] = [];
  const skipped: OpsBenchResult['skipped'] = [];

  // First, while no webgpu backend holds the name.
  const nullDispatch = await onNullWebGpu(() => dispatchCost(chain, repeats));
  if (nullDispatch) log(`Dawn null backend: ${(nullDispatch.dispatchMs * 1000).toFixed(0)} µs per op (host only)`);

  for (const backend of options.backends ?? (['webgpu', 'wasm', 'cpu'] as const)) {
    const ok = await useBackend(backend, options.webgpuSoftware === true);
    if (!ok.ok) {
      skipped.push({ backend, reason: ok.reason });
      log(`${backend}: skipped (${ok.reason})`);
      continue;
    }
    const d = dispatchCost(chain, repeats);
    const matMul = (options.matMulSizes ?? [64, 256, 512]).map((n) => {
      const t = matMulMs(n, n, n);
      return { n, ms: t.ms, gflops: (2 * n ** 3) / (t.ms * 1e6), cpuGflops: (2 * n ** 3) / (t.cpuMs * 1e6) };
    });
    const width = hidden[0] ?? 64;
    const dense = matMulMs(512, width, width);
    const net = benchNet(hidden);
    const forward = forwardFigures(net, options.forwardRows ?? [4, 512, 16384], repeats);
    net.dispose();
    const denseFlops = 2 * 512 * width * width;
    const row: OpsRow = { backend, adapter: ok.adapter ?? null, ...d, matMul, denseGflops: denseFlops / (dense.ms * 1e6), denseCpuGflops: denseFlops / (dense.cpuMs * 1e6), forward };
    rows.push(row);
    log(`${backend}: ${(row.dispatchMs * 1000).toFixed(0)} µs per op, read ${row.readMs.toFixed(2)} ms, matMul ${matMul.map((m) => `${m.n}: ${m.gflops.toFixed(2)}`).join(', ')} GFLOP/s`);
  }

  let profile: UpdateProfile | null = null;
  const crossover: Crossover[] = [];
  if (options.profile !== false && (await useBackend('cpu', false)).ok) {
    profile = await profileUpdate([]);
    const reference = rows.find((r) => r.backend === 'wasm') ?? rows.find((r) => r.backend === 'cpu');
    if (reference) {
      for (const gpu of rows.filter((r) => r.backend === 'webgpu' || r.backend === 'tensorflow')) {
        crossover.push(crossoverFor(gpu.backend, costsOf(gpu), reference, profile, `measured: ${gpu.adapter ? gpu.adapter.device || gpu.adapter.description : gpu.backend}`));
      }
      if (nullDispatch) {
        // A real GPU: per-op cost and read latency no lower than the host's (null backend), matMul rate far above the
        // reference's (taken as unbounded): the estimate is then a lower bound.
        const host = { opMs: nullDispatch.dispatchCpuMs, readMs: nullDispatch.readMs, gflops: Infinity };
        crossover.push(crossoverFor('webgpu', host, reference, profile, 'any GPU: per-op cost and read latency of Dawn\'s null backend (host only), unbounded matMul rate; a lower bound'));
      }
    }
  }

  return {
    config: describeConfig(bench),
    rows,
    skipped,
    profile,
    nullDispatch,
    crossover,
    load: { start: loadStart, end: loadAverage() },
    wallS: (performance.now() - start) / 1000,
  };
}
