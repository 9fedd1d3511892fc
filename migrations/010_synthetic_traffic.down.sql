-- Undo 010_synthetic_traffic. The views of 009 as they were (counting every row) first: they
-- depend on the synthetic column. routergpt.synthetic_key goes too; a later `migrate up`
-- generates a new key (servers re-read it within a minute; CLIs read it on every run).
CREATE OR REPLACE VIEW router_usage_summary AS
SELECT
    a.created_at::date                    AS date,
    a.event_type,
    count(*)                              AS event_count,
    count(DISTINCT a.session_id)          AS unique_sessions,
    round(avg(a.latency_ms), 1)           AS avg_latency_ms
FROM router_analytics a
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
GROUP BY a.created_at::date;

DROP TABLE IF EXISTS routergpt.synthetic_key;
ALTER TABLE router_analytics DROP COLUMN IF EXISTS host;
ALTER TABLE router_analytics DROP COLUMN IF EXISTS release;
ALTER TABLE bookings DROP COLUMN IF EXISTS synthetic;
ALTER TABLE chat_sessions DROP COLUMN IF EXISTS synthetic;
ALTER TABLE router_analytics DROP COLUMN IF EXISTS synthetic;
