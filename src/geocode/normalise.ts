import type { GeocodeQuery } from './provider.js';

/**
 * The cache key of a query: trivially different spellings of one address share a row.
 * Lowercase, punctuation to spaces, whitespace collapsed, ZIP+4 cut to 5 digits, the parts in a
 * fixed order joined with " | " (an empty part stays, so "city only" and "address only" differ).
 */
export function normaliseQuery(query: GeocodeQuery): string {
  const part = (value: string | undefined) =>
    (value ?? '')
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[.,;:#'"()]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
  const postal = part(query.postalCode).replace(/^(\d{5})-?\d{4}$/, '$1');
  return [part(query.address), part(query.city), part(query.state), postal].join(' | ');
}
