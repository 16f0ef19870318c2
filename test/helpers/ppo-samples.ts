/** A dense ActorCritic and a random PPO minibatch for it, far enough from the net's policy and values that both clipped branches of the loss are taken. */
import { ActorCritic } from '../../agents/networks.js';
import type { SampleArrays } from '../../agents/samples.js';
import { networkSection } from '../../src/config/schema.js';
import { Rng } from '../../src/core/rng.js';
import { Box, Discrete, type Space } from '../../src/core/spaces.js';

export const PPO_CASE_ROWS = 64;
export const PPO_CASE_OBS = 4;

export function ppoCase(seed: string, space: Space, network: Record<string, unknown>): { net: ActorCritic; samples: SampleArrays } {
  const rng = new Rng(seed);
  const net = new ActorCritic(PPO_CASE_OBS, space, networkSection.parse(network), rng.split('init'), { value: true });
  const n = PPO_CASE_ROWS;
  const actionSize = space instanceof Box ? space.size : 1;
  const samples: SampleArrays = {
    obs: Float32Array.from({ length: n * PPO_CASE_OBS }, () => rng.normal()),
    actions: Float32Array.from({ length: n * actionSize }, () => (space instanceof Discrete ? rng.int(space.n) : rng.normal())),
    advantages: Float32Array.from({ length: n }, () => rng.normal()),
    returns: Float32Array.from({ length: n }, () => rng.normal()),
    oldLogProbs: Float32Array.from({ length: n }, () => -1 + 0.8 * rng.normal()),
    oldValues: Float32Array.from({ length: n }, () => 0.6 * rng.normal()),
  };
  return { net, samples };
}
