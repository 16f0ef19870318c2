/** The built-in environments, registered on first use of the registry. */
import type { EnvSpec } from '../src/core/env-spec.js';
import type { EnvParams } from '../src/core/vector-env.js';
import { acrobot } from './classic-control/acrobot.js';
import { asterix } from './minatar/asterix.js';
import { breakout } from './minatar/breakout.js';
import { cartPole } from './classic-control/cartpole.js';
import { catchEnv } from './bsuite/catch.js';
import { deepSea } from './bsuite/deep-sea.js';
import { freeway } from './minatar/freeway.js';
import { gaussianBandit } from './bandits/gaussian-bandit.js';
import { memoryChain } from './bsuite/memory-chain.js';
import { mountainCarContinuous } from './classic-control/mountain-car-continuous.js';
import { mountainCar } from './classic-control/mountain-car.js';
import { pendulum } from './classic-control/pendulum.js';
import { seaquest } from './minatar/seaquest.js';
import { spaceInvaders } from './minatar/space-invaders.js';
import { umbrellaChain } from './bsuite/umbrella-chain.js';

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
  breakout,
  asterix,
  freeway,
  spaceInvaders,
  seaquest,
] as unknown as EnvSpec<EnvParams>[];
