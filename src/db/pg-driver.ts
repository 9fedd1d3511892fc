/**
 * node-postgres, loaded without paying for its Cloudflare probe. At load, pg's lib/stream.js asks
 * whether it runs in a Cloudflare Worker: where `navigator` is undefined (Node 20; Node 21 and
 * later define it) it builds a `new Response(…)`, which loads Node's whole fetch implementation
 * (undici) only to learn that the answer is no — ≈ 35 ms of every database command's start-up on
 * these machines (issue 16). With a `navigator` present for the duration of the require, pg reads
 * `navigator.userAgent` instead, as it does on newer Nodes. The global is removed again at once, so
 * nothing else ever sees it; where one already exists it is left alone. Import pg from here, not
 * from 'pg' (type-only imports of 'pg' are fine).
 */
import { createRequire } from 'node:module';
import type * as PG from 'pg';

function load(): typeof PG {
  const require = createRequire(import.meta.url);
  if ('navigator' in globalThis) return require('pg') as typeof PG;
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true, writable: true });
  try {
    return require('pg') as typeof PG;
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}

const pg = load();
export default pg;
