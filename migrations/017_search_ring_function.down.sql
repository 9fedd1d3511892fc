-- Undo 017_search_ring_function: the server sends the first ring as SQL again (search-shops.ts
-- falls back by itself when the function is missing).
DROP FUNCTION IF EXISTS routergpt_search_ring(float8, float8, float8, int, text, int[], float8, float8, float8, float8);
