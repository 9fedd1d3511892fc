-- 010_synthetic_traffic: routergpt's own requests (verify, smoke, the deploy's checks) are
-- marked synthetic, so they never count as real use. The server sets `synthetic` on the rows a
-- request with a valid signed X-RouterGPT-Synthetic header writes (docs/synthetic-traffic.md);
-- the analytics views and every metric leave those rows out.
--
-- ADD COLUMN with a constant default is metadata-only since PostgreSQL 11: no table rewrite,
-- only a brief ACCESS EXCLUSIVE lock (the migrator's lock_timeout bounds the wait).
ALTER TABLE router_analytics ADD COLUMN synthetic boolean NOT NULL DEFAULT false;
ALTER TABLE chat_sessions ADD COLUMN synthetic boolean NOT NULL DEFAULT false;
ALTER TABLE bookings ADD COLUMN synthetic boolean NOT NULL DEFAULT false;

-- Which release (ROUTERGPT_RELEASE, else the package version: what /health reports as
-- `version`) and which host served the event, so figures can be compared release by release.
-- NULL on rows written before this migration.
ALTER TABLE router_analytics ADD COLUMN release text;
ALTER TABLE router_analytics ADD COLUMN host text;

-- The key that signs synthetic requests when ROUTERGPT_SYNTHETIC_KEY is not set: generated
-- once, here, so every CLI and server sharing this database agree with no configuration.
-- Schema routergpt is routergpt's own (routergpt.runs lives there): backups leave it out
-- (pg_dump -N routergpt), so a restore never changes the key. gen_random_uuid() draws from
-- pg_strong_random (core since PostgreSQL 13, and in PGlite; pgcrypto is not assumed): two of
-- them give 244 random bits. IF NOT EXISTS / DO NOTHING: the schema outlives a restore of
-- public, so this file may run again over an existing key and must keep it.
CREATE SCHEMA IF NOT EXISTS routergpt;
CREATE TABLE IF NOT EXISTS routergpt.synthetic_key (
    id         boolean PRIMARY KEY DEFAULT true,
    key        text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- One row: the key.
    CONSTRAINT synthetic_key_one_row CHECK (id),
    CONSTRAINT synthetic_key_length CHECK (length(key) >= 32)
);
INSERT INTO routergpt.synthetic_key (key)
VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
ON CONFLICT (id) DO NOTHING;

-- The API server reads the key. When it connects as a role other than the one migrating
-- (which owns the table), that role is the one allowed to write analytics: give every such
-- role read access to the key, and nothing more. A role granted INSERT on router_analytics
-- later needs the same two grants (docs/synthetic-traffic.md).
DO $$
DECLARE
    grantee regrole;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
         WHERE c.oid = 'public.router_analytics'::regclass
           AND a.privilege_type = 'INSERT'
           AND a.grantee <> 0
           AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA routergpt TO %s', grantee);
        EXECUTE format('GRANT SELECT ON routergpt.synthetic_key TO %s', grantee);
    END LOOP;
END
$$;

-- The three views of 009, with synthetic rows left out (same columns: replaced in place).
CREATE OR REPLACE VIEW router_usage_summary AS
SELECT
    a.created_at::date                    AS date,
    a.event_type,
    count(*)                              AS event_count,
    count(DISTINCT a.session_id)          AS unique_sessions,
    round(avg(a.latency_ms), 1)           AS avg_latency_ms
FROM router_analytics a
WHERE NOT a.synthetic
GROUP BY a.created_at::date, a.event_type;

CREATE OR REPLACE VIEW router_shop_discovery AS
WITH discovered AS (
    SELECT d.shop_id,
           count(DISTINCT d.event_id) AS times_discovered,
           max(d.created_at)          AS last_discovered_at
    FROM (
        SELECT a.id AS event_id,
               a.created_at,
               CASE WHEN e.value ~ '^[0-9]{1,18}$' THEN e.value::bigint END AS shop_id
        FROM router_analytics a
        CROSS JOIN LATERAL jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(a.payload -> 'shop_ids') = 'array'
                 THEN a.payload -> 'shop_ids'
                 ELSE '[]'::jsonb
            END
        ) AS e(value)
        WHERE a.event_type = 'search'
          AND NOT a.synthetic
    ) d
    WHERE d.shop_id IS NOT NULL
    GROUP BY d.shop_id
),
per_shop AS (
    SELECT a.shop_id,
           count(*) FILTER (WHERE a.event_type = 'delegate') AS times_delegated,
           count(*) FILTER (WHERE a.event_type = 'booking')  AS bookings
    FROM router_analytics a
    WHERE a.shop_id IS NOT NULL
      AND a.event_type IN ('delegate', 'booking')
      AND NOT a.synthetic
    GROUP BY a.shop_id
)
SELECT
    s.id                                 AS shop_id,
    s.slug,
    s.name,
    s.category,
    coalesce(d.times_discovered, 0)      AS times_discovered,
    coalesce(p.times_delegated, 0)       AS times_delegated,
    coalesce(p.bookings, 0)              AS bookings,
    d.last_discovered_at
FROM shops s
LEFT JOIN discovered d ON d.shop_id = s.id
LEFT JOIN per_shop p ON p.shop_id = s.id;

CREATE OR REPLACE VIEW router_conversion_funnel AS
SELECT
    a.created_at::date                                       AS date,
    count(*) FILTER (WHERE a.event_type = 'search')          AS searches,
    count(*) FILTER (WHERE a.event_type = 'delegate')        AS delegations,
    count(*) FILTER (WHERE a.event_type = 'chat_message')    AS chat_messages,
    count(*) FILTER (WHERE a.event_type = 'booking')         AS bookings,
    round(100.0 * count(*) FILTER (WHERE a.event_type = 'delegate')
          / NULLIF(count(*) FILTER (WHERE a.event_type = 'search'), 0), 1)   AS search_to_delegate_pct,
    round(100.0 * count(*) FILTER (WHERE a.event_type = 'booking')
          / NULLIF(count(*) FILTER (WHERE a.event_type = 'delegate'), 0), 1) AS delegate_to_booking_pct
FROM router_analytics a
WHERE NOT a.synthetic
GROUP BY a.created_at::date;
