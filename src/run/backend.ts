/**
 * Backend selection. `auto` prefers tfjs-node-gpu (the `tensorflow` backend, on the GPU when CUDA is found), then
 * wasm, then plain JavaScript `cpu`. The choice and whether a GPU was seen are recorded with every run.
 */
import * as tf from '@tensorflow/tfjs';
import { InvalidValueError } from '../core/errors.js';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  requested: BackendName;
  name: 'tensorflow' | 'wasm' | 'cpu';
  gpu: boolean;
  tfjsVersion: string;
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

async function tryBackend(name: 'tensorflow' | 'wasm' | 'cpu'): Promise<boolean> {
  if (name === 'tensorflow' && !(await loadNodeGpu())) return false;
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/** Whether the active tensorflow backend placed work on a GPU device. */
function gpuInUse(name: string): boolean {
  if (name !== 'tensorflow') return false;
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: boolean };
  return backend.isUsingGpuDevice === true;
}

export async function selectBackend(requested: BackendName): Promise<BackendInfo> {
  const order: ('tensorflow' | 'wasm' | 'cpu')[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  for (const name of order) {
    if (await tryBackend(name)) {
      await tf.ready();
      return { requested, name, gpu: gpuInUse(name), tfjsVersion: tf.version.tfjs };
    }
  }
  const hint =
    requested === 'tensorflow'
      ? 'the tensorflow backend needs @tensorflow/tfjs-node-gpu installed with CUDA (see README, "GPU runs")'
      : `backend '${requested}' failed to initialise`;
  throw new InvalidValueError('run.backend', requested, hint);
}
