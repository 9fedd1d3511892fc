/**
 * The fuzz and fault suites run in two profiles: `quick` inside `npm test` (a minute or two in
 * all) and `long` under `npm run fuzz` (ROUTERGPT_FUZZ=long: ≥ 5,000 requests per route, the full
 * fault matrix). A test asks for its size here rather than reading the variable itself.
 */
export type FuzzProfile = 'quick' | 'long';

export function fuzzProfile(): FuzzProfile {
  return process.env.ROUTERGPT_FUZZ === 'long' ? 'long' : 'quick';
}

/** `quick` in npm test, `long` under npm run fuzz. */
export function bySize<T>(quick: T, long: T): T {
  return fuzzProfile() === 'long' ? long : quick;
}
