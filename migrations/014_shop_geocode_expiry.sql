-- 014_shop_geocode_expiry: when a shop's coordinates lapse under the terms of the provider
-- that gave them (docs/geocoding.md "Coordinates follow the provider's terms").
--
-- shops.geocode_source (006) names the provider; geocode_expires_at says until when its
-- coordinates may be kept. Google's terms allow caching latitude and longitude for 30 days
-- at most (geocoding.google.cache_days), so a Google answer lapses when the cache row it came
-- from does. Nominatim (ODbL: attribution, no time limit), the offline ZIP data and hand-set
-- coordinates never lapse: NULL. The weekly db.geocode-refresh refreshes or clears lapsed rows
-- and db.shops-geocoded reports them.
--
-- No transaction: the index is built CONCURRENTLY (a plain build blocks writes to shops for
-- its length). ADD COLUMN without a default is metadata only. Each statement stands alone
-- and is safe to re-run. Do not put semicolons in comments here: the file is split on them.
-- routergpt:no-transaction

ALTER TABLE shops ADD COLUMN IF NOT EXISTS geocode_expires_at timestamptz;

-- The refresh and the check select the lapsed rows: only rows that can lapse are indexed.
CREATE INDEX CONCURRENTLY IF NOT EXISTS shops_geocode_expires_at_idx ON shops (geocode_expires_at) WHERE geocode_expires_at IS NOT NULL;
