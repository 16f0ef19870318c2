/**
 * The CLI under bad input and faults, as a careful user would meet them (issue 9): bad input exits 2 with one line
 * naming the config path and the clipped value and writes nothing; a filesystem fault or a broken user env exits 1
 * with one line (no stack), keeping what was written readable and marking the run `failed`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readCsv } from '../../src/run/csv.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'bin/gradnoise.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-reliability-'));
const SMALL = {
  env: { id: 'CartPole-v1', numEnvs: 2 },
  agent: { algo: 'ppo', numSteps: 16, numMinibatches: 2, updateEpochs: 1, network: { hidden: [8] } },
  // wasm, as `auto` picks without a GPU (the cpu backend prints a banner on stderr).
  run: { totalSteps: 64, backend: 'wasm' },
};

function file(name: string, content: unknown): string {
  const at = path.join(work, name);
  fs.writeFileSync(at, typeof content === 'string' ? content : JSON.stringify(content));
  return at;
}

let outCount = 0;
/** `gradnoise train CONFIG ...args --out <fresh dir> --quiet`, unless args name their own --out. */
function train(config: string, args: string[] = []) {
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1]! : path.join(work, `out-${++outCount}`);
  const full = ['train', config, ...args, ...(args.includes('--out') ? [] : ['--out', out]), '--quiet'];
  const result = spawnSync(process.execPath, [bin, ...full], { cwd: work, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 30 });
  return { code: result.status, stderr: result.stderr, out };
}

/** Exactly one line on stderr, `gradnoise: ...`, bounded, no stack; returns it. */
function oneLine(stderr: string): string {
  assert.match(stderr, /^gradnoise: [^\n]*\n$/, `one line on stderr, got ${JSON.stringify(stderr.slice(0, 2000))}`);
  assert.ok(stderr.length < 1200, `${stderr.length} chars on stderr`);
  return stderr.trimEnd();
}

function expectRefused(r: ReturnType<typeof train>, message: RegExp): void {
  assert.equal(r.code, 2, r.stderr.slice(0, 2000));
  assert.match(oneLine(r.stderr), message);
  assert.equal(fs.existsSync(r.out), false, 'nothing written');
}

describe('CLI: bad input exits 2, one line naming path and value, nothing written', () => {
  const small = file('small.json', SMALL);

  it('prototype keys in --set paths and values (item 1, 2)', () => {
    expectRefused(train(small, ['--set', '__proto__.polluted=1']), /^gradnoise: __proto__\.polluted: '__proto__' is not allowed as a key .*\(got 1\)$/);
    expectRefused(train(small, ['--set', 'constructor.prototype.polluted=1']), /constructor\.prototype\.polluted: 'constructor' is not allowed/);
    expectRefused(train(small, ['--set', 'env.params={"__proto__":1}']), /env\.params\.__proto__: '__proto__' is not allowed .*\(got 1\)/);
    expectRefused(train(small, ['--set', 'env.params={"constructor":1}']), /env\.params\.constructor: 'constructor' is not allowed/);
    expectRefused(train(small, ['--set', 'env.params={"toString":1}']), /env\.params\.toString: unknown param of CartPole-v1\. Known: gravity.*\(got 'toString'\)/);
  });

  it('what cannot fit in memory, with the estimate and the limit (item 3)', () => {
    const big = ['--set', 'run.totalSteps=1000000000000000'];
    expectRefused(train(small, ['--set', 'env.numEnvs=1000000000', ...big]), /^gradnoise: env\.numEnvs: this run needs at least [\d.]+ TiB \(.*\), more than the [\d.]+ GiB of memory here \(got 1000000000\)$/);
    expectRefused(train(small, ['--set', 'agent.numSteps=1000000000', ...big]), /^gradnoise: agent\.numSteps: this run needs at least .* \(got 1000000000\)$/);
    expectRefused(train(small, ['--set', 'agent.network.hidden=[1000000,1000000]']), /^gradnoise: agent\.network\.hidden: this run needs at least [\d.]+ TiB \(network parameters and optimizer state .*\(got \[1000000,1000000\]\)$/);
    expectRefused(train(small, ['--set', `agent.network.hidden=${JSON.stringify(Array(3000).fill(4))}`]), /agent\.network\.hidden: at most 64 hidden layers.*\(got \[4,4,4,.*…\)$/);
  });

  it('nesting thousands deep, even under the ignored meta (item 4)', () => {
    const deep = file('deep.json', JSON.stringify(SMALL).replace(/}$/, `,"meta":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`));
    expectRefused(train(deep), /^gradnoise: meta(\.a){31}: nested deeper than 32 levels \(got \{"a":\{"a":.*…\)$/);
  });

  it('a 50 MB bogus key costs one short line (item 5)', () => {
    const huge = file('huge.json', JSON.stringify({ ...SMALL, ['k'.repeat(50_000_000)]: 1 }));
    const r = train(huge);
    expectRefused(r, /^gradnoise: k{200}… \[50000000 chars\]: unknown key 'k{200}…' \[50000000 chars\] \(got 1\)$/);
    fs.rmSync(huge);
  });

  it('inputs that used to be accepted silently (item 8)', () => {
    expectRefused(train(small, ['--set', 'env.module=']), /^gradnoise: env\.module: must name a module file .*\(got ''\)$/);
    expectRefused(train(small, ['--set', 'run.name=../../escape']), /^gradnoise: run\.name: must be a plain folder name inside results\/.*\(got '\.\.\/\.\.\/escape'\)$/);
    expectRefused(train(small, ['--set', 'run.name=a/b']), /run\.name: .*\(got 'a\/b'\)$/);
    expectRefused(train(small, ['--set', 'novalue']), /^gradnoise: --set: expected path=value \(got 'novalue'\)$/);
    // A usage error, reported like every other (the message, then where to find usage).
    const bare = train(small, ['--set']);
    assert.equal(bare.code, 2);
    assert.equal(bare.stderr, "gradnoise: Not enough arguments following: set\nRun 'gradnoise --help' for usage.\n");
    assert.equal(fs.existsSync(bare.out), false);
    expectRefused(train(small, ['--set', 'agent.numMinibatches=1000']), /^gradnoise: agent\.numMinibatches: more minibatches than samples in one update's rollout \(env\.numEnvs × agent\.numSteps = 2 × 16 = 32 samples\) \(got 1000\)$/);
    expectRefused(train(small, ['--set', 'monitor.grouping=microbatch', '--set', 'monitor.microBatch=1000']), /^gradnoise: monitor\.microBatch: more than half of one update's rollout .*at least two micro-batches \(got 1000\)$/);
    expectRefused(train(small, ['--set', 'run.totalSteps=1']), /^gradnoise: run\.totalSteps: less than one update's rollout .*= 32 samples\); runs train whole updates \(got 1\)$/);
    expectRefused(train(small, ['--set', 'agent.optimizer.beta1=1']), /^gradnoise: agent\.optimizer\.beta1: must be < 1: .*\(got 1\)$/);
    expectRefused(train(small, ['--set', 'agent.optimizer.beta2=1']), /^gradnoise: agent\.optimizer\.beta2: must be < 1: .*\(got 1\)$/);
  });
});

describe('CLI: a sweep file\'s set map and base get the same checks (items 1, 4)', () => {
  function sweep(name: string, text: string) {
    const out = path.join(work, `sweep-${name}`);
    const r = spawnSync(process.execPath, [bin, 'sweep', file(`${name}.json`, text), '--out', out, '--quiet'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stderr: r.stderr, out };
  }
  const head = `{"name":"s","grid":{"env.level":[0,1]},"seeds":1,"base":${JSON.stringify(SMALL)}`;

  it('refuses prototype keys in set paths and values, and deep nesting in the base', () => {
    expectRefused(sweep('proto-path', `${head},"set":{"__proto__.polluted":1}}`), /^gradnoise: set\.__proto__\.polluted: run level=0,seed=1: '__proto__' is not allowed as a key .*\(got 1\)$/);
    expectRefused(sweep('proto-key', `${head},"set":{"__proto__":{"polluted":1}}}`), /^gradnoise: set\.__proto__: '__proto__' is not allowed/);
    expectRefused(sweep('proto-value', `${head},"set":{"env.params":{"constructor":1}}}`), /^gradnoise: set\.env\.params\.constructor: /);
    const deep = `${head.replace(/}$/, `,"meta":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`)}}`;
    expectRefused(sweep('deep', deep), /^gradnoise: base\.meta(\.a){30}: nested deeper than 32 levels/);
  });
});

describe('CLI: filesystem faults exit 1 with one line naming the path and the OS error (item 6)', () => {
  const small = file('small-fs.json', SMALL);

  it('--out under a regular file', () => {
    const regular = file('regular-file', 'x');
    const r = train(small, ['--out', path.join(regular, 'run')]);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), `gradnoise: ${path.join(regular, 'run')}: not a directory (ENOTDIR)`);
  });

  it('--out in a folder that cannot be written', (t) => {
    const folder = path.join(work, 'locked');
    fs.mkdirSync(folder);
    // root ignores permissions: use a read-only mount where we may mount, else a folder without write permission.
    const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', folder]).status === 0;
    if (!mounted && process.getuid?.() === 0) return t.skip('running as root without permission to mount a read-only tmpfs');
    if (!mounted) fs.chmodSync(folder, 0o500);
    try {
      const r = train(small, ['--out', path.join(folder, 'run')]);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), new RegExp(`^gradnoise: ${path.join(folder, 'run').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (read-only file system \\(EROFS\\)|permission denied \\(EACCES\\))$`));
    } finally {
      if (mounted) spawnSync('umount', [folder]);
      else fs.chmodSync(folder, 0o700);
    }
  });

  describe('a full disk', () => {
    const disk = path.join(work, 'disk');
    let mounted = false;
    before(() => {
      fs.mkdirSync(disk);
      mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]).status === 0;
    });
    after(() => {
      if (mounted) spawnSync('umount', [disk]);
    });

    it('fails the run with one line, keeps complete rows only, writes summary.json and leaves no temp file', (t) => {
      if (!mounted) return t.skip('mounting a 64 KiB tmpfs needs root (mount -t tmpfs); not permitted here');
      const out = path.join(disk, 'run');
      const r = train(small, ['--set', 'run.totalSteps=1000000', '--out', out]);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), new RegExp(`^gradnoise: run failed: ${out}/(metrics|noise)\\.csv: no space left on device \\(ENOSPC\\)$`));
      const files = fs.readdirSync(out).sort();
      assert.deepEqual(files, ['config.json', 'metrics.csv', 'noise.csv', 'summary.json'], 'no *.tmp-PID left');
      const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as { status: string; error: string; updates: number };
      assert.equal(summary.status, 'failed');
      assert.match(summary.error, /no space left on device \(ENOSPC\)/);
      for (const csv of ['metrics.csv', 'noise.csv']) {
        const text = fs.readFileSync(path.join(out, csv), 'utf8');
        assert.ok(text.endsWith('\n'), `${csv} ends with a complete row`);
        const table = readCsv(path.join(out, csv));
        assert.equal(table.rows.length, text.split('\n').length - 2, `${csv}: every line after the header is a complete row`);
      }
      const metrics = readCsv(path.join(out, 'metrics.csv'));
      assert.ok(metrics.rows.length >= 5, `${metrics.rows.length} updates kept`);
      assert.equal(Number(metrics.rows.at(-1)!.update), metrics.rows.length);
    });
  });
});

describe('CLI: user env modules (items 7, 9)', () => {
  const envDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-user-env-'));
  const src = (p: string) => JSON.stringify(pathToFileURL(path.join(repo, 'src', p)).href);
  /** A user env module in a folder without package.json; `body` is the step function's body (`t` counts steps). */
  function userEnv(name: string, body: string): string {
    const id = `User${name}-v0`;
    fs.writeFileSync(
      path.join(envDir, `${name}.ts`),
      [
        `import { defineSimpleEnv } from ${src('core/simple-env.ts')};`,
        `import { Box, Discrete } from ${src('core/spaces.ts')};`,
        `export default defineSimpleEnv({ id: '${id}', summary: 'fixture', params: {}, levels: [{}, {}, {}, {}, {}], ladder: 'none', maxEpisodeSteps: 10,`,
        '  observationSpace: () => new Box(-1, 1, [1]), actionSpace: () => new Discrete(2),',
        `  create: () => { let t = 0; return { reset: () => [0], step: (): any => { t += 1; ${body} } }; } });`,
      ].join('\n'),
    );
    return file(`${name}.json`, { ...SMALL, env: { id, module: path.join(envDir, `${name}.ts`), numEnvs: 2 } });
  }

  it('an ESM .ts module in a folder without "type": "module" trains', () => {
    const r = train(userEnv('Plain', 'return { obs: [0], reward: 1, terminated: t % 7 === 0 };'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(fs.readFileSync(path.join(r.out, 'summary.json'), 'utf8')).status, 'completed');
  });

  const faults: [string, string, RegExp][] = [
    ['NanReward', 'return { obs: [0], reward: t > 20 ? NaN : 1, terminated: false };', /UserNanReward-v0: step 21, copy 0: reward is not a finite number \(got NaN\)/],
    ['InfObs', 'return { obs: [t > 20 ? Infinity : 0], reward: 1, terminated: false };', /UserInfObs-v0: step 21, copy 0: observation\[0\] is not a finite number \(got Infinity\)/],
    ['StringReward', "return { obs: [0], reward: t > 20 ? 'lots' : 1, terminated: false };", /UserStringReward-v0: step 21, copy 0: reward is not a finite number \(got 'lots'\)/],
    ['Throws', "if (t > 20) throw new Error('boom at ' + t); return { obs: [0], reward: 1, terminated: false };", /UserThrows-v0: step 21: step\(\) threw Error: boom at 21/],
  ];
  for (const [name, body, message] of faults) {
    it(`a user env fault (${name}) fails the run naming the env, the step and the value`, () => {
      const r = train(userEnv(name, body));
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      assert.match(line, new RegExp(`^gradnoise: run failed: ${message.source}$`));
      const summary = JSON.parse(fs.readFileSync(path.join(r.out, 'summary.json'), 'utf8')) as { status: string; error: string };
      assert.equal(summary.status, 'failed');
      assert.equal(`gradnoise: run failed: ${summary.error}`, line);
      assert.ok(readCsv(path.join(r.out, 'metrics.csv')).rows.length >= 1, 'updates before the fault are kept');
    });
  }
});
