-- 002_services_and_hours: what a shop sells and when it is open.

-- Durations are capped at 8 hours: anything longer is a data-entry error (minutes
-- typed as seconds), and a booking occupies one booking_slots row per 15 minutes
-- (see 004), so the cap also bounds the rows one booking can write.
CREATE TABLE services (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name             text NOT NULL,
    duration_minutes integer NOT NULL,
    price_cents      integer NOT NULL,
    CONSTRAINT services_shop_id_name_key UNIQUE (shop_id, name),
    CONSTRAINT services_duration_minutes_check CHECK (duration_minutes > 0 AND duration_minutes <= 480),
    CONSTRAINT services_price_cents_check CHECK (price_cents >= 0)
);

-- weekday follows extract(dow ...): 0 = Sunday ... 6 = Saturday, so the application
-- can compare it directly with extract(dow FROM ts AT TIME ZONE shops.timezone).
-- opens is part of the primary key so a day can have several intervals
-- (09:00-12:00 and 13:00-18:00 for a lunch break).
-- Times are wall-clock times in the shop's timezone. Overnight opening
-- (22:00-02:00) is not supported: store it as two intervals on two weekdays.
CREATE TABLE opening_hours (
    shop_id bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    weekday smallint NOT NULL,
    opens   time NOT NULL,
    closes  time NOT NULL,
    CONSTRAINT opening_hours_pkey PRIMARY KEY (shop_id, weekday, opens),
    CONSTRAINT opening_hours_weekday_check CHECK (weekday BETWEEN 0 AND 6),
    CONSTRAINT opening_hours_closes_after_opens CHECK (closes > opens)
);
