/**
 * Backend selection. `auto` prefers tfjs-node-gpu (the `tensorflow` backend, on the GPU when CUDA is found), then a
 * real GPU through WebGPU (`webgpu`, Dawn; see webgpu.ts), then wasm, then plain JavaScript `cpu`. `auto` never takes
 * a software WebGPU adapter and looks for a GPU quickly (no Dawn probe where the machine shows no GPU device). The
 * choice, whether a GPU was seen and the WebGPU adapter are recorded with every run.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidValueError } from '../core/errors.js';
import { loadWebGpu, type WebGpuAdapter } from './webgpu.js';

export type BackendName = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

export interface BackendInfo {
  requested: BackendName;
  name: ConcreteBackendName;
  gpu: boolean;
  tfjsVersion: string;
  /** The WebGPU adapter, on the webgpu backend. */
  adapter?: WebGpuAdapter;
}

export interface BackendOptions {
  /** Allow a software WebGPU adapter (llvmpipe, SwiftShader) for `webgpu` (never for `auto`); GRADNOISE_WEBGPU_SOFTWARE=1 allows it too. */
  webgpuSoftware?: boolean;
}

/** The env var that allows a software WebGPU adapter, as `run.webgpuSoftware` does. */
export const WEBGPU_SOFTWARE_ENV = 'GRADNOISE_WEBGPU_SOFTWARE';

/** GRADNOISE_WEBGPU_SOFTWARE: 1/true allows, 0/false/unset does not; anything else is bad input. */
export function webgpuSoftwareFromEnv(): boolean {
  const raw = process.env[WEBGPU_SOFTWARE_ENV];
  if (raw === undefined || raw === '' || raw === '0' || raw.toLowerCase() === 'false') return false;
  if (raw === '1' || raw.toLowerCase() === 'true') return true;
  throw new InvalidValueError(WEBGPU_SOFTWARE_ENV, raw, 'expected 1 or 0');
}

let nodeGpuLoaded: boolean | null = null;

async function loadNodeGpu(): Promise<boolean> {
  if (nodeGpuLoaded !== null) return nodeGpuLoaded;
  try {
    // Optional dependency: absent wherever libtensorflow/CUDA could not be installed.
    await import('@tensorflow/tfjs-node-gpu' as string);
    nodeGpuLoaded = tf.findBackend('tensorflow') !== undefined;
  } catch {
    nodeGpuLoaded = false;
  }
  return nodeGpuLoaded;
}

type Attempt = { ok: true; adapter?: WebGpuAdapter } | { ok: false; reason: string };

async function tryBackend(name: ConcreteBackendName, auto: boolean, software: boolean): Promise<Attempt> {
  if (name === 'tensorflow' && !(await loadNodeGpu())) {
    return { ok: false, reason: 'the tensorflow backend needs @tensorflow/tfjs-node-gpu installed with CUDA (see README, "GPU runs")' };
  }
  if (name === 'webgpu') {
    const loaded = await loadWebGpu({ software: software && !auto, quick: auto });
    return loaded.ok ? { ok: true, adapter: loaded.adapter } : loaded;
  }
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  try {
    return (await tf.setBackend(name)) ? { ok: true } : { ok: false, reason: `backend '${name}' failed to initialise` };
  } catch (error) {
    return { ok: false, reason: `backend '${name}' failed to initialise: ${(error as Error).message}` };
  }
}

/** Whether the active tensorflow backend placed work on a GPU device. */
function gpuInUse(name: string): boolean {
  if (name !== 'tensorflow') return false;
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

export async function selectBackend(requested: BackendName, options: BackendOptions = {}): Promise<BackendInfo> {
  const software = options.webgpuSoftware === true || webgpuSoftwareFromEnv();
  const auto = requested === 'auto';
  const order: ConcreteBackendName[] = auto ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : [requested];
  let reason = '';
  for (const name of order) {
    const attempt = await tryBackend(name, auto, software);
    if (attempt.ok) {
      await tf.ready();
      const gpu = name === 'webgpu' ? attempt.adapter?.software === false : gpuInUse(name);
      return { requested, name, gpu, tfjsVersion: tf.version.tfjs, ...(attempt.adapter ? { adapter: attempt.adapter } : {}) };
    }
    reason = attempt.reason;
  }
  throw new InvalidValueError('run.backend', requested, reason);
}

/** One line for logs: `webgpu (GPU: NVIDIA ..., vulkan)`, `webgpu (software: llvmpipe ..., opengles)`, `wasm`. */
export function describeBackend(info: BackendInfo): string {
  if (info.adapter) return `${info.name} (${info.adapter.software ? 'software' : 'GPU'}: ${info.adapter.device || info.adapter.description || 'unnamed adapter'}, ${info.adapter.backendType})`;
  return `${info.name}${info.gpu ? ' (GPU)' : ''}`;
}
