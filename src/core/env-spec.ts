/**
 * What an environment module declares: its id, params (with defaults, bounds and docs), a difficulty ladder of five
 * levels (0 = the standard task), optionally other named ladders, and a factory. Built-ins live in `envs/`; users write the same thing (see
 * `envs/examples/`) and name the module in their config (`env.module`) or call `registerEnv`.
 */
import type { EnvParams, ParamValue, ArrayEnv } from './vector-env.js';

export interface ParamSpec {
  default: ParamValue;
  doc: string;
  min?: number;
  max?: number;
  /** When true, `min`/`max` are exclusive bounds. */
  exclusive?: boolean;
  integer?: boolean;
}

export interface EnvSpec<P extends EnvParams = EnvParams> {
  id: string;
  /** One line for `gradnoise envs`. */
  summary: string;
  params: { readonly [K in keyof P]: ParamSpec };
  /** Exactly five entries: the params each level sets on top of the defaults. Level 0 is the standard task. */
  levels: readonly Partial<P>[];
  /** Why higher levels should raise the gradient noise scale. */
  ladder: string;
  /** The name `env.ladder` selects the default ladder by (default `'default'`). */
  ladderName?: string;
  /** Other ladders, selected by `env.ladder` (the built-ins keep their round-one ladders as `v1`). */
  variants?: Readonly<Record<string, LadderVariant<P>>>;
  maxEpisodeSteps(params: Readonly<P>): number;
  create(numEnvs: number, params: Readonly<P>, maxEpisodeSteps: number): ArrayEnv<P>;
  /** Cross-param checks; throw `InvalidValueError` naming `env.params.<name>`. */
  validate?(params: Readonly<P>): void;
  /** Classic-control envs support `envs replay` (their ArrayEnv implements `PhysicalStateEnv`). */
  classicControl?: boolean;
}

/** A named alternative ladder: five levels and the reason they should raise the noise scale. */
export interface LadderVariant<P extends EnvParams = EnvParams> {
  levels: readonly Partial<P>[];
  ladder: string;
}

export const NUM_LEVELS = 5;

/** The name of the spec's default ladder. */
export function defaultLadderName(spec: { readonly ladderName?: string | undefined }): string {
  return spec.ladderName ?? 'default';
}

/** Every ladder name the spec accepts, the default first. */
export function ladderNames<P extends EnvParams>(spec: EnvSpec<P>): string[] {
  const names = [defaultLadderName(spec), ...Object.keys(spec.variants ?? {})];
  return [...new Set(names)];
}

/** The levels and reason of the named ladder (`undefined` = the default); `undefined` when the name is unknown. */
export function ladderOf<P extends EnvParams>(spec: EnvSpec<P>, name?: string): LadderVariant<P> | undefined {
  if (name === undefined || name === defaultLadderName(spec)) return { levels: spec.levels, ladder: spec.ladder };
  return spec.variants && Object.hasOwn(spec.variants, name) ? spec.variants[name] : undefined;
}

/** Identity helper that keeps `P` inferred from the `params` table. */
export function defineEnv<P extends EnvParams>(spec: EnvSpec<P>): EnvSpec<P> {
  return spec;
}

/**
 * For a built-in whose round-one ladder already follows the v2 rules (observation and network fixed across levels,
 * a knob that theory says raises the noise scale): its ladder is `v2`, and `v1` names the same levels, so that
 * `env.ladder: "v1"` selects the round-one ladder of every built-in.
 */
export function ladderKeptFromV1<P extends EnvParams>(spec: EnvSpec<P>): EnvSpec<P> {
  return { ...spec, ladderName: 'v2', variants: { ...spec.variants, v1: { levels: spec.levels, ladder: spec.ladder } } };
}

/** The `rewardNoise` param of the envs whose v2 ladder is observed reward noise (see `ArrayEnvOptions.rewardNoise`). */
export const REWARD_NOISE_PARAM: ParamSpec = { default: 0, min: 0, doc: 'std of Gaussian noise on the reward the agent sees (episode returns stay noiseless)' };

/**
 * A v2 ladder of observed reward noise: level 0 the standard task, levels 1..4 the given stds. `rewards` says what the
 * noise is added to (it goes into the stated reason). Zero-mean noise independent of the actions leaves the expected
 * gradient and the optimum as they were and adds variance ∝ σ² to every advantage, so B_simple should rise.
 */
export function rewardNoiseLadder<P extends EnvParams & { rewardNoise: number }>(
  stds: readonly [number, number, number, number],
  rewards: string,
): Pick<EnvSpec<P>, 'levels' | 'ladder' | 'ladderName'> {
  return {
    levels: [{}, ...stds.map((rewardNoise) => ({ rewardNoise }) as Partial<P>)],
    ladder:
      `reward noise 0 → ${stds[3]} (std, ${rewards}): the expected gradient and the optimum stay the same while every ` +
      'advantage gains variance ∝ σ², so tr(Σ), and with it B_simple, should rise',
    ladderName: 'v2',
  };
}
