-- 012_analytics_rollups: rollups of router_analytics, so `routergpt metrics --since 30d` and
-- `routergpt analytics --since 7d` read a few thousand rows instead of millions (docs/metrics.md,
-- "Rollups"). They are derived data, rebuilt from router_analytics at any time: the commands
-- bring them up to date before reading (src/db/analytics/rollups.ts), and whatever rewrites or
-- deletes analytics rows calls invalidateAnalyticsRollups(), which rewinds them.
--
-- Periods are UTC hours (instants, whatever the session's TimeZone): they add up exactly into the
-- UTC days `routergpt analytics` charts, and into the calendar days of any whole-hour zone.
-- Only real traffic is rolled up (synthetic rows are left out of every figure that uses these).

-- Per closed hour and event type: counts and latency sums (averages are sums ÷ counts).
CREATE TABLE router_analytics_hourly (
    hour           timestamptz NOT NULL,
    event_type     text NOT NULL,
    events         bigint NOT NULL,
    -- Events with a latency, and the sum of their latencies.
    timed          bigint NOT NULL,
    latency_ms_sum bigint NOT NULL,
    CONSTRAINT router_analytics_hourly_pkey PRIMARY KEY (hour, event_type)
);

-- The sessions seen in each closed hour (a day's unique sessions are not a sum of hours'), with
-- their first event (instant and type, in (created_at, id) order) and last event's instant in
-- that hour: a window's partial first and last hours join them to the hours between.
CREATE TABLE router_analytics_hourly_sessions (
    hour       timestamptz NOT NULL,
    session_id uuid NOT NULL,
    first_at   timestamptz NOT NULL,
    first_type text NOT NULL,
    last_at    timestamptz NOT NULL,
    CONSTRAINT router_analytics_hourly_sessions_pkey PRIMARY KEY (hour, session_id)
);
CREATE INDEX router_analytics_hourly_sessions_session_id_idx ON router_analytics_hourly_sessions (session_id, hour);

-- The time between events per session: per closed hour and event type, the events that followed
-- an earlier event of the same session, by the hour of that earlier event, and the seconds since it.
CREATE TABLE router_analytics_hourly_gaps (
    hour        timestamptz NOT NULL,
    event_type  text NOT NULL,
    prev_hour   timestamptz NOT NULL,
    events      bigint NOT NULL,
    seconds_sum numeric NOT NULL,
    CONSTRAINT router_analytics_hourly_gaps_pkey PRIMARY KEY (hour, event_type, prev_hour)
);

-- Per closed hour and shop: times found in a search's results, delegated to, booked.
CREATE TABLE router_analytics_hourly_shops (
    hour       timestamptz NOT NULL,
    shop_id    bigint NOT NULL,
    discovered bigint NOT NULL,
    delegated  bigint NOT NULL,
    booked     bigint NOT NULL,
    CONSTRAINT router_analytics_hourly_shops_pkey PRIMARY KEY (hour, shop_id)
);

-- The ordered funnel, one row per real search event (event_id = router_analytics.id), with the
-- instant of its first qualifying delegation and of its first booking (24-hour funnel window).
-- No foreign key: a rewrite of router_analytics invalidates these rows instead.
CREATE TABLE router_search_outcomes (
    event_id     bigint PRIMARY KEY,
    search_id    uuid NOT NULL,
    searched_at  timestamptz NOT NULL,
    has_results  boolean NOT NULL,
    delegated_at timestamptz,
    booked_at    timestamptz
);
CREATE INDEX router_search_outcomes_search_id_idx ON router_search_outcomes (search_id);
CREATE INDEX router_search_outcomes_searched_at_idx ON router_search_outcomes (searched_at);

-- The earliest qualifying delegation per (search event, session): a booking counts within the
-- funnel window after it.
CREATE TABLE router_search_delegations (
    event_id     bigint NOT NULL,
    session_id   uuid NOT NULL,
    delegated_at timestamptz NOT NULL,
    CONSTRAINT router_search_delegations_pkey PRIMARY KEY (event_id, session_id)
);
CREATE INDEX router_search_delegations_session_id_idx ON router_search_delegations (session_id, delegated_at);

-- The funnel per hour of searches whose outcome can no longer change (two funnel windows later).
CREATE TABLE router_funnel_hourly (
    hour         timestamptz PRIMARY KEY,
    searches     bigint NOT NULL,
    with_results bigint NOT NULL,
    delegated    bigint NOT NULL,
    booked       bigint NOT NULL
);

-- How far each rollup goes (exclusive). NULL: not built yet.
CREATE TABLE router_analytics_rollup_state (
    id             boolean PRIMARY KEY DEFAULT true,
    -- router_analytics_hourly, _sessions and _shops hold every hour before this one.
    hourly_until   timestamptz,
    -- router_search_outcomes and _delegations reflect every event before this instant.
    outcomes_until timestamptz,
    -- router_funnel_hourly holds every hour before this one.
    funnel_until   timestamptz,
    -- The highest router_analytics.id seen by the last refresh: a row above it stamped before the
    -- horizon is a backfill, and the next refresh rebuilds from it.
    max_event_id   bigint,
    refreshed_at   timestamptz,
    CONSTRAINT router_analytics_rollup_state_one_row CHECK (id)
);
INSERT INTO router_analytics_rollup_state (id) VALUES (true);
