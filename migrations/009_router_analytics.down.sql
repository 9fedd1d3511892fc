-- Undo 009_router_analytics. Views first: they depend on the table.
DROP VIEW IF EXISTS router_conversion_funnel;
DROP VIEW IF EXISTS router_shop_discovery;
DROP VIEW IF EXISTS router_usage_summary;
DROP TABLE IF EXISTS router_analytics;
