/** Tiny user-style envs for tests: a fixed observation size, Discrete(2) actions, and a step function given `t`. */
import { defineSimpleEnv, type SimpleStep } from '../../src/core/simple-env.js';
import { Box, Discrete } from '../../src/core/spaces.js';

/** A paramless simple env; `step(t)` gets the copy's step count (1-based) and returns what the copy returns. */
export function fixtureEnv(id: string, obsSize: number, step: (t: number) => SimpleStep, maxEpisodeSteps = 100) {
  return defineSimpleEnv<{ [key: string]: number }>({
    id,
    summary: 'test fixture',
    params: {},
    levels: [{}, {}, {}, {}, {}],
    ladder: 'none',
    maxEpisodeSteps,
    observationSpace: () => new Box(-1, 1, [obsSize]),
    actionSpace: () => new Discrete(2),
    create: () => {
      let t = 0;
      return { reset: () => new Array<number>(obsSize).fill(0), step: () => step(++t) };
    },
  });
}
