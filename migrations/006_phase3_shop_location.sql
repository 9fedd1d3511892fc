-- 006_phase3_shop_location: coordinates for location search (phase 3).
--
-- Plain double precision columns rather than PostGIS geography: no extensions are
-- allowed, and at city scale a bounding-box prefilter on the btree indexes of 007
-- followed by a haversine distance in SQL is fast enough.
-- All columns are nullable and have no default, so adding them is a catalog-only
-- change. The CHECKs still need one scan of shops to validate, which is short for a
-- table of this size (the migrator runs this under a lock_timeout).
-- The range checks also reject NaN and infinity, which PostgreSQL sorts above all numbers.
ALTER TABLE shops
    ADD COLUMN latitude double precision
        CONSTRAINT shops_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision
        CONSTRAINT shops_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    -- When the coordinates were last set, and by what ('google', 'nominatim',
    -- 'manual', 'seed' ...). Lets the geocoding step find stale or hand-entered rows.
    ADD COLUMN geocoded_at timestamptz,
    ADD COLUMN geocode_source text,
    -- How precise the match was: 'rooftop', 'street', 'postal_code', 'city', 'manual'.
    -- Not constrained, so a new provider's vocabulary does not need a migration.
    ADD COLUMN geocode_accuracy text,
    -- A shop with only one coordinate would be silently dropped or mis-sorted by search.
    ADD CONSTRAINT shops_coordinates_both_or_neither CHECK ((latitude IS NULL) = (longitude IS NULL));
