-- Undo 005_feature_flags.
DROP TABLE IF EXISTS feature_flags;
