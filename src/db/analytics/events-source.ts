/**
 * Every analytics event, wherever retention put it: router_analytics (the hot table the server
 * writes) and router_analytics_archive (events older than retention.analytics_archive_days, moved
 * there in batches by the retention.archive-analytics step; migration 013). The readers — metrics,
 * analytics, the rollups' refresh, the watch and its baseline — read `FROM ${ANALYTICS_EVENTS} a`,
 * so a figure over a window that reaches archived days is the same before and after archiving.
 *
 * A UNION ALL of plain column lists of the same types: PostgreSQL flattens it into one append
 * relation, pushes each reader's conditions (created_at ranges, event types, id lookups) into
 * both tables and uses each one's indexes — an archived window costs an index range of the
 * archive, a recent one an empty range there.
 */
const COLUMNS = 'id, event_type, session_id, shop_id, search_id, latency_ms, payload, created_at, synthetic, release, host';

/** The hot table's and the archive's events, as one relation: `FROM ${ANALYTICS_EVENTS} a`. */
export const ANALYTICS_EVENTS = `(SELECT ${COLUMNS} FROM router_analytics UNION ALL SELECT ${COLUMNS} FROM router_analytics_archive)`;

/** The columns both tables share, in order (the archive adds archived_at). */
export const ANALYTICS_COLUMNS = COLUMNS;
