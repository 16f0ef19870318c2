/** The built-in environments, registered on first use of the registry. */
import type { EnvSpec } from '../src/env-spec.js';
import type { EnvParams } from '../src/vector-env.js';
import { cartPole } from './cartpole.js';

export const builtinEnvs: readonly EnvSpec<EnvParams>[] = [cartPole] as unknown as EnvSpec<EnvParams>[];
