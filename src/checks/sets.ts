/**
 * Named sets of check ids that several commands run together. One list each, so `smoke`, the
 * checklists' smoke item and the verification after a rollback cannot drift apart.
 */

/** The checklist's "Smoke Test Production" + post-deployment functional tests. */
export const SMOKE_CHECK_IDS = ['api.health', 'api.search', 'api.delegate', 'api.chat-router-context', 'api.invalid-coordinates-422', 'api.unknown-shop-404', 'api.empty-area', 'api.cors', 'api.hsts', 'api.performance'];

/** The checklist's "Verify migrations succeeded" (\d shops, \dt, \di) as checks. */
export const SCHEMA_CHECK_IDS = ['db.migrations-applied', 'db.schema-drift', 'db.tables-exist', 'db.shops-location-columns', 'db.indexes-valid', 'db.analytics-views'];
