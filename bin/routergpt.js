#!/usr/bin/env node
// Tiny shim: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('routergpt: dist/ is missing. Run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(2);
}
await import(entry.href);
