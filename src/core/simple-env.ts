/**
 * The easy path for user-written envs: write one episode's logic as a plain class, and `defineSimpleEnv` vectorizes it
 * (one instance per copy, stepped in a loop) behind the same `ArrayEnv` interface the built-ins use.
 * Slower than a hand-written struct-of-arrays env, but nothing else to learn. See `envs/examples/`.
 * The adapter sees the user's raw return values, so it is where a string or NaN reward or observation is caught with
 * the value as returned (before a typed array turns it into NaN).
 */
import type { EnvSpec, ParamSpec } from './env-spec.js';
import { EnvFaultError } from './errors.js';
import type { Rng } from './rng.js';
import type { Box, Space } from './spaces.js';
import { ArrayEnv, type EnvParams } from './vector-env.js';

export interface SimpleStep {
  obs: ArrayLike<number>;
  reward: number;
  terminated: boolean;
}

/** One copy of an environment. `rng` is the env's seeded stream: use it for all randomness. */
export interface SimpleEnv {
  reset(rng: Rng): ArrayLike<number>;
  /** `action` is an integer for Discrete action spaces, a Float32Array otherwise. */
  step(action: number | Float32Array, rng: Rng): SimpleStep;
}

export interface SimpleEnvDefinition<P extends EnvParams> {
  id: string;
  summary: string;
  params: { readonly [K in keyof P]: ParamSpec };
  levels: readonly Partial<P>[];
  ladder: string;
  maxEpisodeSteps: number | ((params: Readonly<P>) => number);
  observationSpace(params: Readonly<P>): Box;
  actionSpace(params: Readonly<P>): Space;
  create(params: Readonly<P>): SimpleEnv;
  validate?(params: Readonly<P>): void;
}

class SimpleVectorEnv<P extends EnvParams> extends ArrayEnv<P> {
  private readonly copies: SimpleEnv[];
  private readonly action: Float32Array;
  /** Vector steps since reset, for fault messages. */
  private steps = 0;

  constructor(definition: SimpleEnvDefinition<P>, numEnvs: number, params: Readonly<P>, maxEpisodeSteps: number) {
    super({
      id: definition.id,
      numEnvs,
      params,
      observationSpace: definition.observationSpace(params),
      actionSpace: definition.actionSpace(params),
      maxEpisodeSteps,
    });
    this.copies = Array.from({ length: numEnvs }, () => definition.create(params));
    this.action = new Float32Array(this.actionSize);
  }

  private write(i: number, obs: ArrayLike<number>): void {
    if (obs?.length !== this.obsSize) {
      throw new EnvFaultError(this.id, this.steps, i, `observation has ${obs?.length} values, expected ${this.obsSize}`);
    }
    for (let k = 0; k < obs.length; k++) {
      if (!Number.isFinite(obs[k])) throw new EnvFaultError(this.id, this.steps, i, `observation[${k}] is not a finite number`, obs[k]);
    }
    this.obs.set(obs, i * this.obsSize);
  }

  override reset(seed?: number): Float32Array {
    this.steps = 0;
    return super.reset(seed);
  }

  protected resetEnv(i: number): void {
    this.write(i, this.copies[i]!.reset(this.rng));
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    this.steps++;
    const discrete = this.actionSpace.type === 'Discrete';
    for (let i = 0; i < this.numEnvs; i++) {
      let action: number | Float32Array;
      if (discrete) action = actions[i]!;
      else {
        for (let j = 0; j < this.actionSize; j++) this.action[j] = actions[i * this.actionSize + j]!;
        action = this.action;
      }
      const out = this.copies[i]!.step(action, this.rng);
      if (!Number.isFinite(out.reward)) throw new EnvFaultError(this.id, this.steps, i, 'reward is not a finite number', out.reward);
      this.write(i, out.obs);
      this.rewards[i] = out.reward;
      this.terminated[i] = out.terminated ? 1 : 0;
    }
  }
}

export function defineSimpleEnv<P extends EnvParams>(definition: SimpleEnvDefinition<P>): EnvSpec<P> {
  const limit = definition.maxEpisodeSteps;
  const spec: EnvSpec<P> = {
    id: definition.id,
    summary: definition.summary,
    params: definition.params,
    levels: definition.levels,
    ladder: definition.ladder,
    maxEpisodeSteps: typeof limit === 'number' ? () => limit : limit,
    create: (numEnvs, params, maxEpisodeSteps) => new SimpleVectorEnv(definition, numEnvs, params, maxEpisodeSteps),
  };
  if (definition.validate) spec.validate = definition.validate;
  return spec;
}
