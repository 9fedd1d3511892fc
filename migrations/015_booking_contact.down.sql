ALTER TABLE bookings DROP CONSTRAINT IF EXISTS bookings_customer_phone_format;
ALTER TABLE bookings DROP COLUMN IF EXISTS customer_phone;
ALTER TABLE shops DROP COLUMN IF EXISTS require_customer_phone;
