/**
 * What an environment module declares: its id, params (with defaults, bounds and docs), a difficulty ladder of five
 * levels (0 = the standard task) and a factory. Built-ins live in `envs/`; users write the same thing (see
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
  maxEpisodeSteps(params: Readonly<P>): number;
  create(numEnvs: number, params: Readonly<P>, maxEpisodeSteps: number): ArrayEnv<P>;
  /** Cross-param checks; throw `InvalidValueError` naming `env.params.<name>`. */
  validate?(params: Readonly<P>): void;
  /** Classic-control envs support `envs replay` (their ArrayEnv implements `PhysicalStateEnv`). */
  classicControl?: boolean;
}

export const NUM_LEVELS = 5;

/** Identity helper that keeps `P` inferred from the `params` table. */
export function defineEnv<P extends EnvParams>(spec: EnvSpec<P>): EnvSpec<P> {
  return spec;
}
