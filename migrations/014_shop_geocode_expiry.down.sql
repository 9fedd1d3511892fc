-- routergpt:no-transaction
DROP INDEX CONCURRENTLY IF EXISTS shops_geocode_expires_at_idx;
ALTER TABLE shops DROP COLUMN IF EXISTS geocode_expires_at;
