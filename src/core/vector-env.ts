/**
 * Vectorized environments with Gymnasium semantics.
 *
 * `VectorEnv` is the interface agents, wrappers and the trainer see. `ArrayEnv` is the base class of the built-in
 * envs: `numEnvs` copies live in struct-of-arrays typed buffers and advance in one loop per step. It owns what every
 * env shares (so subclasses write only physics):
 * - `terminated` (the task's own end) vs `truncated` (the time limit), never both;
 * - same-step auto-reset: where an episode ended, `obs` already holds the next episode's first observation and
 *   `finalObs` the last observation of the finished one (for bootstrapping truncated episodes);
 * - `reset(seed)` once, after which the random stream simply continues;
 * - episode statistics (return, length) for every finished episode;
 * - action validation with a clear error.
 *
 * Buffers returned by `reset`/`step` are owned by the env and overwritten by the next call: copy what you keep.
 */
import { InvalidActionError } from './errors.js';
import { Rng } from './rng.js';
import { Box, Discrete, type Space } from './spaces.js';

export type ParamValue = number | boolean;
export type EnvParams = Record<string, ParamValue>;

export interface StepResult {
  /** [numEnvs * obsSize] next observation; the new episode's first observation where an episode just ended. */
  readonly obs: Float32Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  /** [numEnvs * obsSize] last observation of the finished episode; meaningful only where terminated or truncated. */
  readonly finalObs: Float32Array;
}

export interface EpisodeRecord {
  env: number;
  return: number;
  length: number;
  terminated: boolean;
}

/** What agents, wrappers and the trainer see. Implemented by `ArrayEnv` and by wrappers. */
export interface VectorEnv {
  readonly id: string;
  readonly numEnvs: number;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  /** Flat size of one observation. */
  readonly obsSize: number;
  /** Flat size of one action: 1 for Discrete, the Box size otherwise. */
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;
  readonly params: Readonly<EnvParams>;
  reset(seed?: number): Float32Array;
  /** `actions` holds numEnvs * actionSize numbers (integers for Discrete). */
  step(actions: ArrayLike<number>): StepResult;
  /** Episodes finished since the last call, oldest first. */
  drainEpisodes(): EpisodeRecord[];
}

export interface ArrayEnvOptions<P extends EnvParams> {
  id: string;
  numEnvs: number;
  params: Readonly<P>;
  observationSpace: Box;
  actionSpace: Space;
  maxEpisodeSteps: number;
  /**
   * Std of zero-mean Gaussian noise added to the reward the agent sees, after the episode return is counted, so
   * returns (and scores) stay the task's own. Drawn from its own stream (`<seed>/rewardNoise`), so the task's
   * dynamics are the same with and without it. 0 (the default) draws nothing.
   */
  rewardNoise?: number;
}

export abstract class ArrayEnv<P extends EnvParams = EnvParams> implements VectorEnv {
  readonly id: string;
  readonly numEnvs: number;
  readonly params: Readonly<P>;
  readonly observationSpace: Box;
  readonly actionSpace: Space;
  readonly obsSize: number;
  readonly actionSize: number;
  readonly maxEpisodeSteps: number;

  protected readonly obs: Float32Array;
  protected readonly rewards: Float64Array;
  protected readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly finalObs: Float32Array;
  private readonly episodeReturn: Float64Array;
  private readonly episodeLength: Int32Array;
  private finished: EpisodeRecord[] = [];
  private readonly result: StepResult;
  /** The env's random stream; replaced by `reset(seed)`. */
  protected rng: Rng;
  private readonly rewardNoise: number;
  private rewardRng: Rng;
  private started = false;

  constructor(options: ArrayEnvOptions<P>) {
    if (!Number.isInteger(options.numEnvs) || options.numEnvs < 1) {
      throw new RangeError(`${options.id}: numEnvs must be a positive integer, got ${options.numEnvs}`);
    }
    this.id = options.id;
    this.numEnvs = options.numEnvs;
    this.params = Object.freeze({ ...options.params });
    this.observationSpace = options.observationSpace;
    this.actionSpace = options.actionSpace;
    this.obsSize = options.observationSpace.size;
    this.actionSize = options.actionSpace.size;
    this.maxEpisodeSteps = options.maxEpisodeSteps;
    const n = this.numEnvs;
    this.obs = new Float32Array(n * this.obsSize);
    this.finalObs = new Float32Array(n * this.obsSize);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.episodeReturn = new Float64Array(n);
    this.episodeLength = new Int32Array(n);
    this.rng = new Rng(0);
    this.rewardNoise = options.rewardNoise ?? 0;
    if (!(this.rewardNoise >= 0)) throw new RangeError(`${options.id}: rewardNoise must be >= 0, got ${options.rewardNoise}`);
    this.rewardRng = new Rng('0/rewardNoise');
    this.result = {
      obs: this.obs,
      rewards: this.rewards,
      terminated: this.terminated,
      truncated: this.truncated,
      finalObs: this.finalObs,
    };
  }

  /** Draw env `i`'s start state from `this.rng` and write its first observation into `this.obs`. */
  protected abstract resetEnv(i: number): void;

  /**
   * Advance every env by one step: write the post-step observation into `this.obs`, the reward into `this.rewards`
   * and 1/0 into `this.terminated`. Actions are already validated.
   */
  protected abstract stepEnvs(actions: ArrayLike<number>): void;

  reset(seed?: number): Float32Array {
    if (seed !== undefined) {
      this.rng = new Rng(seed);
      this.rewardRng = new Rng(`${seed}/rewardNoise`);
    }
    this.started = true;
    this.finished = [];
    this.episodeReturn.fill(0);
    this.episodeLength.fill(0);
    this.terminated.fill(0);
    this.truncated.fill(0);
    this.rewards.fill(0);
    for (let i = 0; i < this.numEnvs; i++) this.resetEnv(i);
    return this.obs;
  }

  step(actions: ArrayLike<number>): StepResult {
    if (!this.started) this.reset();
    this.validateActions(actions);
    this.stepEnvs(actions);
    // Locals, not fields: V8 cannot hoist field loads past the calls in the rare branch.
    const n = this.numEnvs;
    const size = this.obsSize;
    const limit = this.maxEpisodeSteps;
    const lengths = this.episodeLength;
    const returns = this.episodeReturn;
    const rewards = this.rewards;
    const terminatedFlags = this.terminated;
    const truncatedFlags = this.truncated;
    for (let i = 0; i < n; i++) {
      const length = lengths[i]! + 1;
      const episodeReturn = returns[i]! + rewards[i]!;
      const terminated = terminatedFlags[i] === 1;
      const truncated = !terminated && length >= limit;
      truncatedFlags[i] = truncated ? 1 : 0;
      if (terminated || truncated) {
        this.endEpisode(i, size, episodeReturn, length, terminated);
      } else {
        lengths[i] = length;
        returns[i] = episodeReturn;
      }
    }
    if (this.rewardNoise > 0) {
      const std = this.rewardNoise;
      for (let i = 0; i < n; i++) rewards[i]! += std * this.rewardRng.normal();
    }
    return this.result;
  }

  private endEpisode(i: number, size: number, episodeReturn: number, length: number, terminated: boolean): void {
    const obs = this.obs;
    const finalObs = this.finalObs;
    for (let k = i * size; k < (i + 1) * size; k++) finalObs[k] = obs[k]!;
    this.finished.push({ env: i, return: episodeReturn, length, terminated });
    this.episodeReturn[i] = 0;
    this.episodeLength[i] = 0;
    this.resetEnv(i);
  }

  drainEpisodes(): EpisodeRecord[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  /** Steps taken in each env's current episode. */
  episodeSteps(i: number): number {
    return this.episodeLength[i]!;
  }

  private validateActions(actions: ArrayLike<number>): void {
    const expected = this.numEnvs * this.actionSize;
    if (actions.length !== expected) {
      throw new InvalidActionError(this.id, -1, `${actions.length} values`, `${expected} values (numEnvs * actionSize)`);
    }
    const space = this.actionSpace;
    if (space instanceof Discrete) {
      const n = space.n;
      for (let i = 0; i < expected; i++) {
        const a = actions[i]!;
        if (!(a >= 0 && a < n && Math.floor(a) === a)) {
          throw new InvalidActionError(this.id, i, a, `an integer in [0, ${n - 1}] for ${space}`);
        }
      }
    } else {
      for (let i = 0; i < expected; i++) {
        if (!Number.isFinite(actions[i]!)) {
          throw new InvalidActionError(this.id, i, actions[i], `a finite number for ${space}`);
        }
      }
    }
  }
}

/**
 * Classic-control envs can be put into an exact physical state (Gymnasium's `env.state` layout), which is what
 * side-by-side tests and `gradnoise envs replay` use.
 */
export interface PhysicalStateEnv {
  readonly stateSize: number;
  /** Set env `i`'s physical state and rewrite its observation. */
  setState(i: number, state: ArrayLike<number>): void;
  /** A copy of env `i`'s physical state. */
  getState(i: number): number[];
}

export function hasPhysicalState(env: unknown): env is PhysicalStateEnv & VectorEnv {
  return typeof (env as Partial<PhysicalStateEnv>).setState === 'function' && typeof (env as Partial<PhysicalStateEnv>).stateSize === 'number';
}
