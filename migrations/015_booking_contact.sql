-- 015_booking_contact: a booking someone can be called about (issue 14, A15).
--
-- 1. shops.require_customer_phone: the shop's setting that a booking needs a phone number
--    as well as a name. Both assistants ask for it before booking, and the booking layer
--    (src/server/booking/create-booking.ts) refuses a chat booking without it.
-- 2. bookings.customer_phone: the number the customer gave, NULL where none was asked for.
--    It is contact data like customer_name: privacy erase removes both (docs/privacy.md).
--
-- Why no CHECK that a chat booking has a customer_name: a privacy erasure keeps the booking
-- (the time stays taken) and removes its name, so a booking with a session and no name is
-- legitimate after an erasure, and a CHECK, even NOT VALID, would refuse that UPDATE. Older
-- bookings made before this rule may also have no name. The rule applies when a booking is
-- made, so it is enforced where bookings are made, in createBooking, for every caller.
--
-- ADD COLUMN with a constant default is metadata only since PostgreSQL 11 (no rewrite, a
-- brief ACCESS EXCLUSIVE lock that the migrator's lock_timeout bounds); without a default it
-- is metadata only everywhere.
ALTER TABLE shops ADD COLUMN require_customer_phone boolean NOT NULL DEFAULT false;
ALTER TABLE bookings ADD COLUMN customer_phone text;
-- A phone number as people write it (digits, spaces, + ( ) . -), bounded so a message cannot
-- put anything else in the column. NOT VALID skips the scan of existing rows (which would
-- hold the ACCESS EXCLUSIVE lock for the length of the table): every one of them is NULL
-- here, and new and updated rows are checked all the same.
ALTER TABLE bookings ADD CONSTRAINT bookings_customer_phone_format
    CHECK (customer_phone IS NULL OR customer_phone ~ '^\+?[(]?[0-9][0-9 ().-]{5,28}[0-9]$') NOT VALID;
