-- 001_shops: the businesses RouterGPT can route a customer to.
--
-- slug is the public, stable identifier used in URLs and by the Custom GPT
-- (POST /router/delegate {"shop_slug": ...}), so its format is enforced here
-- rather than trusted to every writer: lowercase words joined by single hyphens.
-- category is compared with = by location search (and indexed in 007), so it is
-- kept lowercase to make 'Barbershop' and 'barbershop' impossible to mix up.
CREATE TABLE shops (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL,
    name        text NOT NULL,
    category    text NOT NULL,
    address     text,
    city        text,
    state       text,
    postal_code text,
    phone       text,
    -- Arizona does not observe DST, which is why the default is America/Phoenix
    -- and not America/Denver.
    timezone    text NOT NULL DEFAULT 'America/Phoenix',
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shops_slug_key UNIQUE (slug),
    CONSTRAINT shops_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT shops_category_lowercase CHECK (category <> '' AND category = lower(category))
);
