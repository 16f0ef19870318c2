/** The agents, and `createAgent`, which picks one from the config's `algo`. */
import type { AgentConfig } from '../src/config/schema.js';
import { ConfigError } from '../src/core/errors.js';
import type { Rng } from '../src/core/rng.js';
import type { VectorEnv } from '../src/core/vector-env.js';
import { createA2cAgent } from './a2c.js';
import type { Agent } from './agent.js';
import { imageShape } from './conv.js';
import { createPpoAgent } from './ppo.js';
import { createRecurrentPpoAgent } from './recurrent-ppo.js';
import { createReinforceAgent } from './reinforce.js';

export type { Agent, UpdateStats } from './agent.js';
export { createA2cAgent, a2cLoss, type A2cAgent, type A2cBatch } from './a2c.js';
export { createPpoAgent, ppoLoss, type PpoAgent, type PpoBatch } from './ppo.js';
export { createReinforceAgent, reinforceLoss, type ReinforceAgent, type ReinforceBatch } from './reinforce.js';
export { ActorCritic, PlainForward, orthogonal, type DenseLayer, type ForwardResult } from './networks.js';
export type { AgentNoiseProbe, ProbeComponent } from './noise-probe.js';
export { createRecurrentPpoAgent, type RecurrentBatch, type RecurrentPpoAgent } from './recurrent-ppo.js';
export { RecurrentActorCritic } from './gru.js';

/**
 * Refuse (ConfigError at agent.network.torso, exit 2) a torso the env or algorithm cannot take: conv needs image
 * observations [H, W, C]; gru is PPO's only and needs a Discrete action space.
 */
export function checkTorso(config: AgentConfig, env: Pick<VectorEnv, 'id' | 'observationSpace' | 'actionSpace'>): void {
  const torso = config.network.torso;
  if (torso === 'conv') imageShape(env.observationSpace.shape, env.id);
  if (torso === 'gru' && config.algo !== 'ppo') throw new ConfigError('agent.network.torso', torso, `the GRU torso is trained by PPO only (agent.algo is ${config.algo})`);
  if (torso === 'gru' && env.actionSpace.type !== 'Discrete') throw new ConfigError('agent.network.torso', torso, `the GRU torso needs a Discrete action space; ${env.id} acts in ${env.actionSpace.type}`);
}

/**
 * The agent for `config.algo`. Seed the env (`env.reset(seed)`) before calling: the agent continues the env's stream
 * with one unseeded `reset()` to get its first observations. `rng` is the agent's own stream (split inside into
 * `init`, `action`, `minibatch`). The agent's tfjs backend is whatever is active; set it first.
 */
export function createAgent(config: AgentConfig, env: VectorEnv, rng: Rng): Agent {
  checkTorso(config, env);
  switch (config.algo) {
    case 'reinforce':
      return createReinforceAgent(config, env, rng) as Agent;
    case 'a2c':
      return createA2cAgent(config, env, rng) as Agent;
    case 'ppo':
      return (config.network.torso === 'gru' ? createRecurrentPpoAgent(config, env, rng) : createPpoAgent(config, env, rng)) as Agent;
  }
}
