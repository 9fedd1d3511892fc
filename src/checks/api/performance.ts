import { defineCheck, fail, pass, warn } from '../define-check.js';
import { brief, CHAT_PATH, DELEGATE_PATH, SEARCH_PATH, withApiClient, type ApiClient, type ApiResponse } from './http.js';
import { probeTargets } from './targets.js';
import { isSearchResponse, type DelegateResponse } from './types.js';

/** The checklist's budgets: search < 500 ms, delegation < 200 ms, chat < 5 s. */
export const DEFAULT_BUDGETS_MS = { search: 500, delegate: 200, chat: 5000 } as const;
type Route = keyof typeof DEFAULT_BUDGETS_MS;

/** Nearest-rank percentile. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Measured {
  route: Route;
  samples: number[];
  /** Why fewer than N were sent. */
  capped?: string;
  error?: string;
}

/**
 * Send up to `n` requests one after another; the first response's X-RateLimit-Remaining caps
 * the rest, so we never spend the whole budget or meet a 429.
 */
async function measure(route: Route, n: number, send: () => Promise<ApiResponse>, ok: number): Promise<Measured> {
  const samples: number[] = [];
  let allowed = n;
  for (let i = 0; i < allowed; i++) {
    const res = await send();
    if (res.status !== ok) return { route, samples, error: `${route}: expected ${ok}, got ${brief(res)}` };
    samples.push(res.ms);
    const remaining = Number(res.headers.get('x-ratelimit-remaining'));
    if (i === 0 && Number.isInteger(remaining) && remaining < n - 1) {
      allowed = remaining + 1;
    }
  }
  return { route, samples, capped: allowed < n ? `${route}: ${allowed} of ${n} requests (the rate-limit budget left)` : undefined };
}

async function firstShop(api: ApiClient, latitude: number, longitude: number, radius: number): Promise<{ slug: string; searchId: string } | undefined> {
  const res = await api.post(SEARCH_PATH, { latitude, longitude, radius_miles: radius });
  if (!isSearchResponse(res.json) || !res.json.results[0]) return undefined;
  return { slug: res.json.results[0].slug, searchId: res.json.search_id };
}

export default defineCheck({
  id: 'api.performance',
  title: 'Response times within budget (p95)',
  needs: ['api'],
  stages: ['post'],
  timeoutMs: 120_000,
  params: ['requests', 'budgets', 'chat', 'locations'],
  async run(deps) {
    const n = Math.max(1, Number(deps.params?.requests ?? 20));
    const budgets = { ...DEFAULT_BUDGETS_MS, ...(deps.params?.budgets as Partial<Record<Route, number>> | undefined) };
    const withChat = deps.params?.chat === true;
    const where = (await probeTargets(deps)).locations[0]!;
    const searchBody = { latitude: where.latitude, longitude: where.longitude, radius_miles: where.radius_miles };
    return withApiClient(deps, async (api) => {
      const runs: Measured[] = [];
      const shop = await firstShop(api, where.latitude, where.longitude, where.radius_miles);
      runs.push(await measure('search', n, () => api.post(SEARCH_PATH, searchBody), 200));
      if (shop) {
        runs.push(await measure('delegate', n, () => api.post(DELEGATE_PATH, { shop_slug: shop.slug, search_id: shop.searchId }), 201));
        if (withChat) {
          const session = await api.post(DELEGATE_PATH, { shop_slug: shop.slug });
          const id = (session.json as DelegateResponse | undefined)?.session_id;
          if (id) runs.push(await measure('chat', n, () => api.post(CHAT_PATH, { session_id: id, message: 'What services do you offer?' }), 200));
        }
      }
      const errors = runs.flatMap((r) => (r.error ? [r.error] : []));
      const details: string[] = [];
      const over: string[] = [];
      const near: string[] = [];
      const data: Record<string, unknown> = { budgets };
      for (const r of runs.filter((x) => x.samples.length > 0)) {
        const p95 = percentile(r.samples, 95);
        const p50 = percentile(r.samples, 50);
        data[r.route] = { n: r.samples.length, p50: Math.round(p50), p95: Math.round(p95) };
        details.push(`${r.route}: p95 ${Math.round(p95)} ms, p50 ${Math.round(p50)} ms over ${r.samples.length} request(s) (budget ${budgets[r.route]} ms)`);
        if (p95 > budgets[r.route]) over.push(`${r.route} p95 ${Math.round(p95)} ms > ${budgets[r.route]} ms`);
        else if (p95 > 0.8 * budgets[r.route]) near.push(`${r.route} p95 ${Math.round(p95)} ms is over 80% of ${budgets[r.route]} ms`);
      }
      details.push(...runs.flatMap((r) => (r.capped ? [`capped: ${r.capped}`] : [])));
      if (!shop) details.push(`delegate not measured: no shop near ${where.name}`);
      if (errors.length > 0) return fail(`${errors.length} request(s) failed while measuring`, { details: [...errors, ...details], hint: 'See api.search / api.delegate for the failing route.' });
      if (over.length > 0) return fail(over.join('; '), { details, data, hint: 'Check db.search-query-plan (indexes), the database round-trip time, and the server\'s CPU; for chat, the OpenAI latency.' });
      if (near.length > 0) return warn(near.join('; '), { details, data, hint: 'Close to the budget: look at db.search-query-plan and the server\'s load before traffic grows.' });
      return pass(details.filter((d) => !d.startsWith('capped')).map((d) => d.split(' over ')[0]).join('; '), { details, data });
    }, { syntheticPolicy: 'real' });
  },
});
