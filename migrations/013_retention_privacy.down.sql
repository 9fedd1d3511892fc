-- routergpt:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS bookings_customer_name_lower_idx;
DROP INDEX CONCURRENTLY IF EXISTS chat_sessions_created_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS chat_sessions_client_hmac_idx;
DROP INDEX CONCURRENTLY IF EXISTS router_analytics_session_id_idx;
DROP TABLE IF EXISTS router_analytics_archive;
ALTER TABLE chat_sessions DROP COLUMN IF EXISTS anonymised_at;
ALTER TABLE chat_sessions DROP COLUMN IF EXISTS client_hmac;
