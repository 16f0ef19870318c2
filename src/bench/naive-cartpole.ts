/**
 * The baseline for `bench envs`: CartPole written the naive way, one JS object per env, a fresh observation array
 * and result object per step, stepped in a loop by a Gymnasium-SyncVectorEnv-style driver. Same dynamics as
 * envs/cartpole.ts, so the ratio measures layout and allocation only.
 */
import type { Rng } from '../core/rng.js';

interface NaiveStep {
  obs: number[];
  reward: number;
  terminated: boolean;
  truncated: boolean;
}

class NaiveCartPole {
  state = [0, 0, 0, 0];
  steps = 0;
  constructor(private readonly rng: Rng) {}

  reset(): number[] {
    this.state = this.state.map(() => this.rng.range(-0.05, 0.05));
    this.steps = 0;
    return [...this.state];
  }

  step(action: number): NaiveStep {
    const gravity = 9.8;
    const massPole = 0.1;
    const totalMass = 1.0 + massPole;
    const length = 0.5;
    const poleMassLength = massPole * length;
    const tau = 0.02;
    const [x, xDot, theta, thetaDot] = this.state as [number, number, number, number];
    const force = action === 1 ? 10 : -10;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (gravity * sin - cos * temp) / (length * (4.0 / 3.0 - (massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    this.state = [x + tau * xDot, xDot + tau * xAcc, theta + tau * thetaDot, thetaDot + tau * thetaAcc];
    this.steps += 1;
    const limit = (12 * 2 * Math.PI) / 360;
    const terminated = Math.abs(this.state[0]!) > 2.4 || Math.abs(this.state[2]!) > limit;
    return { obs: [...this.state], reward: 1, terminated, truncated: !terminated && this.steps >= 500 };
  }
}

/** A SyncVectorEnv-like driver over naive env objects, with auto-reset. */
export class NaiveVectorCartPole {
  private readonly envs: NaiveCartPole[];
  constructor(numEnvs: number, rng: Rng) {
    this.envs = Array.from({ length: numEnvs }, () => new NaiveCartPole(rng));
    for (const env of this.envs) env.reset();
  }

  step(actions: ArrayLike<number>): { obs: number[][]; rewards: number[]; terminated: boolean[]; truncated: boolean[] } {
    const out = { obs: [] as number[][], rewards: [] as number[], terminated: [] as boolean[], truncated: [] as boolean[] };
    this.envs.forEach((env, i) => {
      const result = env.step(actions[i]!);
      out.obs.push(result.terminated || result.truncated ? env.reset() : result.obs);
      out.rewards.push(result.reward);
      out.terminated.push(result.terminated);
      out.truncated.push(result.truncated);
    });
    return out;
  }
}
