-- Challenges (榜单任务): amended only with a reason once published, and published only inside the
-- programme's window.

CREATE OR REPLACE TRIGGER challenges_touch BEFORE UPDATE ON challenges FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER challenges_revision BEFORE UPDATE ON challenges FOR EACH ROW EXECUTE FUNCTION bump_revision();

-- A published challenge changes only with an amendment of the next version, in the same transaction.
CREATE OR REPLACE FUNCTION challenges_require_amendment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft'
        AND (NEW.title, NEW.task, NEW.content, NEW.indicators, NEW.category, NEW.domain, NEW.industry_chain,
             NEW.application_deadline, NEW.completion_deadline, NEW.funding_ceiling_fen, NEW.winners)
            IS DISTINCT FROM
            (OLD.title, OLD.task, OLD.content, OLD.indicators, OLD.category, OLD.domain, OLD.industry_chain,
             OLD.application_deadline, OLD.completion_deadline, OLD.funding_ceiling_fen, OLD.winners)
    THEN
        IF NEW.version <> OLD.version + 1 OR NOT EXISTS (
            SELECT 1 FROM challenge_amendments WHERE challenge_id = NEW.id AND version = NEW.version)
        THEN
            RAISE EXCEPTION 'a published challenge changes only through an amendment with a reason'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'challenges_amendment_required', TABLE = 'challenges';
        END IF;
    END IF;
    IF NEW.status = 'draft' AND OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'a published challenge cannot return to draft'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'challenges_status_forward', TABLE = 'challenges';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER challenges_amendment_required BEFORE UPDATE ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenges_require_amendment();

-- A challenge is published with its application deadline still ahead, inside
-- its programme's window. The programme row is share-locked, so a concurrent
-- policy change either commits first (and is checked here) or sees this
-- publication and is refused.
CREATE OR REPLACE FUNCTION challenges_check_publication() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    closes timestamptz;
BEGIN
    IF NEW.status = 'published' AND (TG_OP = 'INSERT' OR OLD.status = 'draft') THEN
        SELECT application_closes_at INTO closes FROM programmes WHERE id = NEW.programme_id FOR SHARE;
        IF NEW.application_deadline <= now() THEN
            RAISE EXCEPTION 'a challenge is published before its application deadline'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'challenges_publish_before_deadline',
                      TABLE = 'challenges', COLUMN = 'application_deadline';
        END IF;
        IF NEW.application_deadline > closes THEN
            RAISE EXCEPTION 'a challenge''s application deadline lies within its programme''s window'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'challenges_deadline_in_window',
                      TABLE = 'challenges', COLUMN = 'application_deadline';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER challenges_publication BEFORE INSERT OR UPDATE OF status ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenges_check_publication();
