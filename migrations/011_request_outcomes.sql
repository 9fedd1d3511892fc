-- 011_request_outcomes: every router request leaves a trace a rate can be computed from
-- (docs/metrics.md), and the Custom GPT's "how did we do?" has somewhere to go.
--
-- 1. router_analytics gains the event type 'feedback' (one per rating given). 5xx responses
--    stay 'error' events, now with payload.route and payload.status.
-- 2. Refused requests (4xx, 429, and the toggle's deliberate 503) are NOT one row each: a flood
--    of refused requests must not become a flood of inserts. The server counts them in memory
--    and adds the counts to one row per (minute, route, policy, status, client) with
--    INSERT … ON CONFLICT DO UPDATE. client_hmac is an HMAC of the rate-limit client key
--    (never the raw address).
-- 3. router_feedback: one rating per chat session; a later one replaces it.

-- Widen the check without scanning the (large) table under an exclusive lock: NOT VALID
-- takes effect for new rows at once; VALIDATE scans under SHARE UPDATE EXCLUSIVE, which
-- lets inserts continue.
ALTER TABLE router_analytics DROP CONSTRAINT router_analytics_event_type_check;
ALTER TABLE router_analytics ADD CONSTRAINT router_analytics_event_type_check
    CHECK (event_type IN ('search', 'delegate', 'chat_message', 'booking', 'error', 'feedback')) NOT VALID;
ALTER TABLE router_analytics VALIDATE CONSTRAINT router_analytics_event_type_check;

CREATE TABLE router_refusals (
    minute      timestamptz NOT NULL,
    route       text NOT NULL,
    policy      text NOT NULL,
    status      smallint NOT NULL,
    client_hmac text NOT NULL,
    synthetic   boolean NOT NULL DEFAULT false,
    -- '' rather than NULL: these are part of the key, and a key column cannot be NULL.
    release     text NOT NULL DEFAULT '',
    host        text NOT NULL DEFAULT '',
    count       integer NOT NULL,
    CONSTRAINT router_refusals_pkey PRIMARY KEY (minute, route, policy, status, client_hmac, synthetic, release, host),
    CONSTRAINT router_refusals_status_check CHECK (status BETWEEN 400 AND 499 OR status = 503),
    CONSTRAINT router_refusals_count_check CHECK (count > 0),
    CONSTRAINT router_refusals_minute_check CHECK (minute = date_trunc('minute', minute))
);

CREATE TABLE router_feedback (
    session_id uuid PRIMARY KEY REFERENCES chat_sessions (id) ON DELETE CASCADE,
    rating     smallint NOT NULL,
    comment    text,
    synthetic  boolean NOT NULL DEFAULT false,
    release    text,
    host       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT router_feedback_rating_check CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT router_feedback_comment_check CHECK (char_length(comment) <= 500)
);
-- "Satisfaction over the last 30 days" and retention deletes.
CREATE INDEX router_feedback_updated_at_idx ON router_feedback (updated_at);

-- The roles allowed to write analytics (INSERT on router_analytics, other than the owner)
-- write these two tables too.
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
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON router_refusals TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON router_feedback TO %s', grantee);
    END LOOP;
END
$$;
