-- The expert pool (专家库): who may hold a profile, whose pool it is, the time and revision of every edit.

-- A profile belongs to a user whose role is expert, in the pool of a provincial bureau.
CREATE OR REPLACE FUNCTION experts_check_scope() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    user_role user_role;
    bureau_level bureau_level;
BEGIN
    SELECT role INTO user_role FROM users WHERE id = NEW.user_id;
    IF user_role IS DISTINCT FROM 'expert' THEN
        RAISE EXCEPTION 'user % is not an expert', NEW.user_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'experts_user_expert', TABLE = 'experts', COLUMN = 'user_id';
    END IF;
    SELECT level INTO bureau_level FROM bureaus WHERE id = NEW.bureau_id;
    IF bureau_level IS DISTINCT FROM 'province' THEN
        RAISE EXCEPTION 'bureau % is not a provincial bureau', NEW.bureau_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'experts_bureau_province', TABLE = 'experts', COLUMN = 'bureau_id';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER experts_scope BEFORE INSERT OR UPDATE OF user_id, bureau_id ON experts
    FOR EACH ROW EXECUTE FUNCTION experts_check_scope();

-- A user with an expert profile keeps the role expert.
CREATE OR REPLACE FUNCTION users_keep_expert_role() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role <> 'expert' AND EXISTS (SELECT 1 FROM experts WHERE user_id = NEW.id) THEN
        RAISE EXCEPTION 'user % has an expert profile; the role stays expert', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'experts_user_expert', TABLE = 'users', COLUMN = 'role';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER users_expert_role BEFORE UPDATE OF role ON users
    FOR EACH ROW WHEN (OLD.role = 'expert') EXECUTE FUNCTION users_keep_expert_role();

CREATE OR REPLACE TRIGGER experts_touch BEFORE UPDATE ON experts FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER experts_revision BEFORE UPDATE ON experts FOR EACH ROW EXECUTE FUNCTION bump_revision();
