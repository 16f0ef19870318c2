/**
 * The webgpu backend (tfjs-webgpu on Dawn) against the cpu backend: an update of every agent, the monitor's
 * per-sample gradient norms (fast path and fallback) and a short training run give the cpu backend's numbers.
 * Runs on a software GPU (Mesa llvmpipe through Dawn's OpenGL ES backend) where no GPU is present; skips, saying
 * what to install, where no WebGPU adapter loads. Adapter choice and input checks are tested everywhere.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { createAgent, type Agent } from '../../agents/index.js';
import { parseConfig } from '../../src/config/load.js';
import { agentSection, monitorSection } from '../../src/config/schema.js';
import { InvalidValueError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { fallbackGradStats, fastGradStats, singleSampleGroups } from '../../src/monitor/per-sample.js';
import { NoiseMonitor } from '../../src/monitor/monitor.js';
import { selectBackend, webgpuSoftwareFromEnv, WEBGPU_SOFTWARE_ENV } from '../../src/run/backend.js';
import { makeEnv } from '../../src/run/registry.js';
import { train } from '../../src/run/trainer.js';
import { isSoftwareAdapter } from '../../src/run/webgpu.js';
import { readMetrics } from '../helpers/learning.js';
import { maxElementwiseRelativeError, maxRelativeError, webgpuAvailability } from '../helpers/webgpu.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');

await tf.setBackend('cpu');
const availability = await webgpuAvailability();
const skip = availability.ok ? false : availability.skip;
if (!availability.ok) process.stderr.write(`test/run/webgpu.test.ts: webgpu tests skipped: ${availability.skip}\n`);

after(async () => {
  await tf.setBackend('cpu');
});

async function use(backend: 'cpu' | 'webgpu'): Promise<void> {
  if (backend === 'cpu') await tf.setBackend('cpu');
  else await selectBackend('webgpu', { webgpuSoftware: true });
}

interface UpdateResult {
  fastNorms: Float64Array;
  fallbackNorms: Float64Array;
  verifyError: number;
  stats: Record<string, number>;
  weights: Float32Array[];
}

/** On `backend`: one rollout, the total loss's per-sample gradient norms by both methods, then one update. */
async function oneUpdate(backend: 'cpu' | 'webgpu', envId: string, agentConfig: unknown): Promise<UpdateResult> {
  await use(backend);
  const env = makeEnv(envId, { numEnvs: 2 });
  env.reset(7);
  const agent = createAgent(agentSection.parse(agentConfig), env, new Rng(11)) as Agent & { net: { variables: readonly tf.Variable[] } };
  try {
    const batch = agent.collect();
    const probe = agent.noiseProbe(batch);
    const groups = singleSampleGroups(probe.n);
    const fast = fastGradStats(probe.components.total!, groups, { verify: true });
    const fallback = fallbackGradStats(probe.components.total!, groups);
    const norms = (sumSq: ArrayLike<number>) => Float64Array.from(sumSq, (x) => Math.sqrt(x));
    const stats = agent.learn(batch, 0) as unknown as Record<string, number>;
    return {
      fastNorms: norms(fast.total.sumSq),
      fallbackNorms: norms(fallback.total.sumSq),
      verifyError: fast.verifyError ?? NaN,
      stats,
      weights: agent.net.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array)),
    };
  } finally {
    agent.dispose();
  }
}

describe('webgpu adapter choice', () => {
  it('names CPU rasterisers and fallback adapters as software, GPUs not', () => {
    assert.equal(isSoftwareAdapter({ device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', device: 'SwiftShader Device (Subzero)' }), true);
    assert.equal(isSoftwareAdapter({ device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'Mesa lavapipe' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', device: 'NVIDIA A100-SXM4-40GB', isFallbackAdapter: false }), false);
    assert.equal(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3', device: 'Apple M2' }), false);
    assert.equal(isSoftwareAdapter({ vendor: 'amd', device: 'Radeon', isFallbackAdapter: true }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'x', device: 'y', adapterType: 'cpu' }), true);
  });

  it('GRADNOISE_WEBGPU_SOFTWARE accepts 1/0/true/false/unset and rejects anything else naming the variable', () => {
    const saved = process.env[WEBGPU_SOFTWARE_ENV];
    try {
      for (const [value, want] of [['1', true], ['true', true], ['0', false], ['false', false], ['', false]] as const) {
        process.env[WEBGPU_SOFTWARE_ENV] = value;
        assert.equal(webgpuSoftwareFromEnv(), want, value);
      }
      delete process.env[WEBGPU_SOFTWARE_ENV];
      assert.equal(webgpuSoftwareFromEnv(), false);
      process.env[WEBGPU_SOFTWARE_ENV] = 'yes please';
      assert.throws(() => webgpuSoftwareFromEnv(), (e: unknown) => e instanceof InvalidValueError && e.path === WEBGPU_SOFTWARE_ENV && /yes please/.test(e.message));
    } finally {
      if (saved === undefined) delete process.env[WEBGPU_SOFTWARE_ENV];
      else process.env[WEBGPU_SOFTWARE_ENV] = saved;
    }
  });

  it('auto never runs on a software adapter', async () => {
    const saved = process.env[WEBGPU_SOFTWARE_ENV];
    process.env[WEBGPU_SOFTWARE_ENV] = '1';
    try {
      const info = await selectBackend('auto');
      assert.ok(info.name !== 'webgpu' || info.adapter?.software === false, JSON.stringify(info));
      assert.equal(info.requested, 'auto');
    } finally {
      if (saved === undefined) delete process.env[WEBGPU_SOFTWARE_ENV];
      else process.env[WEBGPU_SOFTWARE_ENV] = saved;
      await tf.setBackend('cpu');
    }
  });

  it('webgpu without a GPU adapter fails naming run.backend, unless a software adapter is allowed', { skip }, async () => {
    const info = availability.ok ? availability.info : null;
    assert.ok(info?.adapter, 'the adapter is recorded');
    assert.ok(['vulkan', 'metal', 'd3d12', 'opengles'].includes(info.adapter.backendType), info.adapter.backendType);
    assert.equal(info.gpu, !info.adapter.software);
    if (!info.adapter.software) return;
    await assert.rejects(selectBackend('webgpu', { webgpuSoftware: false }), (e: unknown) => {
      assert.ok(e instanceof InvalidValueError, String(e));
      assert.equal(e.path, 'run.backend');
      assert.match(e.message, /software adapter/);
      assert.match(e.message, /run\.webgpuSoftware/);
      return true;
    });
    await tf.setBackend('cpu');
  });
});

describe('webgpu backend agrees with cpu', { skip }, () => {
  for (const [label, envId, agent] of [
    ['PPO, CartPole', 'CartPole-v1', { algo: 'ppo', numSteps: 16, updateEpochs: 2, numMinibatches: 2, network: { hidden: [8, 8] } }],
    ['A2C, Pendulum (Gaussian)', 'Pendulum-v1', { algo: 'a2c', numSteps: 8, network: { hidden: [8] } }],
    ['REINFORCE with a value baseline, CartPole', 'CartPole-v1', { algo: 'reinforce', numSteps: 24, baseline: 'value', network: { hidden: [8] } }],
  ] as const) {
    it(`${label}: per-sample gradient norms (fast path and fallback) to 1e-4 and one update`, async () => {
      const cpu = await oneUpdate('cpu', envId, agent);
      const gpu = await oneUpdate('webgpu', envId, agent);
      assert.equal(gpu.fastNorms.length, cpu.fastNorms.length);
      assert.ok(cpu.fastNorms.length > 1);
      const fastErr = maxElementwiseRelativeError(gpu.fastNorms, cpu.fastNorms);
      const fallbackErr = maxElementwiseRelativeError(gpu.fallbackNorms, cpu.fallbackNorms);
      assert.ok(fastErr <= 1e-4, `fast path per-sample norms: webgpu vs cpu ${fastErr}`);
      assert.ok(fallbackErr <= 1e-4, `fallback per-sample norms: webgpu vs cpu ${fallbackErr}`);
      assert.ok(maxElementwiseRelativeError(gpu.fastNorms, gpu.fallbackNorms) <= 1e-4, 'fast path equals the fallback on webgpu');
      assert.ok(gpu.verifyError <= 1e-4, `fast path self-check on webgpu: ${gpu.verifyError}`);
      gpu.weights.forEach((w, k) => {
        const err = maxRelativeError(w, cpu.weights[k]!);
        assert.ok(err <= 1e-4, `variable ${k} after the update: ${err}`);
      });
      for (const key of ['policyLoss', 'valueLoss', 'entropy', 'gradNorm']) {
        const a = gpu.stats[key]!;
        const b = cpu.stats[key]!;
        assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${key}: ${a} vs ${b}`);
      }
    });
  }

  it('keeps the tensor count flat over updates with the monitor', async () => {
    await use('webgpu');
    const before = tf.memory().numTensors;
    const env = makeEnv('CartPole-v1', { numEnvs: 2 });
    env.reset(1);
    const agent = createAgent(agentSection.parse({ algo: 'ppo', numSteps: 8, updateEpochs: 1, numMinibatches: 2, network: { hidden: [8] } }), env, new Rng(1));
    const monitor = new NoiseMonitor(monitorSection.parse({ method: 'fast' }), { rng: new Rng(2) });
    const counts: number[] = [];
    for (let u = 1; u <= 4; u++) {
      const batch = agent.collect();
      monitor.measure(agent.noiseProbe(batch), { update: u, envSteps: 16 * u });
      agent.learn(batch, u / 4);
      counts.push(tf.memory().numTensors);
    }
    agent.dispose();
    assert.ok(counts.every((c) => c === counts[0]), `tensor counts drift: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, before);
  });

  it('train: a short PPO run completes with the cpu run\'s numbers and records the adapter', async () => {
    const tiny = (backend: 'cpu' | 'webgpu') =>
      parseConfig({
        env: { id: 'CartPole-v1', numEnvs: 2 },
        agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 2, network: { hidden: [8, 8] } },
        monitor: { enabled: true, method: 'fast' },
        run: { totalSteps: 128, seed: 5, backend, webgpuSoftware: true },
      });
    const dirs: Record<string, string> = {};
    for (const backend of ['cpu', 'webgpu'] as const) {
      dirs[backend] = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `gradnoise-webgpu-${backend}-`)), 'run');
      const summary = await train(tiny(backend), { runDir: dirs[backend]! });
      assert.equal(summary.status, 'completed', `${backend}: ${summary.error ?? ''}`);
      assert.equal(summary.backend, backend);
    }
    const meta = (JSON.parse(fs.readFileSync(path.join(dirs.webgpu!, 'config.json'), 'utf8')) as { meta: Record<string, any> }).meta;
    assert.equal(meta.backend, 'webgpu');
    assert.equal(meta.gpu, !meta.adapter.software);
    for (const key of ['vendor', 'architecture', 'device', 'description', 'backendType', 'software']) assert.ok(key in meta.adapter, `meta.adapter.${key}`);
    const [cpuRows, gpuRows] = [readMetrics(dirs.cpu!), readMetrics(dirs.webgpu!)];
    assert.equal(gpuRows.length, 4);
    assert.equal(gpuRows.length, cpuRows.length);
    gpuRows.forEach((row, i) => {
      const other = cpuRows[i]!;
      for (const key of ['env_steps', 'episodes']) assert.equal(row[key], other[key], `update ${i + 1} ${key}`);
      for (const key of ['return_mean', 'policy_loss', 'value_loss', 'entropy']) {
        const a = row[key]!;
        const b = other[key]!;
        assert.ok((a === null && b === null) || Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b)), `update ${i + 1} ${key}: ${a} vs ${b}`);
      }
    });
    const noise = (dir: string) => fs.readFileSync(path.join(dir, 'noise.csv'), 'utf8').trim().split('\n');
    assert.equal(noise(dirs.webgpu!).length, noise(dirs.cpu!).length);
  });

  it('CLI: train --backend webgpu on a software adapter needs run.webgpuSoftware (exit 2, nothing written), then runs', async () => {
    const info = availability.ok ? availability.info : null;
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-webgpu-cli-')), 'run');
    const env = { ...process.env };
    delete env[WEBGPU_SOFTWARE_ENV];
    const args = [bin, 'train', 'configs/cartpole-ppo.json', '--backend', 'webgpu', '--quiet', '--out', out, '--set', 'run.totalSteps=32', '--set', 'env.numEnvs=2', '--set', 'agent.numSteps=16', '--set', 'agent.network.hidden=[8]'];
    if (info?.adapter?.software) {
      const refused = spawnSync(process.execPath, args, { cwd: repo, env, encoding: 'utf8', timeout: 120_000 });
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, /run\.backend/);
      assert.match(refused.stderr, /apt-get install/);
      assert.equal(fs.existsSync(out), false, 'nothing written');
    }
    const ran = spawnSync(process.execPath, [...args, '--set', 'run.webgpuSoftware=true'], { cwd: repo, env, encoding: 'utf8', timeout: 300_000 });
    assert.equal(ran.status, 0, ran.stderr);
    const meta = (JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { meta: Record<string, any> }).meta;
    assert.equal(meta.backend, 'webgpu');
    assert.equal(typeof meta.adapter.device, 'string');
  });
});

// Last: the device error it provokes is sticky for the process, as it should be.
describe('webgpu device errors', { skip }, () => {
  it('a sum over 12 tensors works (the adapter\'s limits are requested), and what WebGPU refuses fails loudly', async () => {
    await use('webgpu');
    const twelve = Array.from({ length: 12 }, (_, i) => tf.fill([3], i + 1));
    assert.deepEqual(Array.from(tf.addN(twelve).dataSync()), [78, 78, 78]);
    // One storage buffer per input and one for the output: more than any adapter's per-stage limit here.
    const many = Array.from({ length: 40 }, (_, i) => tf.fill([3], i + 1));
    assert.throws(() => tf.addN(many).dataSync(), /webgpu: the GPU device reported an error/);
    tf.dispose([...twelve, ...many]);
    await tf.setBackend('cpu');
  });
});
