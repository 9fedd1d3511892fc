/** What the migrations create and the checks expect — one list, used by several checks. */
export const EXPECTED_TABLES = [
  'shops', 'services', 'opening_hours', 'chat_sessions', 'chat_messages', 'bookings', 'booking_slots', 'feature_flags', 'geocoding_cache', 'router_analytics', 'router_refusals', 'router_feedback',
  // Migration 012's analytics rollups (metrics and analytics read them).
  'router_analytics_hourly', 'router_analytics_hourly_sessions', 'router_analytics_hourly_gaps', 'router_analytics_hourly_shops',
  'router_search_outcomes', 'router_search_delegations', 'router_funnel_hourly', 'router_analytics_rollup_state',
] as const;

export const EXPECTED_SHOP_LOCATION_COLUMNS: Record<string, string> = {
  latitude: 'double precision',
  longitude: 'double precision',
  geocoded_at: 'timestamp with time zone',
  geocode_source: 'text',
  geocode_accuracy: 'text',
};

/** The checklist's three, the category-less location index, and the latitude-band indexes the search reads (migration 016). */
export const EXPECTED_INDEXES = ['idx_shops_location_category', 'idx_shops_lat', 'idx_shops_lon', 'idx_shops_location', 'idx_shops_lat_band', 'idx_shops_lat_band_category'] as const;

export const EXPECTED_VIEWS: Record<string, string[]> = {
  router_usage_summary: ['date', 'event_type', 'event_count'],
  router_shop_discovery: ['shop_id', 'slug', 'times_discovered'],
  router_conversion_funnel: ['date', 'searches', 'delegations', 'bookings'],
};
