-- 009_router_analytics: one row per RouterGPT event, and the views the checklist reads.
--
-- Events: 'search' (location search, payload.shop_ids = JSON array of the shop ids
-- returned, in rank order), 'delegate' (the GPT handed the customer to shop_id),
-- 'chat_message', 'booking', 'error'.
-- session_id has no foreign key: analytics must outlive the chat sessions they describe
-- (sessions are purged with their shop, and may be pruned), and an event must never fail
-- to insert because its session is gone. shop_id is SET NULL for the same reason
-- (removing the checklist's test shops keeps their events, anonymised).
CREATE TABLE router_analytics (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type text NOT NULL,
    session_id uuid,
    shop_id    bigint REFERENCES shops (id) ON DELETE SET NULL,
    search_id  uuid,
    latency_ms integer,
    payload    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT router_analytics_event_type_check
        CHECK (event_type IN ('search', 'delegate', 'chat_message', 'booking', 'error')),
    CONSTRAINT router_analytics_latency_ms_check CHECK (latency_ms >= 0)
);

-- "Events in the last hour" and retention deletes (WHERE created_at < now() - ...).
CREATE INDEX router_analytics_created_at_idx ON router_analytics (created_at);
-- Per-type counts over a time window, as the views and dashboards do.
CREATE INDEX router_analytics_event_type_created_at_idx ON router_analytics (event_type, created_at);
-- Per-shop counts in router_shop_discovery, and the ON DELETE SET NULL from shops,
-- which would otherwise scan the whole (large) table for every deleted shop.
CREATE INDEX router_analytics_shop_id_idx ON router_analytics (shop_id) WHERE shop_id IS NOT NULL;

-- Days in these views are calendar days in the session's TimeZone, the same clock as
-- CURRENT_DATE, so "WHERE date >= CURRENT_DATE - 7" means what it says. Run
-- SET TimeZone = 'America/Phoenix' first to get the shops' local days.

-- Events per day and type.
CREATE VIEW router_usage_summary AS
SELECT
    a.created_at::date                    AS date,
    a.event_type,
    count(*)                              AS event_count,
    count(DISTINCT a.session_id)          AS unique_sessions,
    round(avg(a.latency_ms), 1)           AS avg_latency_ms
FROM router_analytics a
GROUP BY a.created_at::date, a.event_type;

-- How often each shop was found, delegated to and booked through the router. Every shop
-- appears (with zeros) so a shop that search never returns is visible too.
-- times_discovered counts search events whose payload.shop_ids contains the shop (once
-- per event even if listed twice). Elements that are not plain integers, or a shop_ids
-- that is not an array, are ignored rather than making the whole view fail.
-- bookings counts 'booking' events (router-originated bookings), not the bookings table.
CREATE VIEW router_shop_discovery AS
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

-- Daily funnel: search -> delegate -> booking. Percentages are NULL (not an error)
-- on days with no searches or no delegations.
CREATE VIEW router_conversion_funnel AS
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
