/**
 * Classic control: side-by-side with Gymnasium's own trajectories (all 15 in test/fixtures/reference/), plus unit
 * tests per env: spaces, the difficulty ladder, physical state round trips, time limits, edge cases of the dynamics
 * and that every level stays solvable by a simple controller while getting harder for it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Box, Discrete } from '../../src/core/spaces.js';
import { envIds, getEnvSpec, makeEnv, resolveEnvParams, type MakeEnvOptions } from '../../src/run/registry.js';
import { hasPhysicalState, type PhysicalStateEnv, type VectorEnv } from '../../src/core/vector-env.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REFERENCE_PATH = path.resolve(repoRoot, 'test/fixtures/reference/classic_control_trajectories.json');

interface ReferenceStep {
  obs: number[];
  reward: number;
  terminated: boolean;
}
interface ReferenceTrajectory {
  env: string;
  state: number[];
  actions: (number | number[])[];
  steps: ReferenceStep[];
}

const REL_TOL = 1e-5;
const ABS_FLOOR = 1e-6;

/** |a - b| / max(|b|, floor): relative error, absolute near zero. */
function relError(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), ABS_FLOOR);
}

function makeStateEnv(id: string, options: MakeEnvOptions = {}): VectorEnv & PhysicalStateEnv {
  const env = makeEnv(id, options);
  assert.ok(hasPhysicalState(env), `${id} implements PhysicalStateEnv`);
  return env;
}

/** Step one env with a fixed action until the limit; returns the step index (1-based) where it first ended. */
function firstEnd(env: VectorEnv, action: ArrayLike<number>, maxSteps: number): { step: number; terminated: boolean; truncated: boolean } {
  for (let t = 1; t <= maxSteps; t++) {
    const r = env.step(action);
    if (r.terminated[0] === 1 || r.truncated[0] === 1) return { step: t, terminated: r.terminated[0] === 1, truncated: r.truncated[0] === 1 };
  }
  return { step: -1, terminated: false, truncated: false };
}

const CLASSIC_IDS = ['CartPole-v1', 'MountainCar-v0', 'MountainCarContinuous-v0', 'Acrobot-v1', 'Pendulum-v1'];

describe('classic control: Gymnasium reference trajectories', () => {
  // The reference is part of the repository; its absence is a failure, never a silent skip.
  assert.ok(existsSync(REFERENCE_PATH), `reference trajectories not found at ${REFERENCE_PATH}`);
  const trajectories = JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as ReferenceTrajectory[];

  it('has all 15 trajectories, 3 per env', () => {
    assert.equal(trajectories.length, 15);
    for (const id of CLASSIC_IDS) assert.equal(trajectories.filter((t) => t.env === id).length, 3, id);
  });

  const worst = new Map<string, number>();
  trajectories.forEach((trajectory, index) => {
    it(`#${index} ${trajectory.env}: ${trajectory.steps.length} steps match within ${REL_TOL} relative`, (t) => {
      const env = makeStateEnv(trajectory.env, { maxEpisodeSteps: Infinity });
      env.reset(0);
      env.setState(0, trajectory.state);
      let worstHere = 0;
      trajectory.actions.forEach((action, k) => {
        const expected = trajectory.steps[k]!;
        const r = env.step(Array.isArray(action) ? action : [action]);
        const terminated = r.terminated[0] === 1;
        assert.equal(terminated, expected.terminated, `step ${k}: terminated`);
        assert.equal(r.truncated[0], 0, `step ${k}: never truncated without a time limit`);
        // Where the episode ended, auto-reset already overwrote obs: the step's own observation is in finalObs.
        const obs = terminated ? r.finalObs : r.obs;
        assert.equal(expected.obs.length, env.obsSize);
        expected.obs.forEach((value, j) => {
          const err = relError(obs[j]!, value);
          worstHere = Math.max(worstHere, err);
          assert.ok(err <= REL_TOL, `step ${k} obs[${j}]: got ${obs[j]}, Gymnasium ${value} (rel err ${err.toExponential(2)})`);
        });
        const err = relError(r.rewards[0]!, expected.reward);
        worstHere = Math.max(worstHere, err);
        assert.ok(err <= REL_TOL, `step ${k} reward: got ${r.rewards[0]}, Gymnasium ${expected.reward}`);
      });
      worst.set(trajectory.env, Math.max(worst.get(trajectory.env) ?? 0, worstHere));
      t.diagnostic(`worst relative error ${worstHere.toExponential(2)}`);
    });
  });

  it('a wrong constant is caught (the comparison can fail)', () => {
    const trajectory = trajectories.find((t) => t.env === 'Acrobot-v1')!;
    const env = makeStateEnv('Acrobot-v1', { maxEpisodeSteps: Infinity, params: { gravity: 9.81 } });
    env.reset(0);
    env.setState(0, trajectory.state);
    let worstHere = 0;
    trajectory.actions.forEach((action, k) => {
      const r = env.step([action as number]);
      trajectory.steps[k]!.obs.forEach((value, j) => (worstHere = Math.max(worstHere, relError(r.obs[j]!, value))));
    });
    assert.ok(worstHere > 1e-3, `gravity 9.81 instead of 9.8 should be visible, worst rel err ${worstHere}`);
  });
});

describe('classic control: registry', () => {
  it('registers the five classic-control envs first, in order, all with classicControl set', () => {
    assert.deepEqual(envIds().slice(0, 5), CLASSIC_IDS);
    for (const id of CLASSIC_IDS) assert.equal(getEnvSpec(id).classicControl, true, id);
  });

  it('level 0 is the standard task and every level resolves to valid params', () => {
    for (const id of CLASSIC_IDS) {
      const spec = getEnvSpec(id);
      assert.deepEqual(spec.levels[0], {}, id);
      for (let level = 0; level < 5; level++) resolveEnvParams(spec, level);
      assert.ok(spec.ladder.length > 0);
    }
  });
});

/** The ladder as documented in each env's doc header: level → params it sets. */
const DOCUMENTED_LADDERS: Record<string, Record<string, number>[]> = {
  'MountainCar-v0': [
    { force: 0.001, forceNoise: 0 },
    { force: 0.000925, forceNoise: 0.15 },
    { force: 0.00085, forceNoise: 0.3 },
    { force: 0.000775, forceNoise: 0.45 },
    { force: 0.0007, forceNoise: 0.6 },
  ],
  'MountainCarContinuous-v0': [
    { power: 0.0015, actionNoise: 0 },
    { power: 0.0013, actionNoise: 0.1 },
    { power: 0.0011, actionNoise: 0.2 },
    { power: 0.0009, actionNoise: 0.3 },
    { power: 0.0007, actionNoise: 0.4 },
  ],
  'Acrobot-v1': [
    { torque: 1, torqueNoiseMax: 0 },
    { torque: 0.9, torqueNoiseMax: 0.25 },
    { torque: 0.8, torqueNoiseMax: 0.5 },
    { torque: 0.7, torqueNoiseMax: 0.75 },
    { torque: 0.6, torqueNoiseMax: 1 },
  ],
  'Pendulum-v1': [
    { g: 10, torqueNoise: 0 },
    { g: 11.5, torqueNoise: 0.125 },
    { g: 13, torqueNoise: 0.25 },
    { g: 14.5, torqueNoise: 0.375 },
    { g: 16, torqueNoise: 0.5 },
  ],
};

/** Gymnasium's defaults (plus our noise knobs at 0): level 0 must reproduce them. */
const GYMNASIUM_DEFAULTS: Record<string, Record<string, number>> = {
  'MountainCar-v0': { force: 0.001, gravity: 0.0025, maxSpeed: 0.07, goalPosition: 0.5, goalVelocity: 0, forceNoise: 0, rewardNoise: 0 },
  'MountainCarContinuous-v0': { power: 0.0015, gravity: 0.0025, maxSpeed: 0.07, goalPosition: 0.45, goalVelocity: 0, actionNoise: 0, rewardNoise: 0 },
  'Acrobot-v1': {
    linkLength1: 1,
    linkMass1: 1,
    linkMass2: 1,
    linkComPos1: 0.5,
    linkComPos2: 0.5,
    linkMoi: 1,
    gravity: 9.8,
    dt: 0.2,
    maxVel1: 4 * Math.PI,
    maxVel2: 9 * Math.PI,
    torque: 1,
    torqueNoiseMax: 0,
    rewardNoise: 0,
  },
  'Pendulum-v1': { g: 10, m: 1, l: 1, dt: 0.05, maxSpeed: 8, maxTorque: 2, torqueNoise: 0, rewardNoise: 0 },
};

// The round-one ladders, kept as `env.ladder: "v1"`; the default (v2) ladder is tested in test/envs/ladders.test.ts.
describe('classic control: difficulty ladders (v1)', () => {
  for (const [id, ladder] of Object.entries(DOCUMENTED_LADDERS)) {
    it(`${id}: defaults are Gymnasium's and each v1 level sets the documented params`, () => {
      const spec = getEnvSpec(id);
      assert.deepEqual({ ...resolveEnvParams(spec, 0) }, GYMNASIUM_DEFAULTS[id]);
      ladder.forEach((expected, level) => {
        const params = resolveEnvParams(spec, level, {}, 'env', 'v1');
        for (const [name, value] of Object.entries(expected)) assert.equal(params[name], value, `level ${level} ${name}`);
        // Only the documented knobs move; everything else stays at Gymnasium's value.
        for (const [name, value] of Object.entries(GYMNASIUM_DEFAULTS[id]!)) {
          if (!(name in expected)) assert.equal(params[name], value, `level ${level} leaves ${name} alone`);
        }
        const env = makeEnv(id, { level, ladder: 'v1' });
        for (const [name, value] of Object.entries(expected)) assert.equal(env.params[name], value);
      });
    });
  }

  it('explicit params override the level and are validated', () => {
    const env = makeEnv('Pendulum-v1', { level: 4, ladder: 'v1', params: { g: 9.81 } });
    assert.equal(env.params.g, 9.81);
    assert.equal(env.params.torqueNoise, 0.5);
    assert.throws(() => makeEnv('MountainCar-v0', { params: { force: -0.001 } }), /force/);
    assert.throws(() => makeEnv('Acrobot-v1', { params: { torqueNoiseMax: -1 } }), /torqueNoiseMax/);
    assert.throws(() => makeEnv('Pendulum-v1', { params: { maxTorque: 0 } }), /maxTorque/);
  });

  it('noisy levels are reproducible from the seed and the noise changes the trajectory', () => {
    const noiseParam: Record<string, string> = {
      'MountainCar-v0': 'forceNoise',
      'MountainCarContinuous-v0': 'actionNoise',
      'Acrobot-v1': 'torqueNoiseMax',
      'Pendulum-v1': 'torqueNoise',
    };
    for (const [id, noise] of Object.entries(noiseParam)) {
      const rollout = (seed: number, params: Record<string, number> = {}): number[] => {
        const env = makeStateEnv(id, { level: 4, ladder: 'v1', params });
        const action = env.actionSpace instanceof Box ? [0.5] : [2];
        env.reset(seed);
        for (let t = 0; t < 20; t++) env.step(action);
        return env.getState(0);
      };
      assert.deepEqual(rollout(7), rollout(7), `${id}: same seed, same noisy trajectory`);
      assert.notDeepEqual(rollout(7), rollout(7, { [noise]: 0 }), `${id}: ${noise} changes the trajectory`);
    }
  });
});

describe('MountainCar-v0', () => {
  it('has Gymnasium spaces and starts at rest in [-0.6, -0.4]', () => {
    const env = makeStateEnv('MountainCar-v0', { numEnvs: 64 });
    assert.ok(env.actionSpace instanceof Discrete && env.actionSpace.n === 3);
    assert.deepEqual(Array.from(env.observationSpace.low), [-1.2, -0.07]);
    assert.deepEqual(Array.from(env.observationSpace.high), [0.6, 0.07]);
    const obs = env.reset(1);
    for (let i = 0; i < 64; i++) {
      assert.ok(obs[2 * i]! >= Math.fround(-0.6) && obs[2 * i]! <= Math.fround(-0.4));
      assert.equal(obs[2 * i + 1], 0);
    }
  });

  it('stays inside its observation space under random actions, on every level', () => {
    for (let level = 0; level < 5; level++) assertObsInside('MountainCar-v0', level, 300);
  });

  it('stops dead at the left wall and clips speed', () => {
    const env = makeStateEnv('MountainCar-v0');
    env.reset(0);
    env.setState(0, [-1.19, -0.07]);
    env.step([0]);
    assert.deepEqual(env.getState(0), [-1.2, 0]);
    env.setState(0, [-0.5, 0.0699]);
    env.step([2]);
    assert.equal(env.getState(0)[1], 0.07);
  });

  it('terminates at the flag only when moving right, with reward -1', () => {
    const env = makeStateEnv('MountainCar-v0');
    env.reset(0);
    env.setState(0, [0.49, 0.02]);
    let r = env.step([2]);
    assert.equal(r.terminated[0], 1);
    assert.equal(r.rewards[0], -1);
    env.setState(0, [0.55, -0.07]);
    r = env.step([0]);
    assert.equal(r.terminated[0], 0);
  });

  it('truncates (not terminates) at 200 steps when doing nothing', () => {
    const env = makeStateEnv('MountainCar-v0');
    env.reset(3);
    assert.deepEqual(firstEnd(env, [1], 1000), { step: 200, terminated: false, truncated: true });
    const [episode] = env.drainEpisodes();
    assert.deepEqual(episode, { env: 0, return: -200, length: 200, terminated: false });
  });

  it('every level stays solvable without noise, and weaker engines need longer', () => {
    const steps = DOCUMENTED_LADDERS['MountainCar-v0']!.map(({ force }) => mountainCarBestOfTwo(force!));
    for (const { max } of steps) assert.ok(max <= 180, `worst-case ${max} steps, inside the 200-step limit`);
    assert.ok(steps[0]!.max <= 125);
    const means = steps.map((s) => s.mean);
    for (let level = 1; level < 5; level++) assert.ok(means[level]! > means[level - 1]! + 5, `mean steps to the flag rise: ${means.join(', ')}`);
  });
});

/**
 * Steps to the flag over a grid of start positions for the better of two pumping policies (push along the velocity,
 * breaking the tie at rest to the right or to the left): an upper bound on the optimal time to the flag.
 */
function mountainCarBestOfTwo(force: number): { max: number; mean: number } {
  const n = 101;
  const best = new Int32Array(n).fill(1_000_000);
  for (const startLeft of [false, true]) {
    const env = makeStateEnv('MountainCar-v0', { numEnvs: n, params: { force }, maxEpisodeSteps: Infinity });
    env.reset(0);
    for (let i = 0; i < n; i++) env.setState(i, [-0.6 + (0.2 * i) / (n - 1), 0]);
    const done = new Int32Array(n);
    const actions = new Int32Array(n);
    for (let t = 1; t <= 400; t++) {
      for (let i = 0; i < n; i++) {
        const v = env.getState(i)[1]!;
        actions[i] = v < 0 || (v === 0 && startLeft) ? 0 : 2;
      }
      const r = env.step(actions);
      for (let i = 0; i < n; i++) {
        if (r.terminated[i] === 1 && done[i] === 0) done[i] = t;
      }
    }
    for (let i = 0; i < n; i++) if (done[i]! > 0) best[i] = Math.min(best[i]!, done[i]!);
  }
  return { max: Math.max(...best), mean: best.reduce((sum, s) => sum + s, 0) / n };
}

describe('MountainCarContinuous-v0', () => {
  it('has Gymnasium spaces', () => {
    const env = makeEnv('MountainCarContinuous-v0');
    assert.ok(env.actionSpace instanceof Box);
    assert.deepEqual([Array.from(env.actionSpace.low), Array.from(env.actionSpace.high)], [[-1], [1]]);
    assert.deepEqual(Array.from(env.observationSpace.low), [-1.2, -0.07]);
    assert.deepEqual(Array.from(env.observationSpace.high), [0.6, 0.07]);
  });

  it('stays inside its observation space under random actions, on every level', () => {
    for (let level = 0; level < 5; level++) assertObsInside('MountainCarContinuous-v0', level, 300);
  });

  it('clips the throttle for the dynamics but charges the unclipped action, as Gymnasium does', () => {
    const env = makeStateEnv('MountainCarContinuous-v0');
    env.reset(0);
    env.setState(0, [-0.5, 0.01]);
    const clipped = env.step([1]);
    const stateAfterOne = env.getState(0);
    assert.ok(Math.abs(clipped.rewards[0]! - -0.1) < 1e-12);
    env.setState(0, [-0.5, 0.01]);
    const over = env.step([3]);
    assert.deepEqual(env.getState(0), stateAfterOne);
    assert.ok(Math.abs(over.rewards[0]! - -0.9) < 1e-12);
  });

  it('rounds actions to float32 and stores the state as float32, as Gymnasium does', () => {
    const env = makeStateEnv('MountainCarContinuous-v0');
    env.reset(0);
    env.setState(0, [-0.5, 0.01]);
    env.step([0.1]);
    const fromNumbers = env.getState(0);
    for (const v of fromNumbers) assert.equal(Math.fround(v), v);
    env.setState(0, [-0.5, 0.01]);
    env.step(Float32Array.of(0.1));
    assert.deepEqual(env.getState(0), fromNumbers);
  });

  it('pays +100 on reaching the goal', () => {
    const env = makeStateEnv('MountainCarContinuous-v0');
    env.reset(0);
    env.setState(0, [0.44, 0.03]);
    const r = env.step([0.5]);
    assert.equal(r.terminated[0], 1);
    assert.ok(Math.abs(r.rewards[0]! - (100 - 0.025)) < 1e-9);
  });

  it('truncates (not terminates) at 999 steps with zero throttle', () => {
    const env = makeStateEnv('MountainCarContinuous-v0');
    env.reset(3);
    assert.deepEqual(firstEnd(env, [0], 2000), { step: 999, terminated: false, truncated: true });
  });

  it('every level stays solvable, and weaker engines need longer', () => {
    const lengths = [0, 1, 2, 3, 4].map((level) => {
      const stats = rolloutStats('MountainCarContinuous-v0', level, 200, (obs, i) => [obs[2 * i + 1]! < 0 ? -1 : 1]);
      assert.equal(stats.successRate, 1, `level ${level}: full throttle along the velocity always reaches the flag`);
      return stats.meanLength;
    });
    for (let level = 1; level < 5; level++) assert.ok(lengths[level]! > lengths[level - 1]!, `level ${level} slower: ${lengths.join(', ')}`);
  });
});

describe('Acrobot-v1', () => {
  it('has Gymnasium spaces and starts near hanging down', () => {
    const env = makeStateEnv('Acrobot-v1', { numEnvs: 32 });
    assert.ok(env.actionSpace instanceof Discrete && env.actionSpace.n === 3);
    assert.deepEqual(Array.from(env.observationSpace.high), [1, 1, 1, 1, 4 * Math.PI, 9 * Math.PI]);
    assert.deepEqual(Array.from(env.observationSpace.low), [-1, -1, -1, -1, -4 * Math.PI, -9 * Math.PI]);
    env.reset(2);
    for (let i = 0; i < 32; i++) {
      for (const v of env.getState(i)) {
        assert.ok(Math.abs(v) <= 0.1);
        assert.equal(Math.fround(v), v, 'start state is float32, as in Gymnasium');
      }
    }
  });

  it('stays inside its observation space under random actions, on every level', () => {
    for (let level = 0; level < 5; level++) assertObsInside('Acrobot-v1', level, 300);
  });

  it('wraps angles into [-π, π] and bounds velocities to ±4π, ±9π', () => {
    const env = makeStateEnv('Acrobot-v1');
    env.reset(0);
    env.setState(0, [3.1, -3.1, 100, -100]);
    env.step([2]);
    const [theta1, theta2, dtheta1, dtheta2] = env.getState(0) as [number, number, number, number];
    assert.ok(theta1 >= -Math.PI && theta1 <= Math.PI && theta2 >= -Math.PI && theta2 <= Math.PI);
    assert.equal(Math.abs(dtheta1), 4 * Math.PI);
    assert.equal(Math.abs(dtheta2), 9 * Math.PI);
  });

  it('observes [cos θ1, sin θ1, cos θ2, sin θ2, dθ1, dθ2]', () => {
    const env = makeStateEnv('Acrobot-v1');
    env.reset(0);
    env.setState(0, [0.7, -1.1, 1.5, -2.5]);
    const r = env.step([2]);
    assert.equal(r.terminated[0], 0);
    assert.equal(r.rewards[0], -1);
    const [t1, t2, d1, d2] = env.getState(0) as [number, number, number, number];
    assert.deepEqual(Array.from(r.obs), [Math.cos(t1), Math.sin(t1), Math.cos(t2), Math.sin(t2), d1, d2].map(Math.fround));
  });

  it('terminates with reward 0 once the tip is above the line', () => {
    const env = makeStateEnv('Acrobot-v1');
    env.reset(0);
    env.setState(0, [Math.PI, 0, 0, 0]);
    const r = env.step([1]);
    assert.equal(r.terminated[0], 1);
    assert.equal(r.rewards[0], 0);
    // The finished episode's last observation: tip height -cos θ1 - cos(θ1 + θ2) above the line.
    const [c1, s1, c2, s2] = Array.from(r.finalObs);
    assert.ok(-c1! - (c1! * c2! - s1! * s2!) > 1);
  });

  it('truncates (not terminates) at 500 steps when doing nothing', () => {
    const env = makeStateEnv('Acrobot-v1');
    env.reset(3);
    assert.deepEqual(firstEnd(env, [1], 1000), { step: 500, terminated: false, truncated: true });
  });

  it('every level stays solvable, and weaker, noisier motors need longer', () => {
    const lengths = [0, 1, 2, 3, 4].map((level) => {
      const stats = rolloutStats('Acrobot-v1', level, 300, (obs, i) => [obs[6 * i + 5]! > 0 ? 2 : 0]);
      assert.equal(stats.successRate, 1, `level ${level}: pushing along dθ2 always clears the line`);
      return stats.meanLength;
    });
    for (let level = 1; level < 5; level++) assert.ok(lengths[level]! > lengths[level - 1]!, `level ${level} slower: ${lengths.join(', ')}`);
  });
});

describe('Pendulum-v1', () => {
  it('has Gymnasium spaces and start distribution', () => {
    const env = makeStateEnv('Pendulum-v1', { numEnvs: 64 });
    assert.ok(env.actionSpace instanceof Box);
    assert.deepEqual([Array.from(env.actionSpace.low), Array.from(env.actionSpace.high)], [[-2], [2]]);
    assert.deepEqual(Array.from(env.observationSpace.high), [1, 1, 8]);
    env.reset(4);
    for (let i = 0; i < 64; i++) {
      const [th, thdot] = env.getState(i) as [number, number];
      assert.ok(Math.abs(th) <= Math.PI && Math.abs(thdot) <= 1);
    }
    // The action space does not move with the ladder.
    assert.deepEqual(Array.from((makeEnv('Pendulum-v1', { level: 4 }).actionSpace as Box).high), [2]);
  });

  it('stays inside its observation space under random actions, on every level', () => {
    for (let level = 0; level < 5; level++) assertObsInside('Pendulum-v1', level, 300);
  });

  it('charges the cost of the state before the step, with the angle normalized and the torque clipped', () => {
    const env = makeStateEnv('Pendulum-v1');
    env.reset(0);
    env.setState(0, [3 * Math.PI - 0.5, 1]);
    const r = env.step([5]);
    const normalized = Math.PI - 0.5;
    assert.ok(Math.abs(r.rewards[0]! - -(normalized ** 2 + 0.1 + 0.001 * 4)) < 1e-12);
    // θdot' = 1 + (15 sin θ + 3 · 2) · 0.05, θ' = θ + θdot' · 0.05.
    const thdot = 1 + (15 * Math.sin(3 * Math.PI - 0.5) + 6) * 0.05;
    const [th1, thdot1] = env.getState(0) as [number, number];
    assert.ok(Math.abs(thdot1 - thdot) < 1e-12);
    assert.ok(Math.abs(th1 - (3 * Math.PI - 0.5 + thdot * 0.05)) < 1e-12);
    assert.deepEqual(Array.from(r.obs), [Math.cos(th1), Math.sin(th1), thdot1].map(Math.fround));
  });

  it('clips angular velocity to ±8', () => {
    const env = makeStateEnv('Pendulum-v1');
    env.reset(0);
    env.setState(0, [Math.PI / 2, 7.9]);
    env.step([2]);
    assert.equal(env.getState(0)[1], 8);
  });

  it('never terminates and truncates at 200 steps', () => {
    const env = makeStateEnv('Pendulum-v1', { numEnvs: 4 });
    env.reset(5);
    for (let t = 1; t <= 200; t++) {
      const r = env.step([0, 1, -1, 2]);
      for (let i = 0; i < 4; i++) {
        assert.equal(r.terminated[i], 0);
        assert.equal(r.truncated[i], t === 200 ? 1 : 0, `step ${t}`);
      }
    }
    assert.equal(env.drainEpisodes().length, 4);
  });

  it('every level stays solvable, and stronger gravity with noise costs more', () => {
    // Level 4's torque noise (std 1 N·m against a 2 N·m motor) occasionally knocks even a balanced pendulum over.
    const minUpright = [1, 1, 1, 1, 0.98];
    const returns = [0, 1, 2, 3, 4].map((level) => {
      const n = 200;
      const env = makeStateEnv('Pendulum-v1', { numEnvs: n, level, ladder: 'v1' });
      const g = env.params.g as number;
      let obs = env.reset(11);
      const actions = new Float32Array(n);
      let total = 0;
      for (let t = 0; t < 200; t++) {
        for (let i = 0; i < n; i++) actions[i] = pendulumController(obs[3 * i]!, obs[3 * i + 1]!, obs[3 * i + 2]!, g);
        const r = env.step(actions);
        for (let i = 0; i < n; i++) total += r.rewards[i]!;
        obs = t === 199 ? r.finalObs : r.obs;
      }
      let upright = 0;
      for (let i = 0; i < n; i++) if (obs[3 * i]! > Math.cos(0.2)) upright++;
      assert.ok(upright / n >= minUpright[level]!, `level ${level}: ${upright}/${n} upright at the end`);
      return total / n;
    });
    for (let level = 1; level < 5; level++) assert.ok(returns[level]! < returns[level - 1]!, `level ${level} costs more: ${returns.join(', ')}`);
  });

});

describe('classic control: physical state', () => {
  it('setState/getState round-trip for every classic-control env', () => {
    const states: Record<string, number[]> = {
      'CartPole-v1': [0.1, -0.2, 0.03, 0.4],
      'MountainCar-v0': [-0.3, 0.01],
      'MountainCarContinuous-v0': [-0.3, 0.01],
      'Acrobot-v1': [0.3, -1.2, 2.5, -6.1],
      'Pendulum-v1': [2.5, -3.3],
    };
    for (const [id, state] of Object.entries(states)) {
      const env = makeStateEnv(id, { numEnvs: 3 });
      env.reset(0);
      env.setState(1, state);
      assert.equal(env.stateSize, state.length);
      assert.deepEqual(env.getState(1), state, id);
      const copy = env.getState(1);
      copy[0] = 42;
      assert.deepEqual(env.getState(1), state, `${id}: getState returns a copy`);
    }
  });
});

/** Swing up by pumping energy at full torque, then balance with gravity compensation and PD. */
function pendulumController(cos: number, sin: number, thdot: number, g: number): number {
  const th = Math.atan2(sin, cos);
  const energy = 0.5 * thdot * thdot + 1.5 * g * (cos - 1);
  const u = cos > 0.9 && Math.abs(thdot) < 4 ? (-1.5 * g * sin - 40 * th - 10 * thdot) / 3 : energy < 0 ? (thdot >= 0 ? 2 : -2) : 0;
  return Math.max(-2, Math.min(2, u));
}

function assertObsInside(id: string, level: number, steps: number): void {
  const n = 16;
  const env = makeEnv(id, { numEnvs: n, level });
  let obs = env.reset(level + 1);
  const actionRng = { state: 12345 };
  const next = (): number => ((actionRng.state = (actionRng.state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const actions = new Float32Array(n * env.actionSize);
  const one = new Float32Array(env.obsSize);
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < actions.length; i++) {
      actions[i] = env.actionSpace instanceof Discrete ? Math.floor(next() * env.actionSpace.n) : -3 + 6 * next();
    }
    const r = env.step(actions);
    for (const buffer of [r.obs, r.finalObs]) {
      for (let i = 0; i < n; i++) {
        if (buffer === r.finalObs && r.terminated[i] === 0 && r.truncated[i] === 0) continue;
        one.set(buffer.subarray(i * env.obsSize, (i + 1) * env.obsSize));
        assert.ok(env.observationSpace.contains(one), `${id} level ${level} step ${t}: ${Array.from(one)} outside ${env.observationSpace}`);
      }
    }
    obs = r.obs;
  }
  assert.ok(obs.every(Number.isFinite));
}

function rolloutStats(
  id: string,
  level: number,
  episodes: number,
  policy: (obs: Float32Array, i: number) => number[],
): { successRate: number; meanLength: number } {
  const n = 100;
  const env = makeEnv(id, { numEnvs: n, level, ladder: 'v1' });
  let obs = env.reset(level * 7 + 1);
  const actions = new Float32Array(n * env.actionSize);
  const finished: { length: number; terminated: boolean }[] = [];
  while (finished.length < episodes) {
    for (let i = 0; i < n; i++) actions.set(policy(obs, i), i * env.actionSize);
    obs = env.step(actions).obs;
    finished.push(...env.drainEpisodes());
  }
  const sample = finished.slice(0, episodes);
  return {
    successRate: sample.filter((e) => e.terminated).length / sample.length,
    meanLength: sample.reduce((sum, e) => sum + e.length, 0) / sample.length,
  };
}
