/**
 * `gradnoise bench envs`: env steps per second with random actions, for every registered env (classic control, the
 * bsuite probes, the five MinAtar games, ...) at 1 and 1024 copies, against a naive one-object-per-env CartPole
 * measured in the same run.
 */
import { envIds, makeEnv } from '../run/registry.js';
import { Rng } from '../core/rng.js';
import { Discrete } from '../core/spaces.js';
import { NaiveVectorCartPole } from './naive-cartpole.js';

export interface EnvBenchRow {
  env: string;
  implementation: 'gradnoise' | 'naive-objects';
  numEnvs: number;
  stepsPerSec: number;
}

const ACTION_BUFFERS = 16;

/** Run `step` repeatedly for about `seconds` after a short warm-up; returns env steps per second. */
export function timeSteps(step: () => void, stepsPerCall: number, seconds: number): number {
  const warmupEnd = performance.now() + Math.min(200, seconds * 250);
  while (performance.now() < warmupEnd) step();
  let calls = 0;
  const start = performance.now();
  let now = start;
  const end = start + seconds * 1000;
  while (now < end) {
    for (let k = 0; k < 16; k++) step();
    calls += 16;
    now = performance.now();
  }
  return (calls * stepsPerCall) / ((now - start) / 1000);
}

function randomActionBuffers(id: string, numEnvs: number, rng: Rng): Float32Array[] | Int32Array[] {
  const env = makeEnv(id);
  const space = env.actionSpace;
  if (space instanceof Discrete) {
    return Array.from({ length: ACTION_BUFFERS }, () => Int32Array.from({ length: numEnvs }, () => rng.int(space.n)));
  }
  return Array.from({ length: ACTION_BUFFERS }, () => {
    const buffer = new Float32Array(numEnvs * space.size);
    for (let i = 0; i < numEnvs; i++) buffer.set(space.sample(rng), i * space.size);
    return buffer;
  });
}

export function benchEnv(id: string, numEnvs: number, seconds: number): number {
  const rng = new Rng(`bench/${id}/${numEnvs}`);
  const env = makeEnv(id, { numEnvs });
  env.reset(0);
  const actions = randomActionBuffers(id, numEnvs, rng);
  let k = 0;
  return timeSteps(
    () => {
      env.step(actions[k++ % ACTION_BUFFERS]!);
      if (k % ACTION_BUFFERS === 0) env.drainEpisodes();
    },
    numEnvs,
    seconds,
  );
}

export function benchNaiveCartPole(numEnvs: number, seconds: number): number {
  const rng = new Rng('bench/naive');
  const env = new NaiveVectorCartPole(numEnvs, rng);
  const actions = randomActionBuffers('CartPole-v1', numEnvs, rng);
  let k = 0;
  return timeSteps(() => void env.step(actions[k++ % ACTION_BUFFERS]!), numEnvs, seconds);
}

export function runEnvBench(options: { seconds?: number; sizes?: number[]; ids?: string[] } = {}) {
  const seconds = options.seconds ?? 0.5;
  const sizes = options.sizes ?? [1, 1024];
  const rows: EnvBenchRow[] = [];
  for (const id of options.ids ?? envIds()) {
    for (const numEnvs of sizes) rows.push({ env: id, implementation: 'gradnoise', numEnvs, stepsPerSec: benchEnv(id, numEnvs, seconds) });
  }
  for (const numEnvs of sizes) {
    rows.push({ env: 'CartPole-v1', implementation: 'naive-objects', numEnvs, stepsPerSec: benchNaiveCartPole(numEnvs, seconds) });
  }
  const find = (impl: EnvBenchRow['implementation'], n: number) =>
    rows.find((r) => r.env === 'CartPole-v1' && r.implementation === impl && r.numEnvs === n)?.stepsPerSec ?? NaN;
  const largest = Math.max(...sizes);
  return {
    rows,
    cartPoleSpeedup: find('gradnoise', largest) / find('naive-objects', largest),
    cartPoleAtLargest: find('gradnoise', largest),
    largestNumEnvs: largest,
  };
}
