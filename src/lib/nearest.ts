import { distance } from 'fastest-levenshtein';

/**
 * The candidate `word` was most likely a typo of, or undefined when none is close. Close means at
 * most 3 edits, fewer for short words (1 up to 2 characters, 2 up to 5 — a swap of two letters
 * is 2 edits, and `rnu` should still find `run`), compared case-insensitively: `contineu` →
 * `continue`, `httpPrt` → `httpPort`, but `x` suggests nothing rather than `id`. Ties go to the
 * earlier candidate, so suggestions are stable.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  const target = word.toLowerCase();
  const budget = target.length <= 2 ? 1 : target.length <= 5 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(target, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= budget ? best : undefined;
}

/** ` — did you mean "x"?` for a close candidate, else the empty string: appended to a problem. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const guess = nearest(word, candidates);
  return guess === undefined ? '' : ` — did you mean "${guess}"?`;
}
