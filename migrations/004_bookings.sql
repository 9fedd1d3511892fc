-- 004_bookings: appointments, and the schema-level guarantee that a slot of one shop
-- can never be booked twice.
--
-- service_id cascades (rather than RESTRICT) so that purging a shop, which cascades to
-- its services, also removes their bookings instead of failing half way. session_id is
-- SET NULL: a booking outlives the chat that produced it.
-- idempotency_key lets the Custom GPT retry a booking call safely: the second INSERT
-- hits the unique constraint and the application returns the first booking.
CREATE TABLE bookings (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id         bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    service_id      bigint NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    session_id      uuid REFERENCES chat_sessions (id) ON DELETE SET NULL,
    customer_name   text,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'confirmed',
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_idempotency_key_key UNIQUE (idempotency_key),
    -- Target of the composite foreign key from booking_slots (below), which makes it
    -- impossible for a slot row to claim a different shop than its booking.
    CONSTRAINT bookings_id_shop_id_key UNIQUE (id, shop_id),
    CONSTRAINT bookings_ends_after_starts CHECK (ends_at > starts_at),
    CONSTRAINT bookings_status_check CHECK (status IN ('confirmed', 'cancelled'))
);

-- A shop's schedule (WHERE shop_id = $1 AND starts_at >= ...), and the ON DELETE
-- CASCADE from shops. The partial unique index below cannot serve the cascade
-- because it only covers confirmed bookings.
CREATE INDEX bookings_shop_id_starts_at_idx ON bookings (shop_id, starts_at);
-- Serve ON DELETE CASCADE from services and ON DELETE SET NULL from chat_sessions,
-- which would otherwise scan all bookings for every deleted row.
CREATE INDEX bookings_service_id_idx ON bookings (service_id);
CREATE INDEX bookings_session_id_idx ON bookings (session_id) WHERE session_id IS NOT NULL;

-- Cheap first line of defence, and the one that still holds if a writer forgets the
-- slots: two confirmed bookings of one shop cannot start at the same instant.
-- Cancelled bookings are excluded so a cancelled time can be booked again.
CREATE UNIQUE INDEX bookings_one_confirmed_per_start ON bookings (shop_id, starts_at) WHERE status = 'confirmed';

-- Why booking_slots exists: a unique index on starts_at only catches identical start
-- times, not overlaps (10:00-10:45 and 10:30-11:00 both get in). The textbook answer,
-- EXCLUDE USING gist (shop_id WITH =, tstzrange(starts_at, ends_at) WITH &&), needs the
-- btree_gist extension, which we cannot rely on (managed hosts, PGlite, no extensions).
-- So time is cut into 15-minute slots and a booking writes one row per slot it touches
-- (slot_start = each 15-minute boundary from floor(starts_at) up to, not including, ends_at).
-- Two overlapping bookings of one shop then share at least one slot and the second
-- INSERT fails on the primary key (SQLSTATE 23505, constraint booking_slots_pkey) even
-- under concurrency, with no locking in the application.
--
-- Contract for writers: insert the booking and all its slots in ONE transaction, and
-- when a booking is cancelled delete its slots in the same transaction that sets
-- status = 'cancelled' (otherwise the time stays blocked). Deleting a booking removes
-- its slots by cascade.
--
-- The model is one customer at a time per shop. A shop with several chairs would need
-- a resource column (chair or staff id) added to this primary key.
CREATE TABLE booking_slots (
    shop_id    bigint NOT NULL,
    slot_start timestamptz NOT NULL,
    booking_id uuid NOT NULL,
    CONSTRAINT booking_slots_pkey PRIMARY KEY (shop_id, slot_start),
    CONSTRAINT booking_slots_booking_fkey FOREIGN KEY (booking_id, shop_id)
        REFERENCES bookings (id, shop_id) ON DELETE CASCADE,
    -- Slots start on a 15-minute boundary of the epoch (so :00 :15 :30 :45 in every
    -- time zone with a whole-quarter-hour offset) with no stray seconds. Written with
    -- floor() rather than a cast and % because extract() returns double precision on
    -- PostgreSQL 13 and numeric from 14 on, and a cast to bigint would round
    -- 10:00:00.4 to an aligned value.
    CONSTRAINT booking_slots_slot_start_aligned
        CHECK (extract(epoch FROM slot_start) = floor(extract(epoch FROM slot_start) / 900) * 900)
);

-- Serves the ON DELETE CASCADE from bookings and "which slots does this booking hold".
CREATE INDEX booking_slots_booking_id_idx ON booking_slots (booking_id);
