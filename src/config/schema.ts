/**
 * The run config: one zod schema per section, the single source of truth for types, defaults, help text and errors.
 * Unknown keys are errors. Validation of user input lives in `load.ts`; everything past it takes the frozen, typed
 * `RunConfig`.
 */
import { z } from 'zod';
import { wrapperSchema } from '../core/wrappers.js';

const positiveInt = z.number().int().positive();

/** Deepest `agent.network.hidden` stack accepted. */
export const MAX_HIDDEN_LAYERS = 64;
const nonNegative = z.number().min(0);

export const envSection = z.strictObject({
  id: z.string().min(1).describe('registered env id, e.g. CartPole-v1'),
  module: z.string().min(1, 'must name a module file (got an empty path)').optional().describe('path to a user env module (relative to the config file) that exports an env spec'),
  numEnvs: positiveInt.default(1).describe('parallel copies of the env'),
  level: z.number().int().min(0).max(4).default(0).describe('difficulty level 0..4 (0 = standard task)'),
  ladder: z.string().min(1).optional().describe("which difficulty ladder `level` indexes (default: the env's own, v2 for the built-ins; v1 = the round-one ladders; `gradnoise envs` lists them)"),
  params: z.record(z.string(), z.union([z.number(), z.boolean()])).default({}).describe('raw env params, applied over the level'),
  maxEpisodeSteps: positiveInt.optional().describe("time limit override (default: the env's own)"),
  wrappers: z.array(wrapperSchema).default([]).describe('rewardNoise | rewardScale | obsNoise | stickyActions, innermost first'),
});

export const networkSection = z.strictObject({
  torso: z
    .enum(['mlp', 'conv', 'gru'])
    .default('mlp')
    .describe('mlp: the hidden stack on the flat observation | conv: image observations [H, W, C] go through a 3×3, 16-channel valid conv + ReLU (MinAtar) before the hidden stack (MinAtar: hidden [128], relu) | gru: one GRU layer (recurrentHidden units) feeding linear heads, trained over whole env segments (PPO only; hidden is unused)'),
  recurrentHidden: positiveInt.default(64).describe('GRU state size (torso gru)'),
  hidden: z.array(positiveInt).max(MAX_HIDDEN_LAYERS, `at most ${MAX_HIDDEN_LAYERS} hidden layers: deeper plain MLPs do not train here (a 3,000-layer one has a non-finite gradient at its first update)`).default([64, 64]).describe('hidden layer sizes'),
  activation: z.enum(['tanh', 'relu']).default('tanh').describe('hidden-layer activation'),
  shared: z.boolean().default(false).describe('actor and critic share the hidden trunk'),
  policyGain: z.number().positive().default(0.01).describe('orthogonal init gain of the policy head'),
  valueGain: z.number().positive().default(1).describe('orthogonal init gain of the value head'),
  logStdInit: z.number().default(0).describe('initial log-std of Gaussian policies'),
});

export const optimizerSection = z.strictObject({
  type: z.enum(['sgd', 'momentum', 'adam', 'rmsprop']).default('adam').describe('optimizer (a2c defaults to rmsprop)'),
  momentum: z.number().min(0).max(1).default(0.9).describe('momentum coefficient (momentum)'),
  beta1: z.number().min(0).lt(1, 'must be < 1: Adam divides by 1 − beta1^t, which is 0 at beta1 = 1').default(0.9).describe('Adam beta1, in [0, 1)'),
  beta2: z.number().min(0).lt(1, 'must be < 1: Adam divides by 1 − beta2^t, which is 0 at beta2 = 1').default(0.999).describe('Adam beta2, in [0, 1)'),
  decay: z.number().min(0).lt(1, 'must be < 1: at decay = 1 the squared-gradient average never leaves 0').default(0.99).describe('RMSProp decay, in [0, 1)'),
  eps: z.number().positive().default(1e-5).describe('Adam/RMSProp epsilon'),
});

const agentCommon = {
  lr: z.number().min(0).describe('learning rate'),
  annealLr: z.boolean().default(false).describe('anneal lr linearly to 0 over the run'),
  numSteps: positiveInt.describe('rollout length per env; batch = numEnvs × numSteps'),
  gamma: z.number().min(0).max(1).default(0.99).describe('discount factor'),
  entCoef: nonNegative.default(0).describe('entropy bonus coefficient'),
  vfCoef: nonNegative.default(0.5).describe('value-loss coefficient'),
  maxGradNorm: nonNegative.default(0).describe('global gradient-norm clip (0 = off)'),
  normAdv: z.boolean().default(false).describe('normalize advantages per (mini)batch'),
  network: networkSection.default(networkSection.parse({})).describe('policy/value networks (below)'),
  optimizer: optimizerSection.default(optimizerSection.parse({})).describe('optimizer settings (below)'),
};

export const reinforceSection = z.strictObject({
  algo: z.literal('reinforce').describe('REINFORCE: Monte-Carlo returns over complete episodes'),
  ...agentCommon,
  lr: agentCommon.lr.default(0.01),
  numSteps: agentCommon.numSteps.default(128),
  baseline: z.enum(['none', 'mean', 'value']).default('mean').describe('none | running mean return | learned value'),
});

export const a2cSection = z.strictObject({
  algo: z.literal('a2c').describe('advantage actor-critic, one gradient step per rollout'),
  ...agentCommon,
  lr: agentCommon.lr.default(7e-4),
  numSteps: agentCommon.numSteps.default(5),
  gaeLambda: z.number().min(0).max(1).default(1).describe('1 = plain n-step returns'),
  entCoef: nonNegative.default(0.01).describe('entropy bonus coefficient'),
  maxGradNorm: nonNegative.default(0.5).describe('global gradient-norm clip (0 = off)'),
  optimizer: optimizerSection.default(optimizerSection.parse({ type: 'rmsprop' })).describe('optimizer settings (RMSProp by default)'),
});

export const ppoSection = z.strictObject({
  algo: z.literal('ppo').describe('PPO with the clipped surrogate (CleanRL semantics)'),
  ...agentCommon,
  lr: agentCommon.lr.default(2.5e-4),
  numSteps: agentCommon.numSteps.default(128),
  annealLr: z.boolean().default(true).describe('anneal lr linearly to 0 over the run'),
  gaeLambda: z.number().min(0).max(1).default(0.95).describe('GAE lambda'),
  updateEpochs: positiveInt.default(4).describe('passes over the rollout per update'),
  numMinibatches: positiveInt.default(4).describe('minibatches per epoch'),
  clipCoef: z.number().positive().default(0.2).describe('surrogate clipping range'),
  clipVloss: z.boolean().default(true).describe('clip the value loss like the surrogate'),
  entCoef: nonNegative.default(0.01).describe('entropy bonus coefficient'),
  maxGradNorm: nonNegative.default(0.5).describe('global gradient-norm clip (0 = off)'),
  normAdv: z.boolean().default(true).describe('normalize advantages per minibatch'),
  targetKl: z.number().positive().optional().describe('stop the epochs early past this approximate KL'),
});

export const agentSection = z.discriminatedUnion('algo', [reinforceSection, a2cSection, ppoSection]);

export const monitorSection = z.strictObject({
  enabled: z.boolean().default(true).describe('measure the gradient noise scale'),
  every: positiveInt.default(2).describe('measure every N updates (1 doubles the measurements, and the cost)'),
  grouping: z
    .enum(['block', 'sample', 'segment', 'episode', 'microbatch'])
    .default('block')
    .describe('groups of the two-batch estimator: blocks of each env segment (correlation-aware) | single samples | whole segments | episodes (REINFORCE only) | random micro-batches'),
  blockSteps: positiveInt.optional().describe('block length in env steps for grouping = block (default: 2 × the measured autocorrelation time)'),
  microBatch: positiveInt.default(8).describe('samples per group when grouping = microbatch'),
  method: z.enum(['fast', 'fallback']).default('fast').describe('one-pass per-sample norms, or micro-batch autodiff'),
  emaHorizon: z.number().positive().default(20000).describe('EMA horizon in env steps: a measurement s env steps old has weight exp(-s/horizon)'),
  windowSteps: z
    .union([z.number().positive(), z.literal('auto')])
    .default('auto')
    .describe('ratio-of-means window in env steps (auto: 100 measurements, enough to resolve B_simple ≈ 10 × batch)'),
  window: positiveInt.default(10).describe('measurements per matched-progress window of the sweep/report analysis'),
  confidence: z.number().gt(0).lt(1).default(0.95).describe('two-sided confidence of the intervals; resolved = the denominator (|G|², GᵀHG) significantly > 0 at this level'),
  perLayer: z.boolean().default(false).describe('also report B_simple per dense layer'),
  preconditioned: z.boolean().default(false).describe('also report tr(PΣP)/|PG|² (and with bNoise tr(PHPΣ)/GᵀPHPG) with Adam/RMSProp preconditioner P'),
  bNoise: z.boolean().default(false).describe('also measure B_noise = tr(HΣ)/GᵀHG by Hessian-vector products (policy and value)'),
  bNoiseEvery: positiveInt.default(10).describe('measure B_noise every N updates (at measurements that fall on them)'),
  bNoiseUnits: z.number().int().min(3).default(4).describe('direction units per half of the envs for B_noise (each costs 4 curvature passes over half the batch)'),
  bNoiseEpsilon: z.number().positive().default(1e-2).describe('step of the central-difference Hessian-vector products, in parameter space'),
});

export const runSection = z.strictObject({
  totalSteps: positiveInt.default(100000).describe('env steps to train for, rounded up to whole updates (env.numEnvs × agent.numSteps each); at least one update'),
  seed: z.number().int().min(0).default(1).describe('root seed: fixes env, init, sampling and minibatch order'),
  logEvery: positiveInt.default(1).describe('write a metrics row every N updates'),
  stopAtReturn: z
    .number()
    .finite()
    .optional()
    .describe('stop (completed) once the post-update return (mean of the next stopEpisodes episodes) reaches this; critical-batch sets it to its highest target'),
  stopEpisodes: positiveInt.optional().describe('episodes averaged by the stopAtReturn estimate (default 10)'),
  checkpointEvery: z
    .number()
    .int()
    .min(0)
    .default(50)
    .describe('write checkpoint.json every N updates (and when interrupted), for `gradnoise train --resume`; 0 = never'),
  backend: z
    .enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'])
    .default('auto')
    .describe('tfjs backend; auto = tensorflow (tfjs-node-gpu) if installed, else webgpu on a real GPU adapter, else wasm, else cpu'),
  webgpuSoftware: z
    .boolean()
    .default(false)
    .describe('backend webgpu may use a software adapter (Mesa llvmpipe, SwiftShader) when no GPU is found; also GRADNOISE_WEBGPU_SOFTWARE=1; never for auto'),
  name: z
    .string()
    .regex(/^(?!\.\.?$)[^/\\\0]+$/, "must be a plain folder name inside results/ (no '/', '\\', '.' or '..')")
    .optional()
    .describe('run folder name inside results/ (default env__algo__seed__time)'),
});

export const configSchema = z.strictObject({
  env: envSection,
  agent: agentSection,
  monitor: monitorSection.default(monitorSection.parse({})),
  run: runSection.default(runSection.parse({})),
  meta: z.record(z.string(), z.unknown()).optional().describe("written by gradnoise into a run's config.json (backend, version, start time); ignored on input"),
});

export type RunConfig = z.infer<typeof configSchema>;
export type EnvConfig = RunConfig['env'];
export type AgentConfig = RunConfig['agent'];
export type PpoConfig = z.infer<typeof ppoSection>;
export type A2cConfig = z.infer<typeof a2cSection>;
export type ReinforceConfig = z.infer<typeof reinforceSection>;
export type NetworkConfig = z.infer<typeof networkSection>;
export type OptimizerConfig = z.infer<typeof optimizerSection>;
export type MonitorConfig = RunConfig['monitor'];
export type RunSection = RunConfig['run'];
