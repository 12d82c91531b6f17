-- Revisions for ETag / If-Match, idempotency keys for creating requests,
-- and the rules that keep a published programme's policy and a challenge's
-- publication honest.

-- Every edit of a row bumps its revision: the ETag of its draft. An UPDATE
-- that names the revision it read (WHERE revision = n) loses a race cleanly.
CREATE FUNCTION bump_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.revision := OLD.revision + 1;
    END IF;
    RETURN NEW;
END;
$$;

ALTER TABLE units ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE programmes ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE demands ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE demands ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE challenges ADD COLUMN revision integer NOT NULL DEFAULT 1;

CREATE TRIGGER units_revision BEFORE UPDATE ON units FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE TRIGGER programmes_revision BEFORE UPDATE ON programmes FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE TRIGGER demands_revision BEFORE UPDATE ON demands FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE TRIGGER demands_touch BEFORE UPDATE ON demands FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER challenges_revision BEFORE UPDATE ON challenges FOR EACH ROW EXECUTE FUNCTION bump_revision();

-- A creating request sent twice with the same Idempotency-Key creates once:
-- the key row is written in the transaction that creates, so the second
-- request waits on the unique index and then replays the stored response.
CREATE TABLE idempotency_keys (
    scope           text        NOT NULL,
    key             text        NOT NULL,
    request_hash    bytea       NOT NULL,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_response CHECK ((response_status IS NULL) = (response_body IS NULL))
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Once a challenge of a programme is published, bidders rely on its policy:
-- the funding caps, consortium rules, winners and window no longer change.
CREATE FUNCTION programmes_policy_is_frozen() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.funding_ratio_cap_bp, NEW.funding_absolute_cap_fen, NEW.funding_mode, NEW.min_partners,
        NEW.max_consortium_size, NEW.one_live_bid_per_unit, NEW.winners_per_challenge, NEW.application_opens_at,
        NEW.application_closes_at, NEW.publicity_working_days, NEW.bureau_id, NEW.year)
        IS DISTINCT FROM
       (OLD.funding_ratio_cap_bp, OLD.funding_absolute_cap_fen, OLD.funding_mode, OLD.min_partners,
        OLD.max_consortium_size, OLD.one_live_bid_per_unit, OLD.winners_per_challenge, OLD.application_opens_at,
        OLD.application_closes_at, OLD.publicity_working_days, OLD.bureau_id, OLD.year)
       AND EXISTS (SELECT 1 FROM challenges WHERE programme_id = NEW.id AND status <> 'draft')
    THEN
        RAISE EXCEPTION 'the policy of a programme with published challenges cannot change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'programmes_policy_frozen', TABLE = 'programmes';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER programmes_policy_frozen BEFORE UPDATE ON programmes
    FOR EACH ROW EXECUTE FUNCTION programmes_policy_is_frozen();

-- A challenge is published with its application deadline still ahead, inside
-- its programme's window. The programme row is share-locked, so a concurrent
-- policy change either commits first (and is checked here) or sees this
-- publication and is refused.
CREATE FUNCTION challenges_check_publication() RETURNS trigger
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

CREATE TRIGGER challenges_publication BEFORE INSERT OR UPDATE OF status ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenges_check_publication();
