DROP TABLE router_analytics_rollup_state;
DROP TABLE router_funnel_hourly;
DROP TABLE router_search_delegations;
DROP TABLE router_search_outcomes;
DROP TABLE router_analytics_hourly_shops;
DROP TABLE router_analytics_hourly_gaps;
DROP TABLE router_analytics_hourly_sessions;
DROP TABLE router_analytics_hourly;
