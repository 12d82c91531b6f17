-- Notifications: mutes of optional occasions only, and a muted occasion writes nothing.

-- A mandatory occasion cannot be muted.
CREATE OR REPLACE FUNCTION notification_mutes_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT mandatory FROM notification_occasions WHERE occasion = NEW.occasion) THEN
        RAISE EXCEPTION 'the occasion % is mandatory and cannot be muted', NEW.occasion
            USING ERRCODE = 'check_violation', CONSTRAINT = 'notification_mutes_optional',
                  TABLE = 'notification_mutes', COLUMN = 'occasion';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER notification_mutes_optional BEFORE INSERT OR UPDATE ON notification_mutes
    FOR EACH ROW EXECUTE FUNCTION notification_mutes_check();

-- An occasion that users muted does not become mandatory behind their back.
CREATE OR REPLACE FUNCTION notification_occasions_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.mandatory AND EXISTS (SELECT 1 FROM notification_mutes WHERE occasion = NEW.occasion) THEN
        RAISE EXCEPTION 'the occasion % is muted by some users: unmute it before making it mandatory', NEW.occasion
            USING ERRCODE = 'check_violation', CONSTRAINT = 'notification_mutes_optional',
                  TABLE = 'notification_occasions', COLUMN = 'mandatory';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER notification_occasions_mandatory BEFORE UPDATE OF mandatory ON notification_occasions
    FOR EACH ROW EXECUTE FUNCTION notification_occasions_check();

-- A notification of a muted occasion is not written (the statement goes on without it).
CREATE OR REPLACE FUNCTION notifications_skip_muted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM notification_mutes WHERE user_id = NEW.user_id AND occasion = NEW.occasion) THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER notifications_muted BEFORE INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_skip_muted();

-- A notification is never rewritten: only its read mark moves, and only once.
CREATE OR REPLACE FUNCTION notifications_check_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.user_id, NEW.occasion, NEW.subject, NEW.title, NEW.body, NEW.link, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.user_id, OLD.occasion, OLD.subject, OLD.title, OLD.body, OLD.link, OLD.created_at)
        OR (OLD.read_at IS NOT NULL AND NEW.read_at IS DISTINCT FROM OLD.read_at) THEN
        RAISE EXCEPTION 'a notification is kept as it was sent; only its first read is recorded'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'notifications_as_sent', TABLE = 'notifications';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER notifications_as_sent BEFORE UPDATE ON notifications
    FOR EACH ROW EXECUTE FUNCTION notifications_check_update();
