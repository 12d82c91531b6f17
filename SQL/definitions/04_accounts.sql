-- Bureaus and users.

-- A publisher's bureau is provincial and a recommender's municipal.
CREATE OR REPLACE FUNCTION users_check_bureau_level() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bureau_level bureau_level;
BEGIN
    IF NEW.bureau_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT level INTO bureau_level FROM bureaus WHERE id = NEW.bureau_id;
    IF (NEW.role = 'provincial_publisher' AND bureau_level <> 'province')
        OR (NEW.role = 'municipal_recommender' AND bureau_level <> 'municipal') THEN
        RAISE EXCEPTION 'a % must belong to a % bureau', NEW.role,
            CASE NEW.role WHEN 'provincial_publisher' THEN 'provincial' ELSE 'municipal' END
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_bureau_level', TABLE = 'users', COLUMN = 'bureau_id';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER users_bureau_level BEFORE INSERT OR UPDATE OF role, bureau_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_check_bureau_level();

-- A bureau's level never changes (users were placed by it).
CREATE OR REPLACE FUNCTION bureaus_level_is_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.level <> OLD.level THEN
        RAISE EXCEPTION 'a bureau''s level cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bureaus_level_fixed', TABLE = 'bureaus', COLUMN = 'level';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER bureaus_level_fixed BEFORE UPDATE OF level ON bureaus
    FOR EACH ROW EXECUTE FUNCTION bureaus_level_is_fixed();
