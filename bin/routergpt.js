#!/usr/bin/env node
// Tiny shim: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
const args = process.argv.slice(2);
// `routergpt --version` alone is answered here, from the leaf module that reads package.json:
// the entry point would load commander and the CLI's modules only to print one line (issue 16).
// Anything else on the line (another flag, a command) goes through the program as before.
const versionOnly = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
const version = new URL('../dist/version.js', import.meta.url);
if (!existsSync(versionOnly ? version : entry)) {
  process.stderr.write('routergpt: dist/ is missing. Run `npm install` (or `npm run build`) in the repository first.\n');
  process.exit(2);
}
if (versionOnly) process.stdout.write(`${(await import(version.href)).VERSION}\n`);
else await import(entry.href);
