-- The base every later migration builds on.
--
-- pg_trgm and btree_gin serve search over Chinese text and mixed GIN indexes
-- (both are trusted extensions: a database owner may create them).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Sets updated_at on every UPDATE of a row; attach with
--   CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
