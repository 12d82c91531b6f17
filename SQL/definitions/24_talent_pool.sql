-- The talent pool (migration 0034): one person, one record. A talent names at most one expert (expert_id is unique),
-- and only an expert who works for the talent's unit; an expert who moves to another unit leaves the talent record
-- of the former one unlinked.
CREATE OR REPLACE FUNCTION talents_expert_unit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.expert_id IS NOT NULL
       AND (SELECT unit_id FROM experts WHERE user_id = NEW.expert_id) IS DISTINCT FROM NEW.unit_id THEN
        RAISE EXCEPTION 'expert % does not work for unit %', NEW.expert_id, NEW.unit_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'talents_expert_same_unit', TABLE = 'talents',
                  COLUMN = 'expert_id';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER talents_expert_unit BEFORE INSERT OR UPDATE OF expert_id, unit_id ON talents
    FOR EACH ROW EXECUTE FUNCTION talents_expert_unit();

CREATE OR REPLACE FUNCTION experts_unlink_moved_talent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE talents SET expert_id = NULL
    WHERE expert_id = NEW.user_id AND unit_id IS DISTINCT FROM NEW.unit_id;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER experts_unlink_moved_talent AFTER UPDATE OF unit_id ON experts
    FOR EACH ROW WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id) EXECUTE FUNCTION experts_unlink_moved_talent();

CREATE OR REPLACE TRIGGER talents_revision BEFORE UPDATE ON talents FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE OR REPLACE TRIGGER talents_touch BEFORE UPDATE ON talents FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
