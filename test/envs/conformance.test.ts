/**
 * Conformance of every registered env with the VectorEnv contract: spaces contain observations, determinism per seed,
 * truncation vs termination, auto-reset keeping the final observation, episode statistics, bad actions rejected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidActionError } from '../../src/core/errors.js';
import { envIds, getEnvSpec, makeEnv } from '../../src/run/registry.js';
import { Rng } from '../../src/core/rng.js';
import { Discrete } from '../../src/core/spaces.js';
import type { VectorEnv } from '../../src/core/vector-env.js';

const NUM_ENVS = 3;

function randomActions(env: VectorEnv, rng: Rng): number[] {
  const out: number[] = [];
  for (let i = 0; i < env.numEnvs; i++) {
    const sample = env.actionSpace.sample(rng);
    if (typeof sample === 'number') out.push(sample);
    else out.push(...sample);
  }
  return out;
}

function rollout(env: VectorEnv, seed: number, steps: number): number[][] {
  const rng = new Rng(`actions/${seed}`);
  const trace: number[][] = [Array.from(env.reset(seed))];
  for (let t = 0; t < steps; t++) {
    const out = env.step(randomActions(env, rng));
    trace.push([...out.obs, ...out.rewards, ...out.terminated, ...out.truncated]);
  }
  return trace;
}

function row(buffer: Float32Array, i: number, size: number): number[] {
  return Array.from(buffer.subarray(i * size, (i + 1) * size));
}

for (const id of envIds()) {
  describe(`conformance: ${id}`, () => {
    it('observations (incl. final ones) lie in the observation space', () => {
      const env = makeEnv(id, { numEnvs: NUM_ENVS });
      const rng = new Rng('space');
      const obs = env.reset(1);
      for (let i = 0; i < NUM_ENVS; i++) assert.ok(env.observationSpace.contains(row(obs, i, env.obsSize)), `reset obs ${row(obs, i, env.obsSize)}`);
      for (let t = 0; t < 300; t++) {
        const out = env.step(randomActions(env, rng));
        for (let i = 0; i < NUM_ENVS; i++) {
          assert.ok(env.observationSpace.contains(row(out.obs, i, env.obsSize)), `obs at step ${t}: ${row(out.obs, i, env.obsSize)}`);
          if (out.terminated[i] || out.truncated[i]) assert.ok(env.observationSpace.contains(row(out.finalObs, i, env.obsSize)));
          assert.ok(Number.isFinite(out.rewards[i]));
        }
      }
    });

    it('the same seed gives the same trajectory; reset(seed) restarts the stream', () => {
      const a = rollout(makeEnv(id, { numEnvs: NUM_ENVS }), 7, 120);
      const b = rollout(makeEnv(id, { numEnvs: NUM_ENVS }), 7, 120);
      assert.deepEqual(a, b);
      const env = makeEnv(id, { numEnvs: NUM_ENVS });
      rollout(env, 3, 50);
      assert.deepEqual(rollout(env, 7, 120), a, 'reset(seed) on a used env restarts identically');
    });

    it('truncates at the time limit with truncated set and terminated not', () => {
      const spec = getEnvSpec(id);
      const env = makeEnv(id, { numEnvs: NUM_ENVS, maxEpisodeSteps: 2 });
      const rng = new Rng('trunc');
      env.reset(0);
      const lengths = new Array<number>(NUM_ENVS).fill(0);
      let truncations = 0;
      for (let t = 0; t < 60; t++) {
        const out = env.step(randomActions(env, rng));
        for (let i = 0; i < NUM_ENVS; i++) {
          lengths[i]! += 1;
          assert.ok(!(out.terminated[i] && out.truncated[i]), 'never both terminated and truncated');
          if (lengths[i] === 2 && !out.terminated[i]) assert.equal(out.truncated[i], 1, 'time limit reached');
          if (out.truncated[i]) {
            assert.equal(lengths[i], 2);
            truncations += 1;
          }
          if (out.terminated[i] || out.truncated[i]) lengths[i] = 0;
        }
      }
      const natural = spec.maxEpisodeSteps(makeEnv(id).params as never);
      if (natural > 2) assert.ok(truncations > 0, 'some episode reached the limit of 2');
    });

    it('auto-reset keeps the final observation and restarts the episode in the same step', () => {
      const env = makeEnv(id, { numEnvs: NUM_ENVS, maxEpisodeSteps: 5 });
      const captured = new Map<number, number[]>();
      const target = env as unknown as { resetEnv(i: number): void; obs: Float32Array };
      const original = target.resetEnv.bind(env);
      target.resetEnv = (i: number) => {
        captured.set(i, row(target.obs, i, env.obsSize));
        original(i);
      };
      const rng = new Rng('autoreset');
      env.reset(0);
      let ended = 0;
      for (let t = 0; t < 40; t++) {
        captured.clear();
        const out = env.step(randomActions(env, rng));
        for (let i = 0; i < NUM_ENVS; i++) {
          const done = out.terminated[i] || out.truncated[i];
          assert.equal(captured.has(i), done === 1, 'reset exactly where an episode ended');
          if (done) {
            ended += 1;
            assert.deepEqual(row(out.finalObs, i, env.obsSize), captured.get(i), 'finalObs is the last observation of the episode');
          }
        }
      }
      assert.ok(ended > 0);
    });

    it('episode statistics add up the rewards and count the steps', () => {
      const env = makeEnv(id, { numEnvs: NUM_ENVS, maxEpisodeSteps: 50 });
      const rng = new Rng('stats');
      env.reset(0);
      const running = new Array<number>(NUM_ENVS).fill(0);
      const length = new Array<number>(NUM_ENVS).fill(0);
      const expected: { env: number; return: number; length: number; terminated: boolean }[] = [];
      for (let t = 0; t < 200; t++) {
        const out = env.step(randomActions(env, rng));
        for (let i = 0; i < NUM_ENVS; i++) {
          running[i]! += out.rewards[i]!;
          length[i]! += 1;
          if (out.terminated[i] || out.truncated[i]) {
            expected.push({ env: i, return: running[i]!, length: length[i]!, terminated: out.terminated[i] === 1 });
            running[i] = 0;
            length[i] = 0;
          }
        }
      }
      const records = env.drainEpisodes();
      assert.equal(records.length, expected.length);
      records.forEach((r, k) => {
        assert.equal(r.env, expected[k]!.env);
        assert.equal(r.length, expected[k]!.length);
        assert.equal(r.terminated, expected[k]!.terminated);
        assert.ok(Math.abs(r.return - expected[k]!.return) < 1e-9);
      });
      assert.equal(env.drainEpisodes().length, 0, 'drained');
    });

    it('rejects bad actions with a clear error', () => {
      const env = makeEnv(id, { numEnvs: 2 });
      env.reset(0);
      const size = env.actionSize;
      const good = new Array<number>(2 * size).fill(0);
      const bad: number[][] = [[...good, ...good], [NaN, ...good.slice(1)], [Infinity, ...good.slice(1)]];
      if (env.actionSpace instanceof Discrete) bad.push([-1, 0], [env.actionSpace.n, 0], [0.5, 0]);
      for (const actions of bad) {
        assert.throws(() => env.step(actions), (error: unknown) => {
          assert.ok(error instanceof InvalidActionError, String(error));
          assert.match((error as Error).message, new RegExp(id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
          return true;
        });
      }
    });

    it('has five difficulty levels that resolve to valid params', () => {
      const spec = getEnvSpec(id);
      assert.equal(spec.levels.length, 5);
      assert.deepEqual(spec.levels[0], {}, 'level 0 is the standard task');
      assert.ok(spec.ladder.length > 10, 'the ladder says why it is harder');
      for (let level = 1; level < 5; level++) {
        assert.ok(Object.keys(spec.levels[level]!).length > 0, `level ${level} changes something`);
        const env = makeEnv(id, { level, numEnvs: 2 });
        for (const [k, v] of Object.entries(spec.levels[level]!)) assert.equal(env.params[k], v);
        env.reset(0);
        env.step(new Array<number>(2 * env.actionSize).fill(0));
      }
    });
  });
}
