/**
 * Wrappers usable on any env from the config (`env.wrappers`). Each one is a probe of gradient noise:
 * - `rewardNoise` adds N(0, std²) to every reward: raises tr(Σ) and leaves G unchanged, so B_simple should rise;
 * - `rewardScale` multiplies rewards: scales tr(Σ) and |G|² alike, so B_simple should not move (an invariance test);
 * - `obsNoise` adds N(0, std²) to observations (partial observability);
 * - `stickyActions` repeats the previous action with probability `prob` (Machado et al. 2018).
 * Episode statistics stay those of the underlying task (clean rewards), so learning curves remain comparable.
 *
 * `checkEnvOutputs` is not a config wrapper: the registry puts it around every env that is not built in, to turn a
 * user env's bad output or throw into an `EnvFaultError` at the step where it happened.
 */
import { z } from 'zod';
import { EnvFaultError, errorLine, GradnoiseError } from './errors.js';
import { Rng } from './rng.js';
import type { EpisodeRecord, StepResult, VectorEnv } from './vector-env.js';

export const wrapperSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('rewardNoise'), std: z.number().min(0) }),
  z.strictObject({ type: z.literal('rewardScale'), scale: z.number().refine(Number.isFinite, 'must be finite') }),
  z.strictObject({ type: z.literal('obsNoise'), std: z.number().min(0) }),
  z.strictObject({ type: z.literal('stickyActions'), prob: z.number().min(0).max(1) }),
]);

export type WrapperConfig = z.infer<typeof wrapperSchema>;

abstract class VecEnvWrapper implements VectorEnv {
  protected readonly inner: VectorEnv;
  protected rng: Rng;
  private readonly streamName: string;

  constructor(inner: VectorEnv, streamName: string) {
    this.inner = inner;
    this.streamName = streamName;
    this.rng = new Rng(`0/${streamName}`);
  }
  get id(): string {
    return this.inner.id;
  }
  get numEnvs(): number {
    return this.inner.numEnvs;
  }
  get observationSpace() {
    return this.inner.observationSpace;
  }
  get actionSpace() {
    return this.inner.actionSpace;
  }
  get obsSize(): number {
    return this.inner.obsSize;
  }
  get actionSize(): number {
    return this.inner.actionSize;
  }
  get maxEpisodeSteps(): number {
    return this.inner.maxEpisodeSteps;
  }
  get params() {
    return this.inner.params;
  }
  reset(seed?: number): Float32Array {
    if (seed !== undefined) this.rng = new Rng(`${seed}/${this.streamName}`);
    return this.inner.reset(seed);
  }
  step(actions: ArrayLike<number>): StepResult {
    return this.inner.step(actions);
  }
  drainEpisodes(): EpisodeRecord[] {
    return this.inner.drainEpisodes();
  }
}

class RewardNoise extends VecEnvWrapper {
  constructor(inner: VectorEnv, private readonly std: number, depth: number) {
    super(inner, `wrapper${depth}/rewardNoise`);
  }
  override step(actions: ArrayLike<number>): StepResult {
    const result = this.inner.step(actions);
    const rewards = result.rewards as Float64Array;
    for (let i = 0; i < rewards.length; i++) rewards[i]! += this.std * this.rng.normal();
    return result;
  }
}

class RewardScale extends VecEnvWrapper {
  constructor(inner: VectorEnv, private readonly scale: number, depth: number) {
    super(inner, `wrapper${depth}/rewardScale`);
  }
  override step(actions: ArrayLike<number>): StepResult {
    const result = this.inner.step(actions);
    const rewards = result.rewards as Float64Array;
    for (let i = 0; i < rewards.length; i++) rewards[i]! *= this.scale;
    return result;
  }
}

class ObsNoise extends VecEnvWrapper {
  private readonly obs: Float32Array;
  private readonly finalObs: Float32Array;
  constructor(inner: VectorEnv, private readonly std: number, depth: number) {
    super(inner, `wrapper${depth}/obsNoise`);
    this.obs = new Float32Array(inner.numEnvs * inner.obsSize);
    this.finalObs = new Float32Array(inner.numEnvs * inner.obsSize);
  }
  private noisy(source: Float32Array, target: Float32Array, from: number, to: number): void {
    for (let k = from; k < to; k++) target[k] = source[k]! + this.std * this.rng.normal();
  }
  override reset(seed?: number): Float32Array {
    const obs = super.reset(seed);
    this.noisy(obs, this.obs, 0, obs.length);
    return this.obs;
  }
  override step(actions: ArrayLike<number>): StepResult {
    const result = this.inner.step(actions);
    const size = this.obsSize;
    this.noisy(result.obs, this.obs, 0, this.obs.length);
    for (let i = 0; i < this.numEnvs; i++) {
      if (result.terminated[i] || result.truncated[i]) this.noisy(result.finalObs, this.finalObs, i * size, (i + 1) * size);
    }
    return { ...result, obs: this.obs, finalObs: this.finalObs };
  }
}

class StickyActions extends VecEnvWrapper {
  private readonly previous: Float64Array;
  private readonly executed: Float64Array;
  private readonly hasPrevious: Uint8Array;
  constructor(inner: VectorEnv, private readonly prob: number, depth: number) {
    super(inner, `wrapper${depth}/stickyActions`);
    this.previous = new Float64Array(inner.numEnvs * inner.actionSize);
    this.executed = new Float64Array(inner.numEnvs * inner.actionSize);
    this.hasPrevious = new Uint8Array(inner.numEnvs);
  }
  override reset(seed?: number): Float32Array {
    this.hasPrevious.fill(0);
    return super.reset(seed);
  }
  override step(actions: ArrayLike<number>): StepResult {
    const size = this.actionSize;
    for (let i = 0; i < this.numEnvs; i++) {
      const sticky = this.hasPrevious[i] === 1 && this.rng.uniform() < this.prob;
      for (let j = i * size; j < (i + 1) * size; j++) this.executed[j] = sticky ? this.previous[j]! : actions[j]!;
    }
    const result = this.inner.step(this.executed);
    this.previous.set(this.executed);
    for (let i = 0; i < this.numEnvs; i++) {
      // A new episode starts without a previous action to repeat.
      this.hasPrevious[i] = result.terminated[i] || result.truncated[i] ? 0 : 1;
    }
    return result;
  }
}

/**
 * The boundary to user code: every observation and reward must be a finite number, and a throw inside the env's
 * `reset`/`step` becomes an EnvFaultError naming the env and the step (our own typed errors pass through). Costs one
 * pass over the step's outputs; built-in envs are trusted and run without it.
 */
class CheckedEnv extends VecEnvWrapper {
  private steps = 0;
  constructor(inner: VectorEnv) {
    super(inner, 'checked');
  }
  override reset(seed?: number): Float32Array {
    this.steps = 0;
    const obs = this.guard(() => super.reset(seed), 'reset()');
    this.checkObs(obs, 0, this.numEnvs);
    return obs;
  }
  override step(actions: ArrayLike<number>): StepResult {
    this.steps++;
    const result = this.guard(() => this.inner.step(actions), 'step()');
    const { rewards, terminated, truncated } = result;
    for (let i = 0; i < rewards.length; i++) {
      if (!Number.isFinite(rewards[i]!)) throw new EnvFaultError(this.id, this.steps, i, 'reward is not a finite number', rewards[i]);
    }
    this.checkObs(result.obs, 0, this.numEnvs);
    for (let i = 0; i < this.numEnvs; i++) {
      if (terminated[i] || truncated[i]) this.checkObs(result.finalObs, i, i + 1, 'final ');
    }
    return result;
  }
  private checkObs(obs: Float32Array, from: number, to: number, label = ''): void {
    const size = this.obsSize;
    for (let k = from * size; k < to * size; k++) {
      if (!Number.isFinite(obs[k]!)) {
        throw new EnvFaultError(this.id, this.steps, Math.floor(k / size), `${label}observation[${k % size}] is not a finite number`, obs[k]);
      }
    }
  }
  private guard<T>(call: () => T, what: string): T {
    try {
      return call();
    } catch (error) {
      if (error instanceof GradnoiseError) throw error;
      throw new EnvFaultError(this.id, this.steps, null, `${what} threw ${errorLine(error)}`);
    }
  }
}

export function checkEnvOutputs(env: VectorEnv): VectorEnv {
  return new CheckedEnv(env);
}

/** Wrap `env` with each wrapper in order (the first listed is innermost). */
export function applyWrappers(env: VectorEnv, wrappers: readonly WrapperConfig[]): VectorEnv {
  let wrapped = env;
  wrappers.forEach((config, depth) => {
    switch (config.type) {
      case 'rewardNoise':
        wrapped = new RewardNoise(wrapped, config.std, depth);
        break;
      case 'rewardScale':
        wrapped = new RewardScale(wrapped, config.scale, depth);
        break;
      case 'obsNoise':
        wrapped = new ObsNoise(wrapped, config.std, depth);
        break;
      case 'stickyActions':
        wrapped = new StickyActions(wrapped, config.prob, depth);
        break;
    }
  });
  return wrapped;
}
