import { parseAge } from '../../config/duration.js';

/** The window a maintenance finding reads back from now: `params.window` (a duration), else `fallbackMs`. */
export function findingWindow(params: Record<string, unknown> | undefined, now: Date, fallbackMs: number): { from: Date; to: Date; label: string } {
  const raw = params?.window;
  const ms = raw === undefined ? fallbackMs : parseAge(String(raw), 'params.window');
  const hours = ms / 3_600_000;
  const label = Number.isInteger(hours / 24) && hours >= 24 ? `${hours / 24 === 1 ? '24 h' : `${hours / 24} d`}` : Number.isInteger(hours) ? `${hours} h` : `${Math.round(ms / 60_000)} min`;
  return { from: new Date(now.getTime() - ms), to: now, label };
}

export const pct = (ratio: number) => `${(ratio * 100).toFixed(ratio < 0.001 && ratio > 0 ? 3 : 2)} %`;
