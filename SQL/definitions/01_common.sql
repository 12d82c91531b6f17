-- Trigger functions every area uses.

-- Sets updated_at on every UPDATE of a row; attach with
--   CREATE OR REPLACE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Every edit of a row bumps its revision: the ETag of its draft. An UPDATE
-- that names the revision it read (WHERE revision = n) loses a race cleanly.
CREATE OR REPLACE FUNCTION bump_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    RETURN NEW;
END;
$$;
