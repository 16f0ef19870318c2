/**
 * `gradnoise envs [--json]`, `gradnoise envs replay --env ID --state JSON --actions JSON` and
 * `gradnoise envs rollout --env ID [--level L] [--params JSON] [--policy random|constant:K] [--episodes N] [--seed S] [--json]`.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InvalidValueError } from '../../core/errors.js';
import { defaultLadderName } from '../../core/env-spec.js';
import { describeLevels, envIds, getEnvSpec, makeEnv } from '../../run/registry.js';
import { hasPhysicalState } from '../../core/vector-env.js';
import { parsePolicy, rolloutStats, type RolloutStats } from '../../run/rollout.js';

export function describeEnv(id: string) {
  const spec = getEnvSpec(id);
  const env = makeEnv(id);
  return {
    id,
    summary: spec.summary,
    observationSpace: env.observationSpace.describe(),
    actionSpace: env.actionSpace.describe(),
    maxEpisodeSteps: env.maxEpisodeSteps,
    classicControl: spec.classicControl === true,
    params: Object.fromEntries(Object.entries(spec.params).map(([name, p]) => [name, { ...p }])),
    levels: describeLevels(spec).map(({ level, sets }) => ({ level, sets })),
    ladder: spec.ladder,
    ladderName: defaultLadderName(spec),
    /** The other ladders `env.ladder` selects (e.g. `v1`, the round-one ladder). */
    variants: Object.fromEntries(
      Object.entries(spec.variants ?? {}).map(([name, v]) => [name, { levels: describeLevels(spec, name).map(({ level, sets }) => ({ level, sets })), ladder: v.ladder }]),
    ),
  };
}

function printTable(): void {
  const lines: string[] = [];
  for (const id of envIds()) {
    const d = describeEnv(id);
    const space = (s: { type: string; n?: number; shape?: number[] }) => (s.type === 'Discrete' ? `Discrete(${s.n})` : `Box(${s.shape?.join('x')})`);
    lines.push(`${id}  obs ${space(d.observationSpace)}  actions ${space(d.actionSpace)}  limit ${d.maxEpisodeSteps}`);
    lines.push(`  ${d.summary}`);
    lines.push(`  params: ${Object.entries(d.params).map(([k, p]) => `${k}=${p.default}`).join(', ')}`);
    const ladders = [{ name: d.ladderName, levels: d.levels, ladder: d.ladder }, ...Object.entries(d.variants).map(([name, v]) => ({ name, ...v }))];
    for (const [i, ladder] of ladders.entries()) {
      if (i > 0 && sameLevels(ladder.levels, d.levels)) {
        lines.push(`  ladder ${ladder.name}: the same levels`);
        continue;
      }
      lines.push(`  ladder ${ladder.name}${i === 0 ? ' (default)' : ''}: ${ladder.ladder}`);
      for (const { level, sets } of ladder.levels) {
        const text = Object.entries(sets).map(([k, v]) => `${k}=${v}`).join(', ');
        lines.push(`    level ${level}: ${text || '(standard task)'}`);
      }
    }
    lines.push('');
  }
  process.stdout.write(`${lines.join('\n')}`);
}

function sameLevels(a: readonly { sets: object }[], b: readonly { sets: object }[]): boolean {
  return JSON.stringify(a.map((l) => l.sets)) === JSON.stringify(b.map((l) => l.sets));
}

function parseJsonArg(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidValueError(`--${name}`, text, 'expected JSON');
  }
}

interface ReplayArgs {
  env: string;
  state: string;
  actions: string;
}

/** Start from a physical state, apply the actions, stop after the first terminated step. */
export function replay(envId: string, state: unknown, actions: unknown): { steps: { obs: number[]; reward: number; terminated: boolean }[] } {
  const spec = getEnvSpec(envId, '--env');
  if (!spec.classicControl) {
    const classic = envIds().filter((id) => getEnvSpec(id).classicControl);
    throw new InvalidValueError('--env', envId, `replay supports classic-control envs only (${classic.join(', ')})`);
  }
  const env = makeEnv(envId, { maxEpisodeSteps: Infinity });
  if (!hasPhysicalState(env)) throw new InvalidValueError('--env', envId, 'env does not expose its physical state');
  if (!Array.isArray(state) || state.length !== env.stateSize || !state.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new InvalidValueError('--state', state, `expected ${env.stateSize} finite numbers (Gymnasium's env.state layout)`);
  }
  if (!Array.isArray(actions)) throw new InvalidValueError('--actions', actions, 'expected a JSON array of actions');
  env.reset(0);
  env.setState(0, state);
  const steps: { obs: number[]; reward: number; terminated: boolean }[] = [];
  actions.forEach((action: unknown, k) => {
    if (steps.length > 0 && steps[steps.length - 1]!.terminated) return;
    const values = Array.isArray(action) ? action : [action];
    if (values.length !== env.actionSize || !values.every((v) => typeof v === 'number')) {
      throw new InvalidValueError(`--actions[${k}]`, action, `expected ${env.actionSize === 1 ? 'a number or [number]' : `${env.actionSize} numbers`}`);
    }
    const out = env.step(values as number[]);
    const terminated = out.terminated[0] === 1;
    const obs = terminated || out.truncated[0] === 1 ? out.finalObs : out.obs;
    steps.push({ obs: Array.from(obs), reward: out.rewards[0]!, terminated });
  });
  return { steps };
}

const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay',
  describe: 'Classic control: start from a physical state, apply actions, print the resulting steps as JSON',
  builder: (y: Argv) =>
    y
      .option('env', { type: 'string', demandOption: true, describe: 'env id, e.g. CartPole-v1' })
      .option('state', { type: 'string', demandOption: true, describe: "JSON array in Gymnasium's env.state layout" })
      .option('actions', { type: 'string', demandOption: true, describe: 'JSON array of actions (ints, or [float] for continuous envs)' })
      .example("$0 envs replay --env CartPole-v1 --state '[0,0,0.05,0]' --actions '[1,1,0]'", '') as unknown as Argv<ReplayArgs>,
  handler: (args: ArgumentsCamelCase<ReplayArgs>) => {
    const result = replay(args.env, parseJsonArg('state', args.state), parseJsonArg('actions', args.actions));
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
};

interface RolloutArgs {
  env: string;
  level: string;
  ladder?: string;
  params: string;
  policy: string;
  episodes: string;
  seed: string;
  json: boolean;
}

/** Numeric flags are read as strings so that a bad one is reported as typed, not as NaN. */
function numberFlag(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new InvalidValueError(`--${name}`, text, 'expected a number');
  return value;
}

function parseParams(text: string): Record<string, unknown> {
  const params = parseJsonArg('params', text);
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new InvalidValueError('--params', params, 'expected a JSON object of env params, e.g. {"stickyProb":0.25}');
  }
  return params as Record<string, unknown>;
}

function formatStat(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'n/a';
}

function rolloutLines(s: RolloutStats): string[] {
  const row = (name: string, mean: number, std: number, ci: [number, number], min: number, max: number) =>
    `  ${name.padEnd(7)} mean ${formatStat(mean)}  std ${formatStat(std)}  95% [${formatStat(ci[0])}, ${formatStat(ci[1])}]  min ${formatStat(min)}  max ${formatStat(max)}`;
  const lines = [
    `${s.envId} level ${s.level}${s.ladder ? ` (ladder ${s.ladder})` : ''}, policy ${s.policy}, ${s.episodes} episode${s.episodes === 1 ? '' : 's'}, seed ${s.seed}`,
    row('return', s.returnMean, s.returnStd, s.returnCi95, s.returnMin, s.returnMax),
    row('length', s.lengthMean, s.lengthStd, s.lengthCi95, s.lengthMin, s.lengthMax),
    `  params  ${Object.entries(s.params).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ];
  if (s.truncated > 0) lines.push(`  ${s.truncated} of them cut by the time limit`);
  return lines;
}

const rolloutCommand: CommandModule<object, RolloutArgs> = {
  command: 'rollout',
  describe: "A fixed policy's episode return and length statistics (mean, std, 95% interval, min, max)",
  builder: (y: Argv) =>
    y
      .option('env', { type: 'string', demandOption: true, describe: 'env id, e.g. Breakout-MinAtar-v0' })
      .option('level', { type: 'string', default: '0', describe: 'difficulty level 0..4' })
      .option('ladder', { type: 'string', describe: "which ladder --level indexes (default: the env's own; v1 = the round-one ladder)" })
      .option('params', { type: 'string', default: '{}', describe: 'JSON object of env params, applied over the level' })
      .option('policy', { type: 'string', default: 'random', describe: 'random (uniform over the action space) or constant:K (Discrete only)' })
      .option('episodes', { type: 'string', default: '100', describe: 'complete episodes to run' })
      .option('seed', { type: 'string', default: '0', describe: 'seeds the env and the policy' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON object' })
      .example('$0 envs rollout --env Breakout-MinAtar-v0 --episodes 1000 --json', '')
      .example("$0 envs rollout --env CartPole-v1 --policy constant:1 --params '{\"forceNoise\":0.3}'", '') as unknown as Argv<RolloutArgs>,
  handler: (args: ArgumentsCamelCase<RolloutArgs>) => {
    const stats = rolloutStats({
      envId: args.env,
      level: numberFlag('level', args.level),
      ...(args.ladder !== undefined ? { ladder: args.ladder } : {}),
      params: parseParams(args.params),
      policy: parsePolicy(args.policy),
      episodes: numberFlag('episodes', args.episodes),
      seed: numberFlag('seed', args.seed),
    });
    process.stdout.write(args.json ? `${JSON.stringify(stats)}\n` : `${rolloutLines(stats).join('\n')}\n`);
  },
};

interface EnvsArgs {
  json: boolean;
}

export const envsCommand: CommandModule<object, EnvsArgs> = {
  command: 'envs',
  describe: 'List every registered env: spaces, params with defaults, difficulty levels',
  builder: (y: Argv) =>
    y
      .command(replayCommand as unknown as CommandModule)
      .command(rolloutCommand as unknown as CommandModule)
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 envs --json', '') as unknown as Argv<EnvsArgs>,
  handler: (args: ArgumentsCamelCase<EnvsArgs>) => {
    if (args.json) process.stdout.write(`${JSON.stringify(envIds().map(describeEnv), null, 2)}\n`);
    else printTable();
  },
};
