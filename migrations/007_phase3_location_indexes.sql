-- 007_phase3_location_indexes: indexes for location search.
--
-- Why CONCURRENTLY: a plain CREATE INDEX holds a SHARE lock on shops for the whole
-- build, blocking every INSERT and UPDATE (new shops, geocoding) on a live system.
-- CONCURRENTLY builds without blocking writes, at the price of not being allowed in a
-- transaction block. The migrator therefore runs this file one statement at a time,
-- so every statement here must stand alone and be safe to re-run (IF NOT EXISTS).
-- If a build is interrupted it leaves an INVALID index that IF NOT EXISTS would skip
-- (the migrator drops such leftovers before re-running this file).
-- Do not put semicolons in comments here: the file is split into statements on them.

-- Search with a category filter: category = $1 AND latitude BETWEEN ... AND longitude BETWEEN ...
-- Partial, because shops without coordinates can never be returned by location search.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_location_category
    ON shops (category, latitude, longitude)
    WHERE latitude IS NOT NULL;

-- Search without a category filter (bounding box on latitude, then longitude).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_location
    ON shops (latitude, longitude)
    WHERE latitude IS NOT NULL;

-- The two indexes the checklist verifies by name, as composites on both coordinates.
-- They used to be single-column (latitude) and (longitude), which let the planner
-- BitmapAnd a latitude range with a longitude range at sparse points: that reads the
-- whole latitude band across the continent (20,000 to 32,000 entries on 1M shops) and
-- took 13 to 30 ms where the composite takes under 2 ms (bench/RESULTS.md, search-db).
-- As composites each one answers the whole box from the index alone, so the planner has
-- no reason to AND two bands, and it can pick whichever band is narrower:
-- idx_shops_lat walks a latitude band and checks longitude in the index entries,
-- idx_shops_lon walks a longitude band and checks latitude (on the bench most sparse
-- points take it: their longitude band crosses fewer shops than their latitude band).
-- Not partial, like the single-column indexes they replace. idx_shops_lat thereby
-- overlaps idx_shops_location above, which stays as the smaller partial index (only
-- geocoded shops) that category-less searches mostly use.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_lat
    ON shops (latitude, longitude);

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_lon
    ON shops (longitude, latitude);
