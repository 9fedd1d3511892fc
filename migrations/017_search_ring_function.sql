-- 017_search_ring_function: the first ring of a location search, planned once per session
-- (issue 16).
--
-- Why: with the shop-density grid (src/db/search/density.ts) a search is nearly always ONE ring
-- sized to hold about twice the page, read through idx_shops_lat_band(_category) of 016, and the
-- cost of that statement was half planning: PostgreSQL planned it on every search (0.15 ms of
-- 0.3), because the session runs with plan_cache_mode = force_custom_plan — the guard the
-- multi-ring statement needs (one generic plan cannot serve a 0.1-mile box in a metro and a
-- 50-mile box in the country). The first ring does not need it: sized from the data, every
-- ring reads about the same number of rows through the same index, so one generic plan serves
-- them all, and it is the plan a custom one picks anyway.
--
-- A function is the only place a plan-cache mode can be set for some statements and not others:
-- SET on a function applies while it runs, so its two queries (with and without a category) are
-- planned generically once per session and cached, while every other statement of the session
-- keeps the caller's mode. Measured on the bench's 1M shops: p50 0.49 to 0.29 ms, same rows.
--
-- The query is the one src/db/search/location-sql.ts builds for one box (buildSql): the same
-- haversine, constant for constant, the same band expression as the 016 indexes, the same order
-- and ties. The tests hold the two to the brute-force oracle (test/server/search-oracle.test.ts).
-- A box across the 180th meridian (two boxes) is not this function's: the server sends those
-- rings as SQL.
CREATE FUNCTION routergpt_search_ring(p_lat float8, p_lon float8, p_radius float8, p_limit int, p_category text,
                                      p_bands int[], p_lat_min float8, p_lat_max float8, p_lon_min float8, p_lon_max float8)
RETURNS TABLE (id int, slug text, name text, category text, address text, city text, state text, postal_code text,
               phone text, timezone text, latitude float8, longitude float8, distance float8)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  IF p_category IS NULL THEN
    RETURN QUERY
    SELECT h.id::int, h.slug, h.name, h.category, h.address, h.city, h.state, h.postal_code, h.phone, h.timezone, h.latitude, h.longitude, h.distance
      FROM (SELECT s.id, s.slug, s.name, s.category, s.address, s.city, s.state, s.postal_code, s.phone, s.timezone, s.latitude, s.longitude,
                   2 * 3958.7613 * asin(least(1, sqrt(power(sin(radians(s.latitude - p_lat) / 2), 2)
                     + cos(radians(p_lat)) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - p_lon) / 2), 2)))) AS distance
              FROM shops s
             WHERE s.latitude IS NOT NULL
               AND floor(s.latitude * 20)::int = ANY(p_bands)
               AND s.latitude BETWEEN p_lat_min AND p_lat_max AND s.longitude BETWEEN p_lon_min AND p_lon_max) h
     WHERE h.distance <= p_radius
     ORDER BY h.distance, h.slug
     LIMIT p_limit;
  ELSE
    RETURN QUERY
    SELECT h.id::int, h.slug, h.name, h.category, h.address, h.city, h.state, h.postal_code, h.phone, h.timezone, h.latitude, h.longitude, h.distance
      FROM (SELECT s.id, s.slug, s.name, s.category, s.address, s.city, s.state, s.postal_code, s.phone, s.timezone, s.latitude, s.longitude,
                   2 * 3958.7613 * asin(least(1, sqrt(power(sin(radians(s.latitude - p_lat) / 2), 2)
                     + cos(radians(p_lat)) * cos(radians(s.latitude)) * power(sin(radians(s.longitude - p_lon) / 2), 2)))) AS distance
              FROM shops s
             WHERE s.latitude IS NOT NULL AND s.category = p_category
               AND floor(s.latitude * 20)::int = ANY(p_bands)
               AND s.latitude BETWEEN p_lat_min AND p_lat_max AND s.longitude BETWEEN p_lon_min AND p_lon_max) h
     WHERE h.distance <= p_radius
     ORDER BY h.distance, h.slug
     LIMIT p_limit;
  END IF;
END;
$$;
