-- 008_geocoding_cache: remembered answers from the geocoding provider.
--
-- Geocoding APIs are paid per request and rate limited, and the same addresses and
-- place names are looked up again and again. Entries are keyed per provider because
-- providers disagree and their terms may forbid mixing results.
-- query_normalized is the lookup key after the application's normalisation
-- (lowercase, collapsed whitespace ...), so trivially different spellings share a row.
-- latitude/longitude are NULL for a cached "no result" (a negative cache entry),
-- result keeps the provider's raw answer for debugging and re-parsing.
-- Entries expire after 90 days (the checklist's data-retention rule), see the function below.
CREATE TABLE geocoding_cache (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query_normalized text NOT NULL,
    provider         text NOT NULL,
    latitude         double precision,
    longitude        double precision,
    accuracy         text,
    result           jsonb NOT NULL DEFAULT '{}',
    hit_count        integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL DEFAULT now() + interval '90 days',
    CONSTRAINT geocoding_cache_provider_query_key UNIQUE (provider, query_normalized)
);

-- The cleanup below deletes WHERE expires_at < now().
CREATE INDEX geocoding_cache_expires_at_idx ON geocoding_cache (expires_at);

-- Weekly maintenance from the checklist: SELECT cleanup_expired_geocoding_cache()
-- Returns how many expired entries were deleted.
CREATE OR REPLACE FUNCTION cleanup_expired_geocoding_cache() RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    deleted integer;
BEGIN
    DELETE FROM geocoding_cache WHERE expires_at < now();
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$;
