import os from 'node:os';
import path from 'node:path';

/** routergpt's cache: `$XDG_CACHE_HOME/routergpt`, else `~/.cache/routergpt` (an XDG_CACHE_HOME that is not absolute is ignored, as the spec says). Everything in it can be deleted. */
export function routergptCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'routergpt');
}
