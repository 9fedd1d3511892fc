-- 013_retention_privacy: what the maintenance cadences, the retention jobs and the GDPR
-- requests need (docs/maintenance.md, docs/privacy.md).
--
-- 1. chat_sessions.client_hmac: the HMAC of the rate-limit client key of the request that
--    opened the session (src/server/analytics/client-hmac.ts, the same value router_refusals
--    stores, never an address). The daily review joins the two: clients that were rate
--    limited and later booked were legitimate clients blocked. NULL on older sessions.
-- 2. chat_sessions.anonymised_at: set when retention (chat_anonymise_days) or an erasure
--    removed the transcript. The session and its booking stay, without their text.
-- 3. router_analytics_archive: events older than retention.analytics_archive_days, moved
--    out of the hot table in batches. Same columns as router_analytics plus archived_at,
--    with no foreign key: an archived row must never block or be changed by a shop purge.
--    metrics and privacy read both tables.
-- 4. Indexes the privacy requests look people up by (every event of a session, a booking's
--    customer name compared case-insensitively) and the retention jobs select by.
--
-- No transaction: the indexes on the live tables are built CONCURRENTLY (a plain build
-- holds a SHARE lock and blocks every insert for its whole length, on a table of millions
-- of rows). The migrator then runs one statement at a time, so every statement stands
-- alone and is safe to re-run (IF NOT EXISTS). ADD COLUMN without a default is metadata
-- only. Do not put semicolons in comments here: the file is split into statements on them.
-- routergpt:no-transaction

ALTER TABLE chat_sessions ADD COLUMN IF NOT EXISTS client_hmac text;
ALTER TABLE chat_sessions ADD COLUMN IF NOT EXISTS anonymised_at timestamptz;

CREATE TABLE IF NOT EXISTS router_analytics_archive (
    id          bigint PRIMARY KEY,
    event_type  text NOT NULL,
    session_id  uuid,
    shop_id     bigint,
    search_id   uuid,
    latency_ms  integer,
    payload     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    synthetic   boolean NOT NULL DEFAULT false,
    release     text,
    host        text,
    archived_at timestamptz NOT NULL DEFAULT now()
);

-- Deleting archived rows after retention.analytics_delete_days, and metrics over old windows.
CREATE INDEX IF NOT EXISTS router_analytics_archive_created_at_idx ON router_analytics_archive (created_at);
-- Everything held about one session (privacy export and erase).
CREATE INDEX IF NOT EXISTS router_analytics_archive_session_id_idx ON router_analytics_archive (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS router_analytics_session_id_idx ON router_analytics (session_id) WHERE session_id IS NOT NULL;

-- "Clients limited who later booked": a refused client's sessions.
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_sessions_client_hmac_idx ON chat_sessions (client_hmac) WHERE client_hmac IS NOT NULL;
-- Transcripts past chat_anonymise_days not yet anonymised.
CREATE INDEX CONCURRENTLY IF NOT EXISTS chat_sessions_created_at_idx ON chat_sessions (created_at) WHERE anonymised_at IS NULL;
-- privacy --customer: an exact, case-insensitive match on the booking's customer name.
CREATE INDEX CONCURRENTLY IF NOT EXISTS bookings_customer_name_lower_idx ON bookings (lower(customer_name)) WHERE customer_name IS NOT NULL;
