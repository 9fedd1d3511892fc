import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * Values from a `.env` file, which never override the real environment (the usual dotenv
 * rule). Node ≥ 20.12 parses the format itself, so no dependency is needed.
 */
export function readDotEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
}

export function mergeEnv(real: NodeJS.ProcessEnv, fromFile: Record<string, string>): NodeJS.ProcessEnv {
  return { ...fromFile, ...real };
}
