-- Undo 006_phase3_shop_location. Dropping the columns also drops their CHECK
-- constraints and any index still built on them.
ALTER TABLE shops
    DROP CONSTRAINT IF EXISTS shops_coordinates_both_or_neither,
    DROP COLUMN IF EXISTS geocode_accuracy,
    DROP COLUMN IF EXISTS geocode_source,
    DROP COLUMN IF EXISTS geocoded_at,
    DROP COLUMN IF EXISTS longitude,
    DROP COLUMN IF EXISTS latitude;
