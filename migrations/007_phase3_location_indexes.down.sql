-- Undo 007_phase3_location_indexes. CONCURRENTLY so the rollback does not block writes
-- to shops either; like the up file, it runs one statement at a time.
-- Do not put semicolons in comments here: the file is split into statements on them.
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_lon;
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_lat;
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_location;
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_location_category;
