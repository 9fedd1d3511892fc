import { readFileSync } from 'node:fs';

/**
 * routergpt's version, read once from package.json so there is one source of truth. The path
 * is one level up from both src/version.ts (tests) and dist/version.js (the installed CLI), and
 * npm always ships package.json. A leaf module: the CLI and its error renderer import it
 * without pulling in the commander program (which imports every command).
 */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
