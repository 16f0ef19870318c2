/** The README stays true: its config reference matches the schema, and every CLI command is documented. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withConfigReference } from '../../src/config/docs.js';
import { envIds } from '../../src/run/registry.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');

describe('README', () => {
  it('has the config reference generated from the current schema (npm run docs:config)', () => {
    assert.equal(withConfigReference(readme), readme, 'run `npm run docs:config` and commit README.md');
  });

  it('shows the two set-up commands and every CLI command', () => {
    assert.ok(readme.includes('npm ci && npm test'));
    assert.ok(readme.includes('npm ci && npx gradnoise reproduce --preset quick'));
    for (const command of ['envs', 'envs replay', 'train', 'sweep', 'critical-batch', 'reproduce', 'report', 'bench']) {
      assert.ok(readme.includes(`\`gradnoise ${command}`), `README documents gradnoise ${command}`);
    }
  });

  it('lists every built-in env', () => {
    for (const id of envIds()) assert.ok(readme.includes(`\`${id}\``), `README lists ${id}`);
  });
});
