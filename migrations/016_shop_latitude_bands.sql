-- 016_shop_latitude_bands: location-search indexes that read the ring's area, not a band
-- across the continent (issue 16).
--
-- Why: the (latitude, longitude) btrees of 007 answer a box by walking every entry whose
-- latitude is in the box's range, across all longitudes, and checking the longitude in the
-- entry (idx_shops_lon the same with the axes swapped). A 4-mile ring in a rural area thus
-- walks a 0.1-degree band from coast to coast: thousands of entries for a dozen shops
-- (bench/RESULTS.md, search-db: 2.5 ms of execution for 168 rows).
--
-- These indexes lead with the shop's latitude band, floor(latitude * 20): 0.05 degree, about
-- 3.5 miles. The search names the bands its box covers, band = ANY(the list), and the btree
-- descends once per band and reads only the box's longitude range inside it, so the entries
-- read are those of the box plus at most one band's height: proportional to the ring's area.
-- The exact latitude and longitude tests stay in the query (the band is a coarse filter), so
-- the answer does not depend on the band arithmetic. The expression must stay exactly
-- floor(latitude * 20)::int, the text in src/db/search/location-sql.ts (LAT_BANDS_PER_DEGREE),
-- or the planner cannot match it to these indexes.
--
-- Why CONCURRENTLY, and why no semicolons in comments here: as in 007, the migrator runs this
-- file one statement at a time without a transaction, so writes to shops go on during the build.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_lat_band
    ON shops ((floor(latitude * 20)::int), longitude, latitude)
    WHERE latitude IS NOT NULL;

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_shops_lat_band_category
    ON shops (category, (floor(latitude * 20)::int), longitude, latitude)
    WHERE latitude IS NOT NULL;
