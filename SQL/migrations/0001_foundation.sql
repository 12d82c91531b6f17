-- former checksum: b6a9e5d19ef7caa66f0f446a153cc15b300effd441f7d6f6dabdaf5500d0601e
-- The base every later migration builds on.
--
-- Functions, triggers and views live in SQL/definitions (touch_updated_at: 01_common.sql).
--
-- pg_trgm and btree_gin serve search over Chinese text and mixed GIN indexes
-- (both are trusted extensions: a database owner may create them).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
