-- 005_feature_flags: runtime switches read by the API server.
--
-- The checklist's emergency lever is ENABLE_ROUTER_GPT=false, which needs a redeploy or
-- restart. A row here can be flipped with one UPDATE on a live system, and updated_by
-- records who did it. value holds optional settings for the flag.
CREATE TABLE feature_flags (
    key        text PRIMARY KEY,
    enabled    boolean NOT NULL,
    value      jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text
);

-- ON CONFLICT DO NOTHING: never overwrite a flag an operator has already changed.
INSERT INTO feature_flags (key, enabled, value, updated_by)
VALUES ('router_gpt', true, '{}', 'migration 005')
ON CONFLICT (key) DO NOTHING;
