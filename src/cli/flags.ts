/** Parsers for flag values that commander leaves as strings; a bad value is a usage error (exit 2). */
import { UsageError } from '../errors.js';

/** A whole number ≥ 1, or `fallback` when the flag is absent. */
export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} expects a whole number ≥ 1 (got "${value}").`, `Use e.g. ${flag} 4.`);
  return n;
}
