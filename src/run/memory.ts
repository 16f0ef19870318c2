/**
 * How much memory a run needs, estimated from its config and its env's sizes before anything is allocated, so that
 * `env.numEnvs = 1e9` or `agent.network.hidden = [1e6, 1e6]` is refused with a reason (exit 2) instead of dying in a
 * RangeError halfway through. The estimate counts the big buffers only (env and acting buffers, the rollout, network
 * parameters with their gradients and optimizer state, activations of one backward pass) with the element sizes the
 * agents use, so it is a lower bound: what it refuses cannot fit.
 */
import { constants as bufferConstants } from 'node:buffer';
import os from 'node:os';
import type { RunConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { getPath } from '../core/json-path.js';
import type { VectorEnv } from '../core/vector-env.js';

/** The env sizes the estimate needs (read off a one-copy instance of the env). */
export interface EnvDims {
  obsSize: number;
  actionSize: number;
  /** Policy-head outputs: the number of actions (Discrete) or the action size (Box). */
  policyOutputs: number;
  /** The observation space's shape (the conv torso's [H, W, C]); absent: flat. */
  obsShape?: readonly number[];
}

export interface MemoryPart {
  name: string;
  bytes: number;
  /** The config path that scales this part the most: the one an error names. */
  path: string;
}

export interface MemoryEstimate {
  total: number;
  parts: MemoryPart[];
  /** The largest single typed array or tensor, in elements. */
  largestBuffer: { name: string; elements: number; path: string };
}

export function envDims(env: VectorEnv): EnvDims {
  const space = env.actionSpace;
  return { obsSize: env.obsSize, actionSize: env.actionSize, policyOutputs: space.type === 'Discrete' ? space.n : space.size, obsShape: env.observationSpace.shape };
}

/** Bytes of optimizer state per parameter (float32 moments). */
const OPTIMIZER_STATE: Record<RunConfig['agent']['optimizer']['type'], number> = { sgd: 0, momentum: 4, rmsprop: 4, adam: 8 };

/** Weight and bias counts of a dense chain `sizes[0] → sizes[1] → ...`, and its largest weight matrix. */
function denseChain(sizes: readonly number[]): { params: number; largest: number } {
  let params = 0;
  let largest = 0;
  for (let l = 1; l < sizes.length; l++) {
    params += sizes[l - 1]! * sizes[l]! + sizes[l]!;
    largest = Math.max(largest, sizes[l - 1]! * sizes[l]!);
  }
  return { params, largest };
}

/** The estimate; pure arithmetic on the config and the env's sizes. */
export function estimateRunBytes(config: RunConfig, dims: EnvDims): MemoryEstimate {
  const { env, agent, monitor } = config;
  const { obsSize, actionSize, policyOutputs } = dims;
  const hidden = agent.network.hidden;
  // The conv torso (agents/conv.ts: 3×3, 16 channels, valid): per sample and tower its im2col patches (float32, no
  // gradient) and its output with that output's gradient; the dense stack then starts from its flattened output.
  const shape = dims.obsShape;
  const conv = agent.network.torso === 'conv' && shape?.length === 3 ? { positions: (shape[0]! - 2) * (shape[1]! - 2), patch: 9 * shape[2]! } : null;
  const torsoSize = conv ? 16 * conv.positions : obsSize;
  const convBytesPerSample = conv ? conv.positions * (4 * conv.patch + 8 * 16) : 0;
  const convParams = conv ? (conv.patch + 1) * 16 : 0;
  const widest = Math.max(obsSize, torsoSize, policyOutputs, ...hidden);
  const hiddenUnits = hidden.reduce((a, b) => a + b, 0);
  const hasValue = agent.algo !== 'reinforce' || agent.baseline === 'value';
  const towers = agent.network.shared || !hasValue ? 1 : 2;
  const samples = env.numEnvs * agent.numSteps;
  const rolloutPath = agent.numSteps >= env.numEnvs ? 'agent.numSteps' : 'env.numEnvs';

  // Per env copy: obs and finalObs (float32) in the env and in each wrapper, rewards/returns (float64), flags and
  // lengths; the acting forward pass keeps its input and two layer buffers in float64.
  const envBytes = env.numEnvs * ((8 * obsSize + 22) * (1 + env.wrappers.length) + 8 * obsSize + 16 * widest + 8 * actionSize);
  // Per rollout sample: obs and actions (float32) in the rollout, its row copy and the batch tensors, ~60 bytes of
  // per-sample scalars (log-probs, values, rewards, flags, segment and episode ids, advantages, returns).
  const rolloutBytes = samples * (12 * obsSize + 8 * actionSize + 60);
  // Parameters: tfjs variables (float32), the plain float64 copy for acting, the gradient, optimizer state.
  const policy = denseChain([torsoSize, ...hidden, policyOutputs]);
  const value = hasValue ? denseChain(agent.network.shared ? [hidden[hidden.length - 1] ?? torsoSize, 1] : [torsoSize, ...hidden, 1]) : { params: 0, largest: 0 };
  const paramBytes = (policy.params + value.params + convParams * towers) * (4 + 8 + 4 + OPTIMIZER_STATE[agent.optimizer.type]);
  // One backward pass keeps the activations and their gradients (float32) of every hidden unit for every sample it
  // sees: a PPO minibatch, or the whole rollout for A2C, REINFORCE and the noise monitor.
  const minibatch = agent.algo === 'ppo' ? Math.ceil(samples / agent.numMinibatches) : samples;
  const backwardSamples = monitor.enabled ? samples : minibatch;
  const activationBytes = backwardSamples * (hiddenUnits * 8 + convBytesPerSample) * towers;

  const parts: MemoryPart[] = [
    { name: 'env and acting buffers', bytes: envBytes, path: 'env.numEnvs' },
    { name: 'rollout buffers', bytes: rolloutBytes, path: rolloutPath },
    { name: 'network parameters and optimizer state', bytes: paramBytes, path: 'agent.network.hidden' },
    // Samples × units: name whichever factor is the larger.
    { name: 'activations', bytes: activationBytes, path: hiddenUnits * towers >= backwardSamples ? 'agent.network.hidden' : rolloutPath },
  ];
  const buffers = [
    { name: 'the rollout observations', elements: samples * obsSize, path: rolloutPath },
    { name: 'a weight matrix (float64 copy)', elements: Math.max(policy.largest, value.largest), path: 'agent.network.hidden' },
    { name: 'one layer of activations', elements: backwardSamples * widest, path: rolloutPath },
  ];
  const largestBuffer = buffers.reduce((a, b) => (b.elements > a.elements ? b : a));
  return { total: parts.reduce((sum, part) => sum + part.bytes, 0), parts, largestBuffer };
}

/** Memory this process may use: physical memory, or the cgroup limit where that is smaller. */
export function memoryLimit(): number {
  const total = os.totalmem();
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  return constrained && constrained > 0 && constrained < total ? constrained : total;
}

/** Elements one typed array may hold in this Node (Buffer is a Uint8Array: its limit is the typed-array limit). */
export const MAX_BUFFER_ELEMENTS = bufferConstants.MAX_LENGTH;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toPrecision(3)} ${units[unit]}`;
}

/**
 * Refuse a config whose estimate exceeds `limit` bytes (naming the estimate, its main parts and the limit, at the
 * config path that drives the largest part), or whose largest buffer exceeds what one typed array holds.
 */
export function checkRunFits(config: RunConfig, dims: EnvDims, limit = memoryLimit()): MemoryEstimate {
  const estimate = estimateRunBytes(config, dims);
  if (estimate.total > limit) {
    const parts = [...estimate.parts].sort((a, b) => b.bytes - a.bytes);
    const breakdown = parts.filter((p) => p.bytes >= estimate.total / 100).map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(', ');
    throw new ConfigError(
      parts[0]!.path,
      getPath(config, parts[0]!.path),
      `this run needs at least ${formatBytes(estimate.total)} (${breakdown}), more than the ${formatBytes(limit)} of memory here`,
    );
  }
  const { largestBuffer } = estimate;
  if (largestBuffer.elements > MAX_BUFFER_ELEMENTS) {
    throw new ConfigError(
      largestBuffer.path,
      getPath(config, largestBuffer.path),
      `${largestBuffer.name} would need one buffer of ${largestBuffer.elements.toPrecision(3)} values; JavaScript holds at most ${MAX_BUFFER_ELEMENTS.toPrecision(3)} in one`,
    );
  }
  return estimate;
}
