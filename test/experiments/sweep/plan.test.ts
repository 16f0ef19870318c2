/**
 * Sweep plans: expansion and ids, and validation errors naming the sweep path and the bad value, before anything
 * is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import yargs from 'yargs';
import { sweepCommand } from '../../../src/cli/commands/sweep.js';
import { ConfigError, InputError } from '../../../src/core/errors.js';
import { formatIdValue, shortNames } from '../../../src/experiments/sweep/ids.js';
import { expandSweep, loadSweepFile, validatePlan } from '../../../src/experiments/sweep/plan.js';
import { BASE, levelSweep, tempDir } from '../../helpers/sweep-fakes.js';

function throwsConfig(fn: () => unknown, at: string, value: unknown, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.path, at);
    assert.deepEqual(error.value, value);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('sweep expansion', () => {
  it('crosses the grid with the seeds, with readable ids and full config paths kept', () => {
    const plan = expandSweep({ name: 'demo', base: BASE, grid: { 'env.level': [0, 3], 'agent.lr': [0.001, 0.0003] }, seeds: [1, 2] }, '.');
    assert.equal(plan.runs.length, 8);
    assert.deepEqual(plan.keys, ['env.level', 'agent.lr']);
    assert.deepEqual(
      plan.runs.map((r) => r.id).slice(0, 4),
      ['level=0,lr=0.001,seed=1', 'level=0,lr=0.001,seed=2', 'level=0,lr=0.0003,seed=1', 'level=0,lr=0.0003,seed=2'],
    );
    const run = plan.runs.find((r) => r.id === 'level=3,lr=0.0003,seed=2')!;
    assert.equal(run.group, 'level=3,lr=0.0003');
    assert.deepEqual(run.settings, { 'env.level': 3, 'agent.lr': 0.0003 });
    assert.equal(run.config.env.level, 3);
    assert.equal(run.config.agent.lr, 0.0003);
    assert.equal(run.config.run.seed, 2);
    assert.ok(Object.isFrozen(run.config));
    assert.deepEqual((plan.definition as { seeds: number[] }).seeds, [1, 2]);
  });

  it('takes a seed count, fixed overrides and an explicit settings list (only varying paths in the id)', () => {
    const plan = expandSweep(
      {
        name: 'lists',
        base: BASE,
        settings: [
          { 'agent.numSteps': 32, 'agent.lr': 0.001 },
          { 'agent.numSteps': 64, 'agent.lr': 0.001 },
        ],
        seeds: 3,
        set: { 'run.totalSteps': 640 },
      },
      '.',
    );
    assert.deepEqual(plan.runs.map((r) => r.id), ['numSteps=32,seed=1', 'numSteps=32,seed=2', 'numSteps=32,seed=3', 'numSteps=64,seed=1', 'numSteps=64,seed=2', 'numSteps=64,seed=3']);
    assert.ok(plan.runs.every((r) => r.config.run.totalSteps === 640 && r.config.agent.lr === 0.001));
    assert.deepEqual(plan.keys, ['agent.numSteps', 'agent.lr']);
    const single = expandSweep({ name: 'one', base: BASE }, '.');
    assert.deepEqual(single.runs.map((r) => r.id), ['seed=1']);
  });

  it('reads the base config relative to the sweep file', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'configs'));
    fs.mkdirSync(path.join(dir, 'sweeps'));
    fs.writeFileSync(path.join(dir, 'configs', 'base.json'), JSON.stringify(BASE));
    fs.writeFileSync(path.join(dir, 'sweeps', 's.json'), JSON.stringify({ name: 's', base: '../configs/base.json', grid: { 'env.level': [4] } }));
    const plan = loadSweepFile(path.join(dir, 'sweeps', 's.json'));
    assert.equal(plan.runs[0]!.id, 'level=4,seed=1');
    assert.equal(plan.configDir, path.join(dir, 'configs'));
    assert.deepEqual((plan.definition as { base: unknown }).base, BASE);
  });

  it('shortens paths to their last segment unless two clash, and formats values for folder names', () => {
    assert.deepEqual(shortNames(['env.level', 'agent.lr']), ['level', 'lr']);
    assert.deepEqual(shortNames(['agent.network.hidden', 'agent.lr', 'monitor.lr']), ['hidden', 'agent.lr', 'monitor.lr']);
    assert.equal(formatIdValue([64, 64]), '64x64');
    assert.equal(formatIdValue('CartPole-v1'), 'CartPole-v1');
    assert.equal(formatIdValue(1e-7), '1e-7');
    assert.equal(formatIdValue([{ type: 'rewardNoise', std: 0.1 }]), 'type-rewardNoise+std-0.1');
    assert.equal(formatIdValue('a/b c'), 'a_b_c');
    const plan = expandSweep({ name: 'n', base: BASE, grid: { 'agent.network.hidden': [[64, 64], [32]] } }, '.');
    assert.deepEqual(plan.runs.map((r) => r.id), ['hidden=64x64,seed=1', 'hidden=32,seed=1']);
  });
});

describe('sweep validation', () => {
  it('names the sweep path and the bad value', () => {
    const sweep = (extra: Record<string, unknown>) => () => expandSweep({ name: 'v', base: BASE, ...extra }, '.');
    throwsConfig(sweep({ grid: { 'env.level': [0, 7] } }), 'grid.env.level', 7, /run level=7,seed=1/);
    throwsConfig(sweep({ set: { 'agent.lr': 'fast' } }), 'set.agent.lr', 'fast');
    throwsConfig(sweep({ settings: [{ 'agent.numSteps': 0 }] }), 'settings.0.agent.numSteps', 0);
    throwsConfig(() => expandSweep({ name: 'v', base: { ...BASE, agent: { algo: 'ppo', lrr: 1 } } }, '.'), 'base.agent.lrr', 1, /unknown key/);
    throwsConfig(sweep({ grdi: {} }), 'grdi', {}, /unknown key 'grdi'/);
    throwsConfig(sweep({ grid: { 'env..level': [0] } }), 'grid.env..level', 'env..level', /config path/);
    throwsConfig(sweep({ grid: { 'env.level': [] } }), 'grid.env.level', [], /too small/i);
    throwsConfig(sweep({ grid: { 'env.level': 3 } }), 'grid.env.level', 3);
    throwsConfig(sweep({ grid: { 'env.level': [1, 1] } }), 'grid.env.level', 1, /listed twice/);
    throwsConfig(sweep({ seeds: [1, 2, 1] }), 'seeds', 1, /listed twice/);
    throwsConfig(sweep({ seeds: 0 }), 'seeds', 0);
    throwsConfig(sweep({ grid: { 'run.seed': [1, 2] } }), 'grid.run.seed', [1, 2], /seeds/);
    throwsConfig(sweep({ grid: { 'agent.lr': [1] }, set: { 'agent.lr': 2 } }), 'grid.agent.lr', [1], /one source/);
    throwsConfig(() => expandSweep({ name: 'a/b', base: BASE }, '.'), 'name', 'a/b');
    throwsConfig(() => expandSweep({ name: 'x', base: 'missing.json' }, '/nonexistent'), 'base', 'missing.json', /cannot read/);
    throwsConfig(() => expandSweep({ name: 'x', base: 3 }, '.'), 'base', 3, /config object or a config file path/);
    throwsConfig(() => expandSweep([], '.'), '(sweep)', []);
  });

  it('checks env ids and params of every expanded run before anything runs', async () => {
    const plan = expandSweep({ name: 'v', base: BASE, grid: { 'env.id': ['CartPole-v1', 'CartPol-v1'] } }, '.');
    await assert.rejects(validatePlan(plan), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.path, 'grid.env.id');
      assert.equal(error.value, 'CartPol-v1');
      assert.match(error.message, /did you mean 'CartPole-v1'/);
      return true;
    });
    const params = expandSweep({ name: 'v', base: BASE, grid: { 'env.params.massPole': [0.1, -2] } }, '.');
    await assert.rejects(validatePlan(params), (error: unknown) => error instanceof ConfigError && error.path === 'grid.env.params.massPole' && error.value === -2);
    await validatePlan(levelSweep());
  });

  it('the command exits with an input error and writes nothing for a bad sweep', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.json');
    const out = path.join(dir, 'out');
    fs.writeFileSync(file, JSON.stringify({ name: 'bad', base: BASE, grid: { 'env.level': [9] } }));
    const cli = () => yargs().command(sweepCommand).strict().fail(false).parseAsync(['sweep', file, '--out', out, '--quiet']);
    await assert.rejects(cli(), (error: unknown) => error instanceof InputError && error.path === 'grid.env.level' && error.value === 9);
    assert.equal(fs.existsSync(out), false);
    fs.writeFileSync(file, '{ not json');
    await assert.rejects(cli(), (error: unknown) => error instanceof InputError && error.path === 'SWEEP');
    assert.equal(fs.existsSync(out), false);
  });
});

