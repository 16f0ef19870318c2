/** The built-in environments, registered on first use of the registry. */
import type { EnvSpec } from '../src/env-spec.js';
import type { EnvParams } from '../src/vector-env.js';
import { acrobot } from './acrobot.js';
import { cartPole } from './cartpole.js';
import { catchEnv } from './catch.js';
import { deepSea } from './deep-sea.js';
import { gaussianBandit } from './gaussian-bandit.js';
import { memoryChain } from './memory-chain.js';
import { mountainCarContinuous } from './mountain-car-continuous.js';
import { mountainCar } from './mountain-car.js';
import { pendulum } from './pendulum.js';
import { umbrellaChain } from './umbrella-chain.js';

export const builtinEnvs: readonly EnvSpec<EnvParams>[] = [
  cartPole,
  mountainCar,
  mountainCarContinuous,
  acrobot,
  pendulum,
  gaussianBandit,
  catchEnv,
  deepSea,
  memoryChain,
  umbrellaChain,
] as unknown as EnvSpec<EnvParams>[];
