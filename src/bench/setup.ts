/** What `bench train` and `bench monitor` share: the benchmark config, backend availability, machine load. */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../core/package-root.js';
import { describeBackend, selectBackend, type ConcreteBackendName } from '../run/backend.js';
import type { WebGpuAdapter } from '../run/webgpu.js';
import { type PpoConfig, type RunConfig } from '../config/schema.js';
import { applyOverrides, loadConfig } from '../config/load.js';
import { GradnoiseError } from '../core/errors.js';

export type ConcreteBackend = ConcreteBackendName;

/** Every backend the benches try, in `auto`'s order; those that do not load are reported as skipped. */
export const ALL_BACKENDS: readonly ConcreteBackend[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/**
 * CleanRL's ppo.py settings for CartPole-v1 (4 envs × 128 steps, 4 epochs × 4 minibatches, lr 2.5e-4 annealed over
 * 500k steps, 64-64 tanh separate actor and critic, Adam ε 1e-5, clip 0.2, ent 0.01, vf 0.5, grad clip 0.5). These
 * are the schema's PPO defaults; only the env, its copies and the run length are set here.
 */
export const CARTPOLE_PPO_RAW = {
  env: { id: 'CartPole-v1', numEnvs: 4 },
  agent: { algo: 'ppo' },
  run: { totalSteps: 500000, seed: 1 },
} as const;

export interface BenchConfig {
  config: RunConfig;
  /** Path of configs/cartpole-ppo.json when it was read, else 'schema defaults'. */
  source: string;
}

/** configs/cartpole-ppo.json in the package, when present. */
function cartpoleConfigFile(): string | null {
  const file = path.join(packageRoot(), 'configs', 'cartpole-ppo.json');
  return fs.existsSync(file) ? file : null;
}

/**
 * The cartpole PPO benchmark config: configs/cartpole-ppo.json when present, else built from the schema defaults,
 * with `overrides` (`path=value`, as `--set`) applied on top. The config must be PPO.
 */
export function benchConfig(overrides: readonly string[] = []): BenchConfig {
  const file = cartpoleConfigFile();
  const config = file ? loadConfig(file, { set: overrides }) : applyOverrides(structuredClone(CARTPOLE_PPO_RAW) as unknown as Record<string, unknown>, { set: overrides });
  if (config.agent.algo !== 'ppo') throw new GradnoiseError('runtime', `bench: the benchmark config must be PPO, got '${config.agent.algo}'`);
  return { config, source: file ?? 'schema defaults' };
}

/** configs/minatar/breakout-ppo-conv.json (the conv torso on Breakout-MinAtar-v0), with `overrides` applied; `bench train`'s conv case. */
export function convBenchConfig(overrides: readonly string[] = []): BenchConfig {
  const file = path.join(packageRoot(), 'configs', 'minatar', 'breakout-ppo-conv.json');
  const config = loadConfig(file, { set: overrides });
  if (config.agent.algo !== 'ppo' || config.agent.network.torso !== 'conv') throw new GradnoiseError('runtime', `bench: ${file} must be PPO with the conv torso`);
  return { config, source: file };
}

/** `config` with further `path=value` overrides (re-validated). */
export function withOverrides(config: RunConfig, overrides: readonly string[]): RunConfig {
  const { meta: _meta, ...raw } = structuredClone(config) as RunConfig;
  return applyOverrides(raw as unknown as Record<string, unknown>, { set: overrides });
}

export function ppoOf(config: RunConfig): PpoConfig {
  if (config.agent.algo !== 'ppo') throw new GradnoiseError('runtime', 'bench: expected a PPO config');
  return config.agent;
}

/** The settings a bench figure depends on, for the report. */
export function describeConfig(bench: BenchConfig) {
  const { config } = bench;
  const agent = ppoOf(config);
  return {
    source: bench.source,
    env: config.env.id,
    numEnvs: config.env.numEnvs,
    numSteps: agent.numSteps,
    batch: config.env.numEnvs * agent.numSteps,
    updateEpochs: agent.updateEpochs,
    numMinibatches: agent.numMinibatches,
    lr: agent.lr,
    annealLr: agent.annealLr,
    hidden: [...agent.network.hidden],
    activation: agent.network.activation,
    sharedNetwork: agent.network.shared,
    optimizer: agent.optimizer.type,
    seed: config.run.seed,
  };
}

export type BackendUse = { ok: true; gpu: boolean; adapter?: WebGpuAdapter; label: string } | { ok: false; reason: string };

/** Switch tfjs to `name` (webgpu: a software adapter only with `webgpuSoftware`); the reason it failed otherwise. */
export async function useBackend(name: ConcreteBackend, webgpuSoftware: boolean): Promise<BackendUse> {
  try {
    const info = await selectBackend(name, { webgpuSoftware });
    return { ok: true, gpu: info.gpu, label: describeBackend(info), ...(info.adapter ? { adapter: info.adapter } : {}) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/** A backend that loaded, for the bench report. */
export interface BackendUsed {
  backend: ConcreteBackend;
  /** As the trainer prints it: `webgpu (software: llvmpipe..., opengles)`. */
  label: string;
  gpu: boolean;
  adapter: WebGpuAdapter | null;
}

export function usedFrom(backend: ConcreteBackend, use: Extract<BackendUse, { ok: true }>): BackendUsed {
  return { backend, label: use.label, gpu: use.gpu, adapter: use.adapter ?? null };
}

/** Process CPU seconds (user + system) since `since` (a process.cpuUsage() reading). */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

