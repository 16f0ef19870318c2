/**
 * # Acrobot-v1
 *
 * Two links hang from a fixed joint; only the joint between them is actuated. Swing the free end above a line one
 * link length above the fixed joint.
 * Dynamics match Gymnasium's `Acrobot-v1` ("book" equations of motion, one RK4 step of `dt` per action, float64
 * state, float32 observations), including the order of floating-point operations, because the system is chaotic
 * enough over hundreds of steps to magnify last-bit differences.
 *
 * | obs | meaning                     | range                       |
 * |-----|-----------------------------|-----------------------------|
 * | 0   | cos θ1                      | [-1, 1]                     |
 * | 1   | sin θ1                      | [-1, 1]                     |
 * | 2   | cos θ2                      | [-1, 1]                     |
 * | 3   | sin θ2                      | [-1, 1]                     |
 * | 4   | angular velocity dθ1        | [-`maxVel1`, `maxVel1`] (4π) |
 * | 5   | angular velocity dθ2        | [-`maxVel2`, `maxVel2`] (9π) |
 *
 * θ1 is the first link's angle from straight down, θ2 the second link's angle relative to the first.
 *
 * - Actions: `Discrete(3)`: torque -`torque`, 0 or +`torque` on the actuated joint.
 * - Transition: the torque (plus uniform noise in ±`torqueNoiseMax`) is held over one RK4 step of length `dt`;
 *   θ1, θ2 are then wrapped into [-π, π] and dθ1, dθ2 clipped to ±maxVel1, ±maxVel2.
 * - Reward: -1 for every step, 0 on the terminating step.
 * - Start: θ1, θ2, dθ1, dθ2 uniform in [-0.1, 0.1] (rounded to float32, as Gymnasium does).
 * - Episode end: terminated when -cos θ1 - cos(θ1 + θ2) > 1 (the free end is above the line); truncated at 500 steps.
 * - Params: the physical constants below. Gymnasium's second link length only affects rendering, so it is not a param.
 * - Difficulty ladder (v2, the default; written before measuring): observed reward noise, std
 *   0 / 0.5 / 1 / 2 / 4 on a reward of -1 per step. The noise is
 *   zero-mean and independent of the actions, so the expected gradient, the optimum and the (noiseless) episode
 *   returns are those of the standard task, while every advantage gains variance ∝ σ²: tr(Σ), and so B_simple, should
 *   rise with σ² and the task should need more samples. Observation and network are the same at every level.
 *   `env.ladder: "v1"` selects the round-one ladder:
 *   the motor weakens (torque 1 → 0.6) while torque noise grows (uniform in 0 → ±1, Gymnasium's `torque_noise_max`).
 *   A weaker motor needs more pumping swings before the tip clears the line, which lengthens episodes and the
 *   credit-assignment horizon; noisy torques make the same action sequence swing differently each episode, so
 *   returns of a fixed policy spread (tr(Σ) up). Both raise B_simple. Every level stays solvable well inside 500
 *   steps: pushing along dθ2 clears the line in about 85 steps on level 0 and 135 on level 4 (see the tests).
 * - Version history: v1 (Gymnasium's v1 semantics: 500-step limit, reward threshold -100, book dynamics).
 */
import { defineEnv, REWARD_NOISE_PARAM, rewardNoiseLadder } from '../../src/core/env-spec.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ClassicControlEnv } from './base.js';

export interface AcrobotParams {
  [key: string]: number;
  linkLength1: number;
  linkMass1: number;
  linkMass2: number;
  linkComPos1: number;
  linkComPos2: number;
  linkMoi: number;
  gravity: number;
  dt: number;
  maxVel1: number;
  maxVel2: number;
  torque: number;
  torqueNoiseMax: number;
  rewardNoise: number;
}

const STATE_SIZE = 4;
const OBS_SIZE = 6;
const PI = Math.PI;

/** Gymnasium's `wrap`: shift by whole periods until m <= x <= M. */
function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x = x - diff;
  while (x < m) x = x + diff;
  return x;
}

/** Gymnasium's `bound`: min(max(x, m), M). */
function bound(x: number, m: number, M: number): number {
  return Math.min(Math.max(x, m), M);
}

class Acrobot extends ClassicControlEnv<AcrobotParams> {
  /** Scratch for the time derivative of the augmented state [θ1, θ2, dθ1, dθ2, torque] (the last entry is 0). */
  private readonly deriv = new Float64Array(STATE_SIZE);

  constructor(numEnvs: number, params: Readonly<AcrobotParams>, maxEpisodeSteps: number) {
    const high = [1, 1, 1, 1, params.maxVel1, params.maxVel2];
    super({
      id: 'Acrobot-v1',
      numEnvs,
      params,
      observationSpace: new Box(
        high.map((h) => -h),
        high,
      ),
      actionSpace: new Discrete(3),
      maxEpisodeSteps,
      rewardNoise: params.rewardNoise,
    }, STATE_SIZE);
  }

  protected resetEnv(i: number): void {
    for (let k = 0; k < STATE_SIZE; k++) this.state[i * STATE_SIZE + k] = Math.fround(this.rng.range(-0.1, 0.1));
    this.writeObs(i);
  }

  protected writeObs(i: number): void {
    const s = this.state;
    const o = i * STATE_SIZE;
    const out = i * OBS_SIZE;
    this.obs[out] = Math.cos(s[o]!);
    this.obs[out + 1] = Math.sin(s[o]!);
    this.obs[out + 2] = Math.cos(s[o + 1]!);
    this.obs[out + 3] = Math.sin(s[o + 1]!);
    this.obs[out + 4] = s[o + 2]!;
    this.obs[out + 5] = s[o + 3]!;
  }

  /**
   * Gymnasium's `_dsdt` ("book" variant) into `this.deriv`, written with the same operation order so results agree
   * to the last bit.
   */
  private dsdt(theta1: number, theta2: number, dtheta1: number, dtheta2: number, a: number): void {
    const { linkMass1: m1, linkMass2: m2, linkLength1: l1, linkComPos1: lc1, linkComPos2: lc2, linkMoi, gravity: g } = this.params;
    const I1 = linkMoi;
    const I2 = linkMoi;
    const cos2 = Math.cos(theta2);
    const sin2 = Math.sin(theta2);
    const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + I1 + I2;
    const d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + I2;
    const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - PI / 2.0);
    const phi1 =
      -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin2 -
      2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2 +
      (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - PI / 2) +
      phi2;
    const ddtheta2 =
      (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin2 - phi2) / (m2 * (lc2 * lc2) + I2 - (d2 * d2) / d1);
    const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    const d = this.deriv;
    d[0] = dtheta1;
    d[1] = dtheta2;
    d[2] = ddtheta1;
    d[3] = ddtheta2;
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const { dt, maxVel1, maxVel2, torque: torqueMag, torqueNoiseMax } = this.params;
    const s = this.state;
    const d = this.deriv;
    const rewards = this.rewards;
    const terminatedFlags = this.terminated;
    // Draw the noise before the loop: a call inside the hot loop slows the noiseless case too.
    const noise = torqueNoiseMax > 0 ? this.uniformNoise(torqueNoiseMax) : null;
    // Gymnasium's rk4 over t = [0, dt]: dt2 = dt / 2, final update y0 + dt / 6 * (k1 + 2 k2 + 2 k3 + k4).
    const dt2 = dt / 2.0;
    const dt6 = dt / 6.0;
    for (let i = 0; i < this.numEnvs; i++) {
      const o = i * STATE_SIZE;
      const y0 = s[o]!;
      const y1 = s[o + 1]!;
      const y2 = s[o + 2]!;
      const y3 = s[o + 3]!;
      const push = (actions[i]! - 1) * torqueMag;
      const a = noise === null ? push : push + noise[i]!;
      // The torque is the fifth (constant) entry of the augmented state, so each stage sees the same `a`.
      this.dsdt(y0, y1, y2, y3, a);
      const k1a = d[0]!, k1b = d[1]!, k1c = d[2]!, k1d = d[3]!;
      this.dsdt(y0 + dt2 * k1a, y1 + dt2 * k1b, y2 + dt2 * k1c, y3 + dt2 * k1d, a);
      const k2a = d[0]!, k2b = d[1]!, k2c = d[2]!, k2d = d[3]!;
      this.dsdt(y0 + dt2 * k2a, y1 + dt2 * k2b, y2 + dt2 * k2c, y3 + dt2 * k2d, a);
      const k3a = d[0]!, k3b = d[1]!, k3c = d[2]!, k3d = d[3]!;
      this.dsdt(y0 + dt * k3a, y1 + dt * k3b, y2 + dt * k3c, y3 + dt * k3d, a);
      const k4a = d[0]!, k4b = d[1]!, k4c = d[2]!, k4d = d[3]!;
      const theta1 = wrap(y0 + dt6 * (k1a + 2 * k2a + 2 * k3a + k4a), -PI, PI);
      const theta2 = wrap(y1 + dt6 * (k1b + 2 * k2b + 2 * k3b + k4b), -PI, PI);
      const dtheta1 = bound(y2 + dt6 * (k1c + 2 * k2c + 2 * k3c + k4c), -maxVel1, maxVel1);
      const dtheta2 = bound(y3 + dt6 * (k1d + 2 * k2d + 2 * k3d + k4d), -maxVel2, maxVel2);
      s[o] = theta1;
      s[o + 1] = theta2;
      s[o + 2] = dtheta1;
      s[o + 3] = dtheta2;
      this.writeObs(i);
      const terminated = -Math.cos(theta1) - Math.cos(theta2 + theta1) > 1.0;
      rewards[i] = terminated ? 0 : -1;
      terminatedFlags[i] = terminated ? 1 : 0;
    }
  }
}

export const acrobot = defineEnv<AcrobotParams>({
  id: 'Acrobot-v1',
  summary: 'Swing up a two-link pendulum actuated only at its middle joint (Gymnasium Acrobot-v1 dynamics).',
  params: {
    linkLength1: { default: 1.0, min: 0, exclusive: true, doc: 'length of the first link (m)' },
    linkMass1: { default: 1.0, min: 0, exclusive: true, doc: 'mass of the first link (kg)' },
    linkMass2: { default: 1.0, min: 0, exclusive: true, doc: 'mass of the second link (kg)' },
    linkComPos1: { default: 0.5, min: 0, doc: 'distance from the fixed joint to the first link’s centre of mass (m)' },
    linkComPos2: { default: 0.5, min: 0, doc: 'distance from the middle joint to the second link’s centre of mass (m)' },
    linkMoi: { default: 1.0, min: 0, exclusive: true, doc: 'moment of inertia of each link (kg·m²)' },
    gravity: { default: 9.8, min: 0, doc: 'gravitational acceleration (m/s²)' },
    dt: { default: 0.2, min: 0, exclusive: true, doc: 'seconds per step (one RK4 step)' },
    maxVel1: { default: 4 * Math.PI, min: 0, exclusive: true, doc: 'dθ1 is clipped to ±maxVel1 (rad/s)' },
    maxVel2: { default: 9 * Math.PI, min: 0, exclusive: true, doc: 'dθ2 is clipped to ±maxVel2 (rad/s)' },
    torque: { default: 1.0, min: 0, exclusive: true, doc: 'torque magnitude of actions 0 (-) and 2 (+) (N·m)' },
    torqueNoiseMax: { default: 0, min: 0, doc: 'uniform noise in ±torqueNoiseMax added to every torque (N·m)' },
    rewardNoise: REWARD_NOISE_PARAM,
  },
  // v2 (the default): the reason below was written before any noise was measured on it (docs/science.md, ladders).
  ...rewardNoiseLadder([0.5, 1, 2, 4], 'on a reward of -1 per step'),
  variants: {
    v1: {
      levels: [
        {},
        { torque: 0.9, torqueNoiseMax: 0.25 },
        { torque: 0.8, torqueNoiseMax: 0.5 },
        { torque: 0.7, torqueNoiseMax: 0.75 },
        { torque: 0.6, torqueNoiseMax: 1.0 },
      ],
      ladder: 'motor torque down (1 → 0.6) and torque noise up (0 → ±1 uniform): more pumping before the tip clears the line (longer credit assignment) and noisier swings spread returns',
    },
  },
  maxEpisodeSteps: () => 500,
  create: (numEnvs, params, maxEpisodeSteps) => new Acrobot(numEnvs, params, maxEpisodeSteps),
  classicControl: true,
});
