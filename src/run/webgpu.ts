/**
 * The `webgpu` backend: tfjs's WebGPU backend (@tensorflow/tfjs-backend-webgpu) on Dawn's Node binding (the optional
 * package `webgpu`, which ships a prebuilt dawn.node). Both are loaded on first use only, so nothing changes for the
 * other backends and a missing optional package is a reason, not a crash.
 *
 * Adapter choice. A real GPU first: Dawn's platform backend (Vulkan on Linux, Metal on macOS, D3D12 on Windows), then
 * on Linux OpenGL ES through EGL (a GPU driver without Vulkan). A software adapter (llvmpipe, lavapipe, SwiftShader,
 * WARP, or anything Dawn marks as a fallback/CPU adapter) is taken only when asked for (`software`), and then Mesa's
 * llvmpipe through Dawn's OpenGL ES backend comes first: it is several times faster than SwiftShader. llvmpipe needs
 * `EGL_PLATFORM=surfaceless` (no display) and the `compatibility` feature level (GLES 3.1 cannot do core WebGPU).
 *
 * Synchronous reads. tfjs-webgpu's `readSync` (dataSync) works only in a browser (it goes through OffscreenCanvas),
 * and every agent and the monitor read results synchronously. dawn.node completes a buffer mapping when it processes
 * its events, which it schedules by calling the global `setImmediate` with a native callback. We wrap `setImmediate`
 * to keep hold of that callback, and a read copies the tensor into a staging buffer, asks for the mapping and runs
 * the callback until the mapping is done, without returning to the event loop. A self-check at start-up reads a
 * known result back, so a binding that works differently fails there with a message instead of later.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GradnoiseError } from '../core/errors.js';

/** The adapter a `webgpu` run used, as recorded in config.json's `meta.adapter` and in bench output. */
export interface WebGpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Dawn's backend: vulkan, metal, d3d12 or opengles. */
  backendType: string;
  /** `core` or `compatibility` (the WebGPU feature level the adapter was requested with). */
  featureLevel: 'core' | 'compatibility';
  /** A CPU rasteriser (llvmpipe, SwiftShader, ...) rather than a GPU. */
  software: boolean;
}

export type WebGpuLoad = { ok: true; adapter: WebGpuAdapter } | { ok: false; reason: string };

export interface WebGpuOptions {
  /** Accept a software adapter when no GPU is found. */
  software: boolean;
  /** `auto`'s quick look: skip the platform backend where no GPU device node exists (Linux), and never print Dawn's probing noise for nothing. */
  quick: boolean;
}

/** Debian/Ubuntu packages that give Dawn a software adapter (Mesa llvmpipe through EGL/GLES). */
export const MESA_PACKAGES = 'libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri';

// ---------------------------------------------------------------------------------------------------------------
// The parts of the WebGPU API used here (the `webgpu` package's own types pull in @webgpu/types globals, and the
// package is optional).

interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  adapterType?: string;
  backendType?: string;
}

interface GpuBufferLike {
  readonly size: number;
  readonly mapState: 'unmapped' | 'pending' | 'mapped';
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

interface GpuDeviceLike {
  destroy(): void;
  addEventListener(type: 'uncapturederror', listener: (event: { error?: { message?: string } }) => void): void;
}

interface GpuAdapterLike {
  readonly info: GpuAdapterInfoLike;
  readonly limits: Record<string, number>;
  readonly features: { has(name: string): boolean };
  requestDevice(descriptor: { requiredLimits?: Record<string, number>; requiredFeatures?: string[] }): Promise<GpuDeviceLike>;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string; featureLevel?: string }): Promise<GpuAdapterLike | null>;
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

interface TensorDataLike {
  values: unknown;
  dtype: string;
  resource: GpuBufferLike;
  complexTensorInfos?: unknown;
}

/** The members of tfjs-webgpu's WebGPUBackend that the synchronous read uses. */
interface WebGpuBackendLike {
  tensorMap: { get(dataId: object): TensorDataLike };
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBufferLike; releaseBuffer(buffer: GpuBufferLike): void };
  commandEncoder: { copyBufferToBuffer(src: GpuBufferLike, srcOffset: number, dst: GpuBufferLike, dstOffset: number, size: number): void };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  readSync(dataId: object): unknown;
}

type WebGpuBackendClass = new (device: GpuDeviceLike, info: GpuAdapterInfoLike) => WebGpuBackendLike;

// ---------------------------------------------------------------------------------------------------------------
// Driving dawn.node's event processing synchronously.

let pendingDawnEvents: { run: () => void } | null = null;
let setImmediateWrapped = false;

/** Keep hold of the native callback dawn.node schedules to process its events (see the file's doc block). */
function wrapSetImmediate(): void {
  if (setImmediateWrapped) return;
  setImmediateWrapped = true;
  const original = globalThis.setImmediate;
  const wrapped = function (this: unknown, callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (args.length === 0 && typeof callback === 'function' && Function.prototype.toString.call(callback).includes('[native code]')) {
      const entry = { run: () => callback() };
      pendingDawnEvents = entry;
      // Runs as scheduled unless a synchronous read ran it first.
      return original(() => {
        if (pendingDawnEvents === entry) {
          pendingDawnEvents = null;
          entry.run();
        }
      });
    }
    return original(callback, ...args);
  };
  globalThis.setImmediate = Object.assign(wrapped, original) as typeof setImmediate;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Process Dawn's events until `buffer` is mapped. */
function waitForMapping(buffer: GpuBufferLike): void {
  const start = performance.now();
  for (let spins = 0; buffer.mapState === 'pending'; spins++) {
    const entry = pendingDawnEvents;
    if (entry === null) {
      throw new GradnoiseError('runtime', 'webgpu: cannot read GPU data synchronously: this version of the `webgpu` package does not schedule its event processing through setImmediate');
    }
    pendingDawnEvents = null;
    entry.run();
    // Spin briefly, then yield the core: a software GPU renders on this machine's other threads.
    if (spins > 32 && buffer.mapState === 'pending') Atomics.wait(sleeper, 0, 0, spins > 2000 ? 1 : 0.05);
    if (performance.now() - start > 120_000) throw new GradnoiseError('runtime', 'webgpu: a GPU read did not complete within 120 s');
  }
  if (buffer.mapState !== 'mapped') throw new GradnoiseError('runtime', `webgpu: mapping a buffer for reading failed (state ${buffer.mapState})`);
}

const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

/**
 * The first error the device reported (a shader or pipeline WebGPU refused, a limit exceeded). tfjs does not check
 * for them, and a refused pipeline leaves its output unwritten, so every later read fails instead of returning it.
 */
let deviceError: string | null = null;

function checkDeviceError(): void {
  if (deviceError !== null) throw new GradnoiseError('runtime', `webgpu: the GPU device reported an error, so results cannot be trusted: ${deviceError}`);
}

/** tfjs-webgpu's backend with a readSync that works in Node. */
function syncReadingBackend(Base: WebGpuBackendClass): WebGpuBackendClass {
  return class extends (Base as unknown as new (...args: unknown[]) => WebGpuBackendLike) {
    override readSync(dataId: object): unknown {
      const data = this.tensorMap.get(dataId);
      // Values already on the CPU, strings and complex tensors: the stock path handles them without a GPU read.
      if (data.values != null || data.dtype === 'string' || data.dtype === 'complex64') return super.readSync(dataId);
      const bytes = readBufferSync(this, data.resource);
      checkDeviceError();
      const values = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype as tf.DataType);
      data.values = values;
      return values;
    }
  } as unknown as WebGpuBackendClass;
}

function readBufferSync(backend: WebGpuBackendLike, buffer: GpuBufferLike): ArrayBuffer {
  const size = buffer.size;
  const staging = backend.bufferManager.acquireBuffer(size, COPY_DST | MAP_READ);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
  backend.submitQueue();
  // The promise settles later, on the event loop; the mapping itself is waited for here.
  staging.mapAsync(MAP_MODE_READ).catch(() => {});
  waitForMapping(staging);
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  backend.bufferManager.releaseBuffer(staging);
  return bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Finding an adapter.

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|software|basic render|\bwarp\b/i;

/** Whether Dawn's adapter is a CPU rasteriser. */
export function isSoftwareAdapter(info: GpuAdapterInfoLike): boolean {
  if (info.isFallbackAdapter === true || info.adapterType === 'cpu') return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => typeof s === 'string' && SOFTWARE_NAMES.test(s));
}

/** Whether a shared library can be found by the dynamic loader (the ld.so cache, LD_LIBRARY_PATH, the usual folders). */
function sharedLibraryPresent(name: string): boolean {
  try {
    if (fs.readFileSync('/etc/ld.so.cache').includes(name)) return true;
  } catch {
    // no cache: look in the folders
  }
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d.length > 0), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib'];
  return dirs.some((dir) => fs.existsSync(path.join(dir, name)));
}

/** Linux: whether any GPU device node exists (DRM render node, NVIDIA, WSL's /dev/dxg). Without one only software Vulkan could answer. */
function gpuDeviceNodePresent(): boolean {
  if (fs.existsSync('/dev/dxg')) return true;
  try {
    return fs.readdirSync('/dev').some((n) => /^nvidia\d+$/.test(n)) || fs.readdirSync('/dev/dri').some((n) => n.startsWith('renderD'));
  } catch {
    return false;
  }
}

interface Candidate {
  backendType: string;
  flags: string[];
  featureLevel: 'core' | 'compatibility';
}

const PLATFORM_BACKEND: Record<string, string> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

interface Found {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  info: WebGpuAdapter;
}

interface WebGpuState {
  dawn: DawnModule;
  /** One Dawn instance per flag set, made once. */
  instances: Map<string, GpuLike>;
  /** What each candidate answered (null: no adapter), so each is asked once per process. */
  answers: Map<string, Found | null>;
  /** Why a candidate was not asked or failed, for the error message. */
  notes: string[];
}

let state: WebGpuState | null = null;
let loadFailure: string | null = null;
let active: { adapter: WebGpuAdapter; device: GpuDeviceLike } | null = null;

async function loadDawn(): Promise<WebGpuState | string> {
  if (state) return state;
  if (loadFailure) return loadFailure;
  try {
    // Optional dependency: the prebuilt dawn.node for this platform.
    const dawn = (await import('webgpu' as string)) as DawnModule;
    // WebGPU's enums (GPUBufferUsage, ...) as globals, which tfjs-webgpu expects.
    for (const [key, value] of Object.entries(dawn.globals)) if (!(key in globalThis)) (globalThis as Record<string, unknown>)[key] = value;
    wrapSetImmediate();
    state = { dawn, instances: new Map(), answers: new Map(), notes: [] };
    return state;
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    loadFailure = /Cannot find (package|module) 'webgpu'/.test(message)
      ? "the optional package 'webgpu' (Dawn's Node binding) is not installed (npm installs it with gradnoise's optionalDependencies)"
      : `the package 'webgpu' did not load: ${message.split('\n')[0]}`;
    return loadFailure;
  }
}

function candidates(software: boolean, quick: boolean, notes: string[]): Candidate[] {
  const list: Candidate[] = [];
  const platform = PLATFORM_BACKEND[process.platform];
  const linux = process.platform === 'linux';
  if (platform) {
    if (linux && !sharedLibraryPresent('libvulkan.so.1')) notes.push('Vulkan loader libvulkan.so.1 not found');
    else if (linux && quick && !gpuDeviceNodePresent()) notes.push('no GPU device node (/dev/dri/renderD*, /dev/nvidia*)');
    else list.push({ backendType: platform, flags: [], featureLevel: 'core' });
  }
  if (linux) {
    if (!sharedLibraryPresent('libEGL.so.1')) notes.push('EGL (libEGL.so.1) not found');
    // OpenGL ES through EGL: a GPU driver without Vulkan, or, when asked for, llvmpipe.
    else if (software || !quick || gpuDeviceNodePresent()) list.push({ backendType: 'opengles', flags: ['backend=opengles'], featureLevel: 'compatibility' });
  }
  return list;
}

async function ask(s: WebGpuState, candidate: Candidate): Promise<Found | null> {
  const key = `${candidate.flags.join(',')}|${candidate.featureLevel}`;
  if (s.answers.has(key)) return s.answers.get(key)!;
  let found: Found | null = null;
  try {
    if (candidate.backendType === 'opengles' && process.platform === 'linux') process.env.EGL_PLATFORM ??= 'surfaceless';
    let gpu = s.instances.get(candidate.flags.join(','));
    if (!gpu) {
      gpu = s.dawn.create(candidate.flags);
      s.instances.set(candidate.flags.join(','), gpu);
    }
    const request = candidate.featureLevel === 'compatibility' ? { featureLevel: 'compatibility', powerPreference: 'high-performance' } : { powerPreference: 'high-performance' };
    const adapter = await withTimeout(gpu.requestAdapter(request), 20_000, `${candidate.backendType} adapter request`);
    if (adapter) found = { gpu, adapter, info: describeAdapter(adapter.info, candidate) };
    else s.notes.push(`no ${candidate.backendType} adapter`);
  } catch (error) {
    s.notes.push(`${candidate.backendType}: ${String((error as Error).message ?? error).split('\n')[0]}`);
  }
  s.answers.set(key, found);
  return found;
}

function describeAdapter(info: GpuAdapterInfoLike, candidate: Candidate): WebGpuAdapter {
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    backendType: info.backendType ?? candidate.backendType,
    featureLevel: candidate.featureLevel,
    software: isSoftwareAdapter(info),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The best adapter: a GPU through any candidate first, then (when allowed) a software one, llvmpipe first. */
async function findAdapter(s: WebGpuState, list: readonly Candidate[], options: WebGpuOptions): Promise<Found | null> {
  const answers: Found[] = [];
  for (const candidate of list) {
    const found = await ask(s, candidate);
    if (found && !found.info.software) return found;
    if (found) answers.push(found);
  }
  if (!options.software) {
    for (const a of answers) s.notes.push(`only a software adapter (${a.info.device || a.info.description}) through ${a.info.backendType}`);
    return null;
  }
  return answers.find((a) => a.info.backendType === 'opengles') ?? answers[0] ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// Registering the tfjs backend.

/** tfjs-webgpu asks for these of the adapter's own limits; a device made with them alone is the fallback. */
const TFJS_LIMITS = ['maxComputeWorkgroupStorageSize', 'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeInvocationsPerWorkgroup'];

/** The adapter's own value of every limit (or of `names`): requesting what the adapter reports is always valid. */
function adapterLimits(adapter: GpuAdapterLike, names?: readonly string[]): Record<string, number> {
  const limits: Record<string, number> = {};
  const all: string[] = [];
  for (const name in adapter.limits) all.push(name);
  for (const name of names ?? all) {
    const value = adapter.limits[name];
    if (typeof value === 'number') limits[name] = value;
  }
  return limits;
}

async function registerTfjsBackend(found: Found): Promise<GpuDeviceLike> {
  // All of the adapter's limits, not WebGPU's defaults: tfjs's addN binds one storage buffer per input, and the default
  // of 8 per shader stage is too few for a sum over a network's gradients (12 on the cartpole-ppo nets).
  let device: GpuDeviceLike;
  try {
    device = await found.adapter.requestDevice({ requiredLimits: adapterLimits(found.adapter) });
  } catch {
    device = await found.adapter.requestDevice({ requiredLimits: adapterLimits(found.adapter, TFJS_LIMITS) });
  }
  deviceError = null;
  device.addEventListener('uncapturederror', (event) => {
    deviceError ??= (event.error?.message ?? 'unknown error').split('\n')[0]!;
  });
  // tfjs-webgpu checks navigator.gpu when it is imported (to register its own factory) and when a backend is made.
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as Record<string, unknown>;
  Object.defineProperty(nav, 'gpu', { value: found.gpu, configurable: true, writable: true });
  const module = (await import('@tensorflow/tfjs-backend-webgpu' as string)) as { WebGPUBackend: WebGpuBackendClass };
  const Backend = syncReadingBackend(module.WebGPUBackend);
  // Its own factory asks navigator.gpu for a default adapter, which is not the one chosen here.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 0: never tfjs's implicit default; gradnoise always sets the backend explicitly.
  tf.registerBackend('webgpu', () => new Backend(device, found.adapter.info) as unknown as tf.KernelBackend, 0);
  return device;
}

/** Read a known result back through the synchronous path. */
function selfCheck(): string | null {
  const got = tf.tidy(() => Array.from(tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([1, 0, -1, 2, 0.5, 1], [3, 2])).dataSync()));
  const want = [1 * 1 + 2 * -1 + 3 * 0.5, 1 * 0 + 2 * 2 + 3 * 1, 4 * 1 + 5 * -1 + 6 * 0.5, 4 * 0 + 5 * 2 + 6 * 1];
  return got.every((x, i) => Math.abs(x - want[i]!) < 1e-5) ? null : `self-check matMul gave [${got.join(', ')}], expected [${want.join(', ')}]`;
}

/**
 * Load Dawn and tfjs-webgpu and make `webgpu` the active tfjs backend on the best adapter `options` allow. The first
 * successful call fixes the adapter for the process; a later call that does not allow software refuses a software one.
 */
export async function loadWebGpu(options: WebGpuOptions): Promise<WebGpuLoad> {
  if (!active) {
    const notes: string[] = [];
    const list = candidates(options.software, options.quick, notes);
    // Nothing to ask (auto on a machine without a GPU): dawn.node is not even loaded.
    if (list.length === 0) return { ok: false, reason: noAdapterReason(notes, options.software) };
    const s = await loadDawn();
    if (typeof s === 'string') return { ok: false, reason: s };
    s.notes.push(...notes);
    const found = await findAdapter(s, list, options);
    if (!found) return { ok: false, reason: noAdapterReason(s.notes, options.software) };
    let device: GpuDeviceLike | null = null;
    try {
      device = await registerTfjsBackend(found);
      if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise the webgpu backend');
      const problem = selfCheck() ?? deviceError;
      if (problem) throw new Error(problem);
    } catch (error) {
      if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
      device?.destroy();
      return { ok: false, reason: `webgpu adapter ${found.info.device || found.info.description} failed: ${(error as Error).message}` };
    }
    active = { adapter: found.info, device };
  }
  if (active.adapter.software && !options.software) {
    return { ok: false, reason: `only a software adapter (${active.adapter.device}) is loaded in this process; it is used only when asked for (run.webgpuSoftware)` };
  }
  if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'tfjs could not switch to the webgpu backend' };
  return { ok: true, adapter: active.adapter };
}

function noAdapterReason(notes: readonly string[], software: boolean): string {
  const seen = notes.length > 0 ? ` (${[...new Set(notes)].join('; ')})` : '';
  const gpuHint =
    process.platform === 'linux'
      ? 'for a GPU install its driver and the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1)'
      : 'for a GPU install its driver';
  const softwareHint = software
    ? `for the software adapter install Mesa's EGL/GLES (Debian/Ubuntu: apt-get install ${MESA_PACKAGES})`
    : `a software adapter (llvmpipe; apt-get install ${MESA_PACKAGES}) is used only when asked for: run.webgpuSoftware=true or GRADNOISE_WEBGPU_SOFTWARE=1`;
  return `no WebGPU adapter found${seen}; ${gpuHint}; ${softwareHint}`;
}

/**
 * Run `measure` on tfjs-webgpu over Dawn's `null` backend, which validates and encodes every command but executes
 * nothing: what tfjs-webgpu and Dawn cost on the host per op, the floor under any GPU's per-op cost (`bench ops`).
 * Only before the webgpu backend was loaded for real (it takes the `webgpu` name meanwhile); null otherwise.
 */
export async function onNullWebGpu<T>(measure: () => T): Promise<T | null> {
  if (active) return null;
  const s = await loadDawn();
  if (typeof s === 'string') return null;
  const gpu = s.dawn.create(['backend=null']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const previous = tf.getBackend();
  const device = await registerTfjsBackend({ gpu, adapter, info: describeAdapter(adapter.info, { backendType: 'null', flags: [], featureLevel: 'core' }) });
  try {
    if (!(await tf.setBackend('webgpu'))) return null;
    return measure();
  } finally {
    tf.removeBackend('webgpu');
    device.destroy();
    if (previous) await tf.setBackend(previous);
  }
}

/** The adapter in use, once `loadWebGpu` succeeded. */
export function activeWebGpuAdapter(): WebGpuAdapter | null {
  return active?.adapter ?? null;
}
