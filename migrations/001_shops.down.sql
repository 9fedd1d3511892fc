-- Undo 001_shops.
DROP TABLE IF EXISTS shops;
