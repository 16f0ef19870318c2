/** Rewrite the README's generated config reference from the schema. */
import fs from 'node:fs';
import { withConfigReference } from '../src/config/docs.js';

const file = new URL('../README.md', import.meta.url);
fs.writeFileSync(file, withConfigReference(fs.readFileSync(file, 'utf8')));
