/**
 * The layout holds: each folder imports only from its own layer or below (src/core ← config ← monitor ← envs, agents
 * ← run ← analysis ← experiments ← report, bench ← cli ← index), no import cycles, no source file over 600 lines, and
 * test/ mirrors the source folders. The checker itself is tested on a small synthetic tree that breaks each rule.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LAYERS, importCycles, importsOf, layerViolations, sourceFiles } from '../helpers/layers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE_FOLDERS = ['src', 'agents', 'envs'];
const MAX_LINES = 600;

describe('layers', () => {
  const files = sourceFiles(repo, SOURCE_FOLDERS);

  it('every source file sits in a layer and imports only from its layer or below', () => {
    assert.ok(files.length > 50, `found ${files.length} source files`);
    assert.deepEqual(layerViolations(repo, files), []);
  });

  it('has no import cycles', () => {
    assert.deepEqual(importCycles(repo, files), []);
  });

  it(`no source file is longer than ${MAX_LINES} lines`, () => {
    const long = files
      .map((f) => ({ f, lines: fs.readFileSync(path.join(repo, f), 'utf8').split('\n').length - 1 }))
      .filter((x) => x.lines > MAX_LINES)
      .map((x) => `${x.f} (${x.lines} lines)`);
    assert.deepEqual(long, []);
  });

  it('test/ mirrors the source folders', () => {
    const sourceNames = new Set(LAYERS.map((l) => l.prefix.replace(/^src\//, '').replace(/\/$/, '')).filter((n) => !n.endsWith('.ts')));
    const extra = new Set(['helpers', 'fixtures', 'slow', 'docs', 'architecture']);
    const folders = fs.readdirSync(path.join(repo, 'test'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    const strays = folders.filter((n) => !sourceNames.has(n) && !extra.has(n));
    assert.deepEqual(strays, [], 'test folders named after no source folder');
    const looseTests = fs.readdirSync(path.join(repo, 'test')).filter((n) => n.endsWith('.ts'));
    assert.deepEqual(looseTests, [], 'tests live in a folder');
  });
});

describe('the layer checker', () => {
  function tree(files: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gradnoise-layers-'));
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    return root;
  }

  it('flags upward, sideways, type-only and dynamic imports, files in no layer, and cycles', () => {
    const root = tree({
      'src/core/a.ts': "import { b } from '../run/b.js';\nexport const a = b;\n",
      'src/core/t.ts': "import type { B } from '../run/b.js';\nexport type T = B;\n",
      'src/core/d.ts': "export async function d() { return import('../cli/c.js'); }\n",
      'src/run/b.ts': "import { x } from './x.js';\nexport const b = x;\nexport type B = number;\n",
      'src/run/x.ts': "import { b } from './b.js';\nexport const x = b;\n",
      'src/cli/c.ts': "import { b } from '../run/b.js';\nexport const c = b;\n",
      'envs/e.ts': "import { g } from '../agents/g.js';\nexport const e = g;\n",
      'agents/g.ts': "import { a } from '../src/core/a.js';\nexport const g = a;\n",
      'src/stray/s.ts': 'export const s = 1;\n',
    });
    const files = sourceFiles(root, ['src', 'envs', 'agents']);
    const problems = layerViolations(root, files).join('\n');
    assert.match(problems, /src\/core\/a\.ts:1: import of src\/run\/b\.ts goes up/);
    assert.match(problems, /src\/core\/t\.ts:1: type import of src\/run\/b\.ts goes up/);
    assert.match(problems, /src\/core\/d\.ts:1: import of src\/cli\/c\.ts goes up/);
    assert.match(problems, /envs\/e\.ts:1: import of agents\/g\.ts goes sideways/);
    assert.match(problems, /src\/stray\/s\.ts: in no layer/);
    assert.doesNotMatch(problems, /^agents\//m, 'agents importing core is allowed');
    assert.doesNotMatch(problems, /^src\/cli\//m, 'cli importing run is allowed');
    assert.deepEqual(importCycles(root, files), [['src/run/b.ts', 'src/run/x.ts']]);
  });

  it('reads `import { type A, type B }` as type-only and a mixed list as a value import', () => {
    const root = tree({
      'src/core/m.ts': "import { type A, type B } from './n.js';\nimport { C, type D } from './n.js';\nexport type { E } from './n.js';\n",
      'src/core/n.ts': 'export type A = 1;\n',
    });
    assert.deepEqual(
      importsOf(root, 'src/core/m.ts').map((e) => [e.to, e.typeOnly, e.line]),
      [
        ['src/core/n.ts', true, 1],
        ['src/core/n.ts', false, 2],
        ['src/core/n.ts', true, 3],
      ],
    );
  });
});
