-- Undo 008_geocoding_cache.
DROP FUNCTION IF EXISTS cleanup_expired_geocoding_cache();
DROP TABLE IF EXISTS geocoding_cache;
