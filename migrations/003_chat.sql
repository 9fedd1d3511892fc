-- 003_chat: conversations between a customer and one shop's assistant.
--
-- A session is created either by the router (source 'search': the Custom GPT found the
-- shop through /router/search-by-location and delegated to it, search_id ties the
-- session back to that search in router_analytics) or directly (source 'direct').
-- search_id has no foreign key: searches are not stored as rows, only as analytics events.
-- router_context holds what the router passed on (the customer's intent, location,
-- preferred time ...) so the shop assistant does not ask again.
CREATE TABLE chat_sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id         bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    source          text NOT NULL DEFAULT 'direct',
    search_id       uuid,
    intent          text,
    router_context  jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- NULL until the first message is stored.
    last_message_at timestamptz,
    CONSTRAINT chat_sessions_source_check CHECK (source IN ('search', 'direct'))
);

-- Serves the ON DELETE CASCADE from shops (purging a shop) and per-shop listings.
CREATE INDEX chat_sessions_shop_id_idx ON chat_sessions (shop_id);

CREATE TABLE chat_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
    role       text NOT NULL,
    content    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_messages_role_check CHECK (role IN ('user', 'assistant', 'system', 'tool'))
);

-- A conversation is always read in order: WHERE session_id = $1 ORDER BY id.
-- The same index serves the ON DELETE CASCADE from chat_sessions.
CREATE INDEX chat_messages_session_id_id_idx ON chat_messages (session_id, id);
