-- Undo 004_bookings.
DROP TABLE IF EXISTS booking_slots;
DROP TABLE IF EXISTS bookings;
