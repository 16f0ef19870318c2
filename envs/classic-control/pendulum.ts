/**
 * # Pendulum-v1
 *
 * A pendulum hangs from a motorised pivot; swing it up and keep it upright with as little effort as possible. The
 * motor is too weak to lift it directly, so it must be swung up.
 * Dynamics match Gymnasium's `Pendulum-v1` (semi-implicit Euler, float64 state, float32 observations).
 *
 * | obs | meaning                 | range                          |
 * |-----|-------------------------|--------------------------------|
 * | 0   | cos θ                   | [-1, 1]                        |
 * | 1   | sin θ                   | [-1, 1]                        |
 * | 2   | angular velocity θdot   | [-`maxSpeed`, `maxSpeed`] (8)  |
 *
 * θ is measured from upright (θ = 0 is the goal).
 *
 * - Actions: `Box(-maxTorque, maxTorque, (1,))`: the torque, clipped to ±`maxTorque` and rounded to float32 (the
 *   space's dtype, which is what Gymnasium receives from float32 Box actions) before it acts.
 * - Transition: θdot' = clip(θdot + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, ±maxSpeed); θ' = θ + θdot'·dt.
 * - Reward: -(normalize(θ)² + 0.1·θdot² + 0.001·u²), from the state before the step and the clipped torque u.
 * - Start: θ uniform in [-π, π], θdot uniform in [-1, 1].
 * - Episode end: never terminates; truncated at 200 steps.
 * - Params: the physical constants below, plus `torqueNoise`: Gaussian noise (std `torqueNoise × maxTorque`) added
 *   to the clipped torque before it acts; the effort cost is charged on the commanded torque.
 * - Difficulty ladder (v2, the default; written before measuring): observed reward noise, std
 *   0 / 1 / 2 / 4 / 8 on rewards in [-16.3, 0] per step. The noise is
 *   zero-mean and independent of the actions, so the expected gradient, the optimum and the (noiseless) episode
 *   returns are those of the standard task, while every advantage gains variance ∝ σ²: tr(Σ), and so B_simple, should
 *   rise with σ² and the task should need more samples. Observation and network are the same at every level.
 *   `env.ladder: "v1"` selects the round-one ladder:
 *   gravity grows (g 10 → 16) while torque noise grows (0 → 0.5 × maxTorque). Stronger gravity against the same
 *   motor needs more pumping swings before the pendulum is up, so the reward for being upright comes later (longer
 *   credit assignment), and it shrinks the angle the motor can hold (|θ| < 0.41 rad at g = 10, 0.25 at g = 16);
 *   torque noise makes the same policy land differently each episode (tr(Σ) up). Both raise B_simple. Gravity rather
 *   than a lower `maxTorque` keeps the action space `Box(-2, 2)` on every level, so one policy parametrisation
 *   serves the whole ladder. Every level stays solvable: an energy-pumping plus balancing controller is upright at
 *   the end of every episode on levels 0-3 and of over 99% on level 4, where the noise (std 1 N·m) now and then
 *   knocks a balanced pendulum over (see the tests).
 * - Version history: v1 (Gymnasium's v1 semantics: 200-step limit, g = 10 by default).
 */
import { defineEnv, REWARD_NOISE_PARAM, rewardNoiseLadder } from '../../src/core/env-spec.js';
import { Box } from '../../src/core/spaces.js';
import { ClassicControlEnv } from './base.js';

export interface PendulumParams {
  [key: string]: number;
  g: number;
  m: number;
  l: number;
  dt: number;
  maxSpeed: number;
  maxTorque: number;
  torqueNoise: number;
  rewardNoise: number;
}

const STATE_SIZE = 2;
const OBS_SIZE = 3;
const TWO_PI = 2 * Math.PI;

/** Gymnasium's `angle_normalize`: ((x + π) mod 2π) - π with Python's floored modulo. */
function angleNormalize(x: number): number {
  let r = (x + Math.PI) % TWO_PI;
  if (r < 0) r += TWO_PI;
  return r - Math.PI;
}

class Pendulum extends ClassicControlEnv<PendulumParams> {

  constructor(numEnvs: number, params: Readonly<PendulumParams>, maxEpisodeSteps: number) {
    super({
      id: 'Pendulum-v1',
      numEnvs,
      params,
      observationSpace: new Box([-1, -1, -params.maxSpeed], [1, 1, params.maxSpeed]),
      actionSpace: new Box(-params.maxTorque, params.maxTorque, [1]),
      maxEpisodeSteps,
      rewardNoise: params.rewardNoise,
    }, STATE_SIZE);
  }

  protected resetEnv(i: number): void {
    this.state[i * STATE_SIZE] = this.rng.range(-Math.PI, Math.PI);
    this.state[i * STATE_SIZE + 1] = this.rng.range(-1, 1);
    this.writeObs(i);
  }

  protected writeObs(i: number): void {
    const th = this.state[i * STATE_SIZE]!;
    const out = i * OBS_SIZE;
    this.obs[out] = Math.cos(th);
    this.obs[out + 1] = Math.sin(th);
    this.obs[out + 2] = this.state[i * STATE_SIZE + 1]!;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { g, m, l, dt, maxSpeed, maxTorque, torqueNoise } = this.params;
    const s = this.state;
    const rewards = this.rewards;
    const terminated = this.terminated;
    // Draw the noise before the loop: a call inside the hot loop slows the noiseless case too.
    const noise = torqueNoise > 0 ? this.gaussianNoise(torqueNoise * maxTorque) : null;
    // Same grouping as Gymnasium: (3 * g / (2 * l) * sin(th) + 3.0 / (m * l**2) * u) * dt.
    const gravityGain = (3 * g) / (2 * l);
    const torqueGain = 3.0 / (m * (l * l));
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * STATE_SIZE;
      const th = s[o]!;
      const thdot = s[o + 1]!;
      // Actions are float32, as the action space declares (and as Gymnasium sees them from float32 Box samples).
      const u = Math.fround(Math.min(Math.max(actions[i]!, -maxTorque), maxTorque));
      const normTh = angleNormalize(th);
      const cost = normTh * normTh + 0.1 * (thdot * thdot) + 0.001 * (u * u);
      const applied = noise === null ? u : u + noise[i]!;
      let newThdot = thdot + (gravityGain * Math.sin(th) + torqueGain * applied) * dt;
      newThdot = Math.min(Math.max(newThdot, -maxSpeed), maxSpeed);
      const newTh = th + newThdot * dt;
      s[o] = newTh;
      s[o + 1] = newThdot;
      this.writeObs(i);
      rewards[i] = -cost;
      terminated[i] = 0;
    }
  }
}

export const pendulum = defineEnv<PendulumParams>({
  id: 'Pendulum-v1',
  summary: 'Swing up an inverted pendulum and hold it upright with little torque (Gymnasium Pendulum-v1 dynamics).',
  params: {
    g: { default: 10.0, min: 0, doc: 'gravitational acceleration (m/s²)' },
    m: { default: 1.0, min: 0, exclusive: true, doc: 'pendulum mass (kg)' },
    l: { default: 1.0, min: 0, exclusive: true, doc: 'pendulum length (m)' },
    dt: { default: 0.05, min: 0, exclusive: true, doc: 'seconds per step' },
    maxSpeed: { default: 8, min: 0, exclusive: true, doc: 'θdot is clipped to ±maxSpeed (rad/s)' },
    maxTorque: { default: 2.0, min: 0, exclusive: true, doc: 'torque bound; also the action space bounds (N·m)' },
    torqueNoise: { default: 0, min: 0, doc: 'std of Gaussian noise on the applied torque, as a fraction of maxTorque' },
    rewardNoise: REWARD_NOISE_PARAM,
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  ...rewardNoiseLadder([1, 2, 4, 8], 'on rewards in [-16.3, 0] per step'),
  variants: {
    v1: {
      levels: [
        {},
        { g: 11.5, torqueNoise: 0.125 },
        { g: 13, torqueNoise: 0.25 },
        { g: 14.5, torqueNoise: 0.375 },
        { g: 16, torqueNoise: 0.5 },
      ],
      ladder: 'gravity up (10 → 16) against the same motor and torque noise up (0 → 0.5 × maxTorque): more swings before the pendulum is up (longer credit assignment), a smaller region it can be held in, and noisier outcomes',
    },
  },
  maxEpisodeSteps: () => 200,
  create: (numEnvs, params, maxEpisodeSteps) => new Pendulum(numEnvs, params, maxEpisodeSteps),
  classicControl: true,
});
