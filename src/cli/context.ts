import type { LoadedConfig } from '../config/resolve.js';
import type { IO } from './io.js';

/** Global flags every command accepts. */
export interface GlobalOptions {
  env?: string;
  config?: string;
  json?: boolean;
  color?: boolean;
  verbose?: boolean;
  /** `--as ID`: who is acting (identity.ts). */
  as?: string;
}

/** What a command adapter receives: the IO, the global flags and a lazy config loader. */
export interface CommandContext {
  io: IO;
  globals: GlobalOptions;
  loadConfig(extra?: { port?: number; host?: string; requireDatabase?: boolean; collectProblems?: boolean }): Promise<LoadedConfig>;
}

export function createContext(io: IO, globals: GlobalOptions): CommandContext {
  return {
    io,
    globals,
    async loadConfig(extra) {
      const { loadConfig } = await import('../config/resolve.js');
      const { requireDatabase, collectProblems, ...flags } = extra ?? {};
      return loadConfig({ flags: { env: globals.env, config: globals.config, ...flags }, cwd: io.cwd, env: io.env, requireDatabase, collectProblems });
    },
  };
}
