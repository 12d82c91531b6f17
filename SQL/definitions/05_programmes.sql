-- Programmes (年度批次): a provincial bureau's, with a policy fixed once challenges are published.

CREATE OR REPLACE TRIGGER programmes_touch BEFORE UPDATE ON programmes FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER programmes_revision BEFORE UPDATE ON programmes FOR EACH ROW EXECUTE FUNCTION bump_revision();

CREATE OR REPLACE FUNCTION programmes_check_bureau() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT level FROM bureaus WHERE id = NEW.bureau_id) <> 'province' THEN
        RAISE EXCEPTION 'a programme is run by a provincial bureau'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'programmes_bureau_province', TABLE = 'programmes',
                  COLUMN = 'bureau_id';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER programmes_bureau_province BEFORE INSERT OR UPDATE OF bureau_id ON programmes
    FOR EACH ROW EXECUTE FUNCTION programmes_check_bureau();

-- Once a challenge of a programme is published, bidders rely on its policy:
-- the funding caps, consortium rules, winners and window no longer change.
CREATE OR REPLACE FUNCTION programmes_policy_is_frozen() RETURNS trigger
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

CREATE OR REPLACE TRIGGER programmes_policy_frozen BEFORE UPDATE ON programmes
    FOR EACH ROW EXECUTE FUNCTION programmes_policy_is_frozen();
