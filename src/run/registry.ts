/**
 * The environment registry: built-ins plus anything registered at run time or loaded from a module path.
 * `makeEnv` resolves defaults ← level ← explicit params, validates them, builds the vector env and applies wrappers.
 * Envs that are not built in run behind `checkEnvOutputs`, so a fault in user code (a NaN reward, a throw in `step`)
 * is reported as that env's fault, with the step and the value, instead of surfacing later as a divergence.
 */
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtinEnvs } from '../../envs/index.js';
import type { RunConfig } from '../config/schema.js';
import { ladderNames, ladderOf, NUM_LEVELS, type EnvSpec, type LadderVariant } from '../core/env-spec.js';
import { ConfigError, errorLine, InvalidValueError, UnknownIdError } from '../core/errors.js';
import type { EnvParams, ParamValue, VectorEnv } from '../core/vector-env.js';
import { applyWrappers, checkEnvOutputs, type WrapperConfig } from '../core/wrappers.js';

const registry = new Map<string, EnvSpec<EnvParams>>();
const builtinSpecs: ReadonlySet<EnvSpec<EnvParams>> = new Set(builtinEnvs);
let builtinsLoaded = false;

function ensureBuiltins(): void {
  if (builtinsLoaded) return;
  builtinsLoaded = true;
  for (const spec of builtinEnvs) registerEnv(spec);
}

const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_.\-/]*-v\d+$/;

/** Add an env. Ids follow `Name-vN`; registering an id twice replaces it only with `{ replace: true }`. */
export function registerEnv<P extends EnvParams>(spec: EnvSpec<P>, options: { replace?: boolean } = {}): void {
  ensureBuiltins();
  if (!ID_PATTERN.test(spec.id)) throw new InvalidValueError('env.id', spec.id, "env ids look like 'Name-vN'");
  if (registry.has(spec.id) && !options.replace) {
    throw new InvalidValueError('env.id', spec.id, 'an env with this id is already registered');
  }
  if (spec.levels.length !== NUM_LEVELS) {
    throw new InvalidValueError(`${spec.id}.levels`, spec.levels.length, `expected ${NUM_LEVELS} difficulty levels`);
  }
  for (const [name, variant] of Object.entries(spec.variants ?? {})) {
    if (variant.levels.length !== NUM_LEVELS) {
      throw new InvalidValueError(`${spec.id}.variants.${name}.levels`, variant.levels.length, `expected ${NUM_LEVELS} difficulty levels`);
    }
  }
  registry.set(spec.id, spec as unknown as EnvSpec<EnvParams>);
}

export function envIds(): string[] {
  ensureBuiltins();
  return [...registry.keys()];
}

export function getEnvSpec(id: string, path = 'env.id'): EnvSpec<EnvParams> {
  ensureBuiltins();
  const spec = registry.get(id);
  if (!spec) throw new UnknownIdError('env', path, id, [...registry.keys()]);
  return spec;
}

/** Query mark on a module URL that makes `ESM_HOOK` load it (and the .ts files it imports) as an ES module. */
const ESM_MARK = 'gradnoise-esm';

/**
 * A Node resolve hook (it runs after tsx's). tsx follows Node's rule that a `.ts` file is CommonJS unless its nearest
 * package.json says `"type": "module"`, so a user's env written with `import`/`export` in a plain folder would be
 * compiled to CommonJS, whose `require` of our ES modules fails ("Cannot require() ES Module ... in a cycle") or, where
 * it works, loads second copies of our classes. The hook loads a marked file, and the `.ts` files it imports by
 * relative path that tsx would treat as CommonJS (marked in turn), as ES modules: one module graph, one copy of
 * gradnoise.
 */
const ESM_HOOK = `
const MARK = ${JSON.stringify(ESM_MARK)};
const marked = (url) => url?.startsWith('file:') && new URL(url).searchParams.has(MARK);
const typescript = (url) => url.startsWith('file:') && /\\.tsx?$/.test(new URL(url).pathname);
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (marked(result.url) && typescript(result.url)) return { ...result, format: 'module' };
  // Only what tsx would load as CommonJS: our own ES modules (imported by relative path from inside the repo) stay as
  // they are, or they would load twice.
  if (result.format === 'commonjs' && marked(context.parentURL) && /^\\.\\.?\\//.test(specifier)) {
    const url = new URL(specifier, context.parentURL);
    url.search = '?' + MARK;
    const again = await next(url.href, context).catch(() => null);
    if (again && typescript(again.url)) return { ...again, format: 'module' };
  }
  return result;
}`;
let esmHookRegistered = false;

/** Import a user module (path relative to `baseDir`) and register the env spec it exports as default or `env`. */
export async function loadEnvModule(modulePath: string, baseDir = process.cwd()): Promise<EnvSpec<EnvParams>> {
  const absolute = path.resolve(baseDir, modulePath);
  const url = pathToFileURL(absolute);
  if (/\.tsx?$/.test(absolute)) {
    if (!esmHookRegistered) register(`data:text/javascript,${encodeURIComponent(ESM_HOOK)}`);
    esmHookRegistered = true;
    url.searchParams.set(ESM_MARK, '');
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url.href)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError('env.module', modulePath, `cannot load module: ${errorLine(error)}`);
  }
  const spec = (loaded.default ?? loaded.env) as EnvSpec<EnvParams> | undefined;
  if (!spec || typeof spec.create !== 'function' || typeof spec.id !== 'string') {
    throw new ConfigError('env.module', modulePath, 'module must export an env spec (see defineEnv/defineSimpleEnv) as default or `env`');
  }
  registerEnv(spec, { replace: true });
  return spec;
}

/** The named ladder of the spec (`undefined` = its default), or an error naming `<pathPrefix>.ladder` and the known names. */
export function selectLadder(spec: EnvSpec<EnvParams>, name: string | undefined, pathPrefix = 'env'): LadderVariant {
  const ladder = ladderOf(spec, name);
  if (!ladder) throw new UnknownIdError(`ladder of ${spec.id}`, `${pathPrefix}.ladder`, name!, ladderNames(spec));
  return ladder;
}

/** Defaults, then the level's params (of the named ladder, else the default one), then explicit ones; every value checked against its ParamSpec. */
export function resolveEnvParams(
  spec: EnvSpec<EnvParams>,
  level: number,
  overrides: Record<string, unknown> = {},
  pathPrefix = 'env',
  ladder?: string,
): EnvParams {
  if (!Number.isInteger(level) || level < 0 || level >= NUM_LEVELS) {
    throw new InvalidValueError(`${pathPrefix}.level`, level, `difficulty level must be an integer 0..${NUM_LEVELS - 1}`);
  }
  const { levels } = selectLadder(spec, ladder, pathPrefix);
  const names = Object.keys(spec.params);
  const resolved: EnvParams = {};
  for (const name of names) resolved[name] = spec.params[name]!.default;
  Object.assign(resolved, levels[level]);
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(spec.params, name)) {
      throw new UnknownIdError(`param of ${spec.id}`, `${pathPrefix}.params.${name}`, name, names);
    }
    resolved[name] = value as ParamValue;
  }
  for (const name of names) checkParam(spec, name, resolved[name], `${pathPrefix}.params.${name}`);
  spec.validate?.(resolved);
  return Object.freeze(resolved);
}

function checkParam(spec: EnvSpec<EnvParams>, name: string, value: unknown, at: string): void {
  const param = spec.params[name]!;
  if (typeof param.default === 'boolean') {
    if (typeof value !== 'boolean') throw new InvalidValueError(at, value, 'expected true or false');
    return;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidValueError(at, value, 'expected a finite number');
  if (param.integer && !Number.isInteger(value)) throw new InvalidValueError(at, value, 'expected an integer');
  const tooLow = param.min !== undefined && (param.exclusive ? value <= param.min : value < param.min);
  const tooHigh = param.max !== undefined && (param.exclusive ? value >= param.max : value > param.max);
  if (tooLow || tooHigh) {
    const lo = param.min === undefined ? '-inf' : String(param.min);
    const hi = param.max === undefined ? 'inf' : String(param.max);
    const [open, close] = param.exclusive ? ['(', ')'] : ['[', ']'];
    throw new InvalidValueError(at, value, `${name} must lie in ${open}${lo}, ${hi}${close}`);
  }
}

export interface MakeEnvOptions {
  numEnvs?: number;
  level?: number;
  /** Which ladder `level` indexes (default: the env's default ladder). */
  ladder?: string;
  params?: Record<string, unknown>;
  /** Overrides the env's own time limit. */
  maxEpisodeSteps?: number;
  wrappers?: readonly WrapperConfig[];
}

/** The options a config's env section makes (numEnvs, level, ladder, params, wrappers, time limit). */
export function envOptionsOf(env: RunConfig['env']): MakeEnvOptions {
  return {
    numEnvs: env.numEnvs,
    level: env.level,
    ...(env.ladder !== undefined ? { ladder: env.ladder } : {}),
    params: env.params,
    wrappers: env.wrappers,
    ...(env.maxEpisodeSteps !== undefined ? { maxEpisodeSteps: env.maxEpisodeSteps } : {}),
  };
}

export function makeEnv(id: string, options: MakeEnvOptions = {}): VectorEnv {
  const spec = getEnvSpec(id);
  const params = resolveEnvParams(spec, options.level ?? 0, options.params ?? {}, 'env', options.ladder);
  const numEnvs = options.numEnvs ?? 1;
  if (!Number.isInteger(numEnvs) || numEnvs < 1) throw new InvalidValueError('env.numEnvs', numEnvs, 'expected a positive integer');
  const limit = options.maxEpisodeSteps ?? spec.maxEpisodeSteps(params);
  if (!(limit >= 1)) throw new InvalidValueError('env.maxEpisodeSteps', limit, 'expected a positive number (Infinity allowed)');
  const env = spec.create(numEnvs, params, limit);
  return applyWrappers(builtinSpecs.has(spec) ? env : checkEnvOutputs(env), options.wrappers ?? []);
}

/** The five levels of a ladder (default: the env's default ladder) with the full param set each one resolves to. */
export function describeLevels(spec: EnvSpec<EnvParams>, ladder?: string): { level: number; sets: Partial<EnvParams>; params: EnvParams }[] {
  return selectLadder(spec, ladder).levels.map((sets, level) => ({
    level,
    sets: { ...sets } as Partial<EnvParams>,
    params: { ...resolveEnvParams(spec, level, {}, 'env', ladder) },
  }));
}
