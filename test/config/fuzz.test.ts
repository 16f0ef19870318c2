/**
 * Fuzzing the config loader: 1,600 generated bad configs (a valid PPO config with one thing broken: a wrong type, a
 * value out of bounds, an unknown key at any level, a prototype key, nesting thousands deep, a huge array or string,
 * a bad `--set`), each of which must come back as a ConfigError naming exactly the broken path, in one bounded line.
 * Seeded (never Math.random), so a failure names a case that reproduces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverrides, parseConfig } from '../../src/config/load.js';
import { ConfigError, MESSAGE_LIMITS } from '../../src/core/errors.js';
import { MAX_JSON_DEPTH } from '../../src/core/json-path.js';
import { Rng } from '../../src/core/rng.js';

type Json = Record<string, unknown>;

const VALID: Json = {
  env: { id: 'CartPole-v1', numEnvs: 4, level: 1, params: { gravity: 9.8 }, maxEpisodeSteps: 200, wrappers: [{ type: 'rewardNoise', std: 0.1 }] },
  agent: {
    algo: 'ppo',
    lr: 3e-4,
    numSteps: 128,
    gamma: 0.99,
    gaeLambda: 0.95,
    updateEpochs: 4,
    numMinibatches: 4,
    clipCoef: 0.2,
    targetKl: 0.02,
    network: { hidden: [64, 64], activation: 'tanh', shared: false, policyGain: 0.01, valueGain: 1, logStdInit: 0 },
    optimizer: { type: 'adam', momentum: 0.9, beta1: 0.9, beta2: 0.999, decay: 0.99, eps: 1e-5 },
  },
  monitor: { enabled: true, every: 1, grouping: 'sample', microBatch: 8, emaHorizon: 20000, window: 10, confidence: 0.95 },
  run: { totalSteps: 100000, seed: 1, logEvery: 1, backend: 'cpu', name: 'fuzz' },
  meta: { note: 'ignored on input' },
};

const WRONG_TYPES: unknown[] = ['x', true, null, [], {}, [1, 2], { value: 1 }];
const NON_FINITE: unknown[] = [NaN, Infinity, -Infinity];
/** Out-of-bounds values per kind of leaf (each leaf also gets every wrong type). */
const BAD: Record<string, unknown[]> = {
  posInt: [0, -1, 1.5, 2 ** 60, ...NON_FINITE],
  level: [-1, 5, 2.5, ...NON_FINITE],
  seed: [-1, 0.5, ...NON_FINITE],
  unit: [-0.01, 1.01, ...NON_FINITE],
  unitOpenTop: [1, -0.01, 1.5, ...NON_FINITE],
  openUnit: [0, 1, ...NON_FINITE],
  positive: [0, -1e-9, ...NON_FINITE],
  nonNegative: [-1e-9, -1, ...NON_FINITE],
  number: NON_FINITE,
  bool: [0, 1, 'true'],
  enum: ['bogus', 'PPO', ''],
  string: [''],
  runName: ['', '..', '.', 'a/b', '../../escape', 'a\\b'],
};
const WRONG_FOR_STRING = WRONG_TYPES.filter((v) => typeof v !== 'string');
const WRONG_FOR_BOOL = WRONG_TYPES.filter((v) => typeof v !== 'boolean');

const LEAVES: [string, keyof typeof BAD][] = [
  ['env.id', 'string'],
  ['env.module', 'string'],
  ['env.numEnvs', 'posInt'],
  ['env.level', 'level'],
  ['env.maxEpisodeSteps', 'posInt'],
  ['env.wrappers.0.std', 'nonNegative'],
  ['agent.algo', 'enum'],
  ['agent.lr', 'nonNegative'],
  ['agent.annealLr', 'bool'],
  ['agent.numSteps', 'posInt'],
  ['agent.gamma', 'unit'],
  ['agent.gaeLambda', 'unit'],
  ['agent.entCoef', 'nonNegative'],
  ['agent.vfCoef', 'nonNegative'],
  ['agent.maxGradNorm', 'nonNegative'],
  ['agent.normAdv', 'bool'],
  ['agent.updateEpochs', 'posInt'],
  ['agent.numMinibatches', 'posInt'],
  ['agent.clipCoef', 'positive'],
  ['agent.clipVloss', 'bool'],
  ['agent.targetKl', 'positive'],
  ['agent.network.hidden.1', 'posInt'],
  ['agent.network.activation', 'enum'],
  ['agent.network.shared', 'bool'],
  ['agent.network.policyGain', 'positive'],
  ['agent.network.valueGain', 'positive'],
  ['agent.network.logStdInit', 'number'],
  ['agent.optimizer.type', 'enum'],
  ['agent.optimizer.momentum', 'unit'],
  ['agent.optimizer.beta1', 'unitOpenTop'],
  ['agent.optimizer.beta2', 'unitOpenTop'],
  ['agent.optimizer.decay', 'unitOpenTop'],
  ['agent.optimizer.eps', 'positive'],
  ['monitor.enabled', 'bool'],
  ['monitor.every', 'posInt'],
  ['monitor.grouping', 'enum'],
  ['monitor.microBatch', 'posInt'],
  ['monitor.emaHorizon', 'positive'],
  ['monitor.window', 'posInt'],
  ['monitor.confidence', 'openUnit'],
  ['run.totalSteps', 'posInt'],
  ['run.seed', 'seed'],
  ['run.logEvery', 'posInt'],
  ['run.backend', 'enum'],
  ['run.name', 'runName'],
];
/** Strict sections (unknown keys are errors), as key paths. */
const STRICT_SECTIONS = ['', 'env', 'env.wrappers.0', 'agent', 'agent.network', 'agent.optimizer', 'monitor', 'run'];
/** Every object level, records included (prototype keys and deep nesting are refused anywhere). */
const ALL_OBJECTS = [...STRICT_SECTIONS, 'env.params', 'meta'];

interface Case {
  kind: string;
  /** The raw config, or a `--set` assignment applied to VALID. */
  raw?: Json;
  set?: string;
  /** The path the error must name. */
  path: string;
}

function keysOf(path: string): (string | number)[] {
  return path === '' ? [] : path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** A deep copy of VALID with `mutate` applied to the object at `path`. */
function mutated(path: string, mutate: (node: Json | unknown[], last: string | number) => void): Json {
  const raw = structuredClone(VALID);
  const keys = keysOf(path);
  let node: unknown = raw;
  for (const key of keys.slice(0, -1)) node = (node as Json)[key as string];
  mutate(node as Json, keys[keys.length - 1]!);
  return raw;
}

function at(section: string, key: string): string {
  return section === '' ? key : `${section}.${key}`;
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)]!;
}

function nested(depth: number): unknown {
  let node: unknown = 0;
  for (let i = 0; i < depth; i++) node = { a: node };
  return node;
}

function generate(count: number, rng: Rng): Case[] {
  const kinds: ((i: number) => Case)[] = [
    () => {
      const [path, kind] = pick(rng, LEAVES);
      const wrong = kind === 'string' || kind === 'runName' || kind === 'enum' ? WRONG_FOR_STRING : kind === 'bool' ? WRONG_FOR_BOOL : WRONG_TYPES;
      const value = pick(rng, rng.uniform() < 0.5 ? wrong : BAD[kind]!);
      return { kind: `type-or-bound ${kind}`, raw: mutated(path, (node, last) => ((node as Json)[last as string] = value)), path };
    },
    () => {
      const section = pick(rng, STRICT_SECTIONS);
      const key = rng.uniform() < 0.1 ? 'k'.repeat(10_000 + rng.int(1_000_000)) : `bogus${rng.int(1000)}`;
      const raw = section === '' ? { ...structuredClone(VALID), [key]: rng.int(10) } : mutated(`${section}.x`, (node) => ((node as Json)[key] = rng.int(10)));
      return { kind: 'unknown key', raw, path: at(section, key) };
    },
    () => {
      const section = pick(rng, ALL_OBJECTS);
      const key = pick(rng, ['__proto__', 'constructor', 'prototype']);
      const define = (node: object) => Object.defineProperty(node, key, { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
      const raw = section === '' ? define(structuredClone(VALID)) as Json : mutated(`${section}.x`, (node) => define(node));
      return { kind: 'prototype key', raw, path: at(section, key) };
    },
    () => {
      const section = pick(rng, ALL_OBJECTS);
      const depth = MAX_JSON_DEPTH + 1 + rng.int(5000);
      const raw = section === '' ? { ...structuredClone(VALID), deep: nested(depth) } : mutated(`${section}.x`, (node) => ((node as Json).deep = nested(depth)));
      const prefix = [...keysOf(section), 'deep'];
      const path = [...prefix, ...Array(MAX_JSON_DEPTH - prefix.length).fill('a')].join('.');
      return { kind: 'deep nesting', raw, path };
    },
    () => {
      if (rng.uniform() < 0.5) {
        const hidden = Array(65 + rng.int(1_000_000)).fill(8);
        return { kind: 'huge array', raw: mutated('agent.network.hidden', (node, last) => ((node as Json)[last as string] = hidden)), path: 'agent.network.hidden' };
      }
      const [path, kind] = pick(rng, LEAVES.filter(([, k]) => k !== 'string' && k !== 'runName' && k !== 'enum'));
      const value = rng.uniform() < 0.5 ? Array(10_000 + rng.int(500_000)).fill(1) : 'x'.repeat(10_000 + rng.int(2_000_000));
      return { kind: `huge value for ${kind}`, raw: mutated(path, (node, last) => ((node as Json)[last as string] = value)), path };
    },
    () => {
      const cases: [string, string][] = [
        ['novalue', '--set'],
        ['=1', '--set'],
        ['agent..lr=1', 'agent..lr'],
        ['agent.lr.x=1', 'agent.lr.x'],
        ['__proto__.polluted=1', '__proto__.polluted'],
        ['constructor.prototype.polluted=1', 'constructor.prototype.polluted'],
        ['env.params={"__proto__":{"polluted":1}}', 'env.params.__proto__'],
        ['agent.lr=fast', 'agent.lr'],
        ['env.numEnvs=0', 'env.numEnvs'],
        ['agent.optimizer.beta1=1', 'agent.optimizer.beta1'],
        ['run.name=../../escape', 'run.name'],
        ['env.module=', 'env.module'],
        ['run.totalSteps=1', 'run.totalSteps'],
        ['agent.numMinibatches=513', 'agent.numMinibatches'],
        [`agent.bogus${'y'.repeat(rng.int(100_000))}=1`, 'agent.bogus'],
      ];
      const [set, path] = pick(rng, cases);
      return { kind: 'bad --set', set, path: path === 'agent.bogus' ? set.slice(0, set.indexOf('=')) : path };
    },
  ];
  return Array.from({ length: count }, (_, i) => kinds[i % kinds.length]!(i));
}

describe('config loader fuzz', () => {
  it('answers each of 1,600 generated bad configs with a ConfigError naming the broken path in one bounded line', () => {
    const cases = generate(1600, new Rng('config-fuzz'));
    const kinds = new Map<string, number>();
    cases.forEach((c, i) => {
      const label = `case ${i} (${c.kind}) at ${c.path.slice(0, 80)}`;
      let caught: unknown;
      try {
        if (c.set !== undefined) applyOverrides(VALID, { set: [c.set] });
        else parseConfig(c.raw);
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof ConfigError, `${label}: expected a ConfigError, got ${String(caught).slice(0, 300)}`);
      assert.equal(caught.path, c.path, `${label}: ${caught.message.slice(0, 300)}`);
      assert.ok(caught.message.startsWith(c.path.slice(0, MESSAGE_LIMITS.path)), label);
      assert.ok(!caught.message.includes('\n'), `${label}: one line`);
      assert.ok(caught.message.length <= MESSAGE_LIMITS.path + MESSAGE_LIMITS.reason + MESSAGE_LIMITS.value + 100, `${label}: ${caught.message.length} chars`);
      kinds.set(c.kind.split(' ')[0]!, (kinds.get(c.kind.split(' ')[0]!) ?? 0) + 1);
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
    assert.ok(kinds.size >= 6, [...kinds.keys()].join(', '));
  });

  it('leaves the valid base config valid (so every failure above is the mutation)', () => {
    const config = parseConfig(VALID);
    assert.equal(config.agent.algo, 'ppo');
    assert.equal(config.run.name, 'fuzz');
  });
});
