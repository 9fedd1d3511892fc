/**
 * The analytics review loaded in one go — what `routergpt analytics` tabulates and `routergpt
 * report` charts: the five queries of queries.ts over one window, on one connection, in order.
 */
import type { Queryable } from '../pool.js';
import { rolledDailyActivity, rolledFunnel, rolledPopularShops, rolledTimeBetweenEvents } from './rolled-queries.js';
import type { RollupState } from './rollups.js';
import { dailyActivity, orderedFunnel, popularShops, recentEvents, timeBetweenEvents, type AnalyticsWindow, type DailyRow, type EventCount, type FunnelResult, type GapRow, type ShopRow } from './queries.js';

export interface AnalyticsLoadOptions {
  /** How long after a search (and a delegation) the next funnel stage still counts. */
  funnelWindowHours: number;
  /** How many popular shops. */
  shops: number;
  /** Read the rollups (refreshed by the caller: refreshAnalyticsRollups) — the same answers, faster. */
  rollups?: RollupState;
}

export interface AnalyticsData {
  daily: DailyRow[];
  funnel: FunnelResult;
  shops: ShopRow[];
  lastHour: EventCount[];
  timeBetweenEvents: GapRow[];
}

export async function loadAnalytics(db: Queryable, window: AnalyticsWindow, options: AnalyticsLoadOptions): Promise<AnalyticsData> {
  const r = options.rollups;
  return {
    daily: r ? await rolledDailyActivity(db, window, r) : await dailyActivity(db, window),
    funnel: (r && (await rolledFunnel(db, window, r, options.funnelWindowHours))) ?? (await orderedFunnel(db, window, options.funnelWindowHours)),
    shops: r ? await rolledPopularShops(db, window, r, options.shops) : await popularShops(db, window, options.shops),
    lastHour: await recentEvents(db, '1 hour'),
    timeBetweenEvents: r ? await rolledTimeBetweenEvents(db, window, r) : await timeBetweenEvents(db, window),
  };
}
