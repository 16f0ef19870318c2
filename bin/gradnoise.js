#!/usr/bin/env node
// Entry point: sources are TypeScript run through tsx, so `npm ci` is the only set-up step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
