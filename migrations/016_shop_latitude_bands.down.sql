-- Undo 016_shop_latitude_bands. CONCURRENTLY, one statement at a time, like the up file.
-- Do not put semicolons in comments here: the file is split into statements on them.
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_lat_band_category;
DROP INDEX CONCURRENTLY IF EXISTS idx_shops_lat_band;
