-- Unit verification: a code or region changes only back to pending, and only verified units bid.

-- A unit whose credit code or region changes is pending again, whoever changes it: its bureau must
-- confirm the new code against the licence. (The application lets only the bureau make the change.)
CREATE OR REPLACE FUNCTION units_reverify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.credit_code, NEW.region_code) IS DISTINCT FROM (OLD.credit_code, OLD.region_code) THEN
        NEW.verification := 'pending';
        NEW.decided_at := NULL;
        NEW.decided_by := NULL;
        NEW.decision_note := NULL;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER units_reverify BEFORE UPDATE OF credit_code, region_code ON units
    FOR EACH ROW EXECUTE FUNCTION units_reverify();

-- A bid's lead, and every member of a consortium, is a verified unit.
CREATE OR REPLACE FUNCTION require_verified_unit(unit bigint, relation text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM units WHERE id = unit AND verification = 'verified') THEN
        RAISE EXCEPTION 'unit % is not verified by its municipal bureau', unit
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_unit_verified', TABLE = relation;
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION bids_lead_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM require_verified_unit(NEW.lead_unit_id, 'bids');
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION bid_members_unit_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM require_verified_unit(NEW.unit_id, 'bid_members');
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER bids_unit_verified BEFORE INSERT ON bids
    FOR EACH ROW EXECUTE FUNCTION bids_lead_verified();
CREATE OR REPLACE TRIGGER bid_members_unit_verified BEFORE INSERT ON bid_members
    FOR EACH ROW EXECUTE FUNCTION bid_members_unit_verified();
