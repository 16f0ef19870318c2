/**
 * For the webgpu tests: load the webgpu backend, allowing a software adapter (Mesa's llvmpipe), and say why not
 * where it does not load, with what to install. The backend code sets what Dawn needs (EGL_PLATFORM=surfaceless)
 * itself, so the tests need nothing from the environment.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendInfo } from '../../src/run/backend.js';
import { MESA_PACKAGES } from '../../src/run/webgpu.js';

export type WebGpuAvailability = { ok: true; info: BackendInfo } | { ok: false; skip: string };

/** Try the webgpu backend (software allowed), then go back to the backend that was active. */
export async function webgpuAvailability(): Promise<WebGpuAvailability> {
  const previous = tf.getBackend();
  try {
    const info = await selectBackend('webgpu', { webgpuSoftware: true });
    return { ok: true, info };
  } catch (error) {
    // The message names what was tried and what to install (Mesa's EGL/GLES for the software adapter).
    const why = (error as Error).message.replace(/^run\.backend: /, '').replace(/ \(got 'webgpu'\)$/, '');
    const hint = why.includes('apt-get') || why.includes("package 'webgpu'") ? '' : `; to run these tests: apt-get install -y ${MESA_PACKAGES}`;
    return { ok: false, skip: `${why}${hint}` };
  } finally {
    if (previous) await tf.setBackend(previous);
  }
}

/** Largest |a_i − b_i| over max(|b|, floor): a relative error that ignores entries far below the scale. */
export function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let scale = floor;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
  return worst;
}

/** Largest elementwise |a_i − b_i| / max(|b_i|, floor): every entry relative to itself. */
export function maxElementwiseRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return worst;
}
