-- 每个单位限申请一项揭榜任务, enforced by a narrow table instead of a flag on the members.
--
-- Until now each member row carried a `live` flag, and a partial unique index over the flagged rows
-- refused a unit's second live bid. A submission therefore rewrote every member row of its bid: wide
-- rows, and (the flag being in the index's predicate) never a HOT update, so each one wrote new
-- entries in all four indexes of bid_members, after a PL/pgSQL check per row and advisory locks to
-- keep two submissions sharing units from deadlocking (0012).
--
-- Now bid_live_units holds one row per unit that counts in a live bid (the lead and the accepted
-- partners) of a programme whose units may be in one live bid only, and its primary key is the rule:
-- (programme_id, unit_id) once. A bid that becomes live inserts its units, in unit order, so two
-- submissions sharing units queue at the first shared one and never hold what the other waits for; a
-- bid that stops being live (withdrawn, declined) deletes them. A change of the consortium of a live
-- bid (one returned for revision) moves its own row. The member rows are no longer touched.
--
-- The table is written only by these triggers: hand-written SQL that inserts, updates or deletes its
-- rows directly is refused (bid_live_units_maintained), so nobody can free a unit by deleting a row.

DROP TRIGGER bids_sync_members ON bids;
DROP FUNCTION bids_sync_members();

CREATE TABLE bid_live_units (
    programme_id  bigint NOT NULL,
    unit_id       bigint NOT NULL,
    bid_id        bigint NOT NULL
);
INSERT INTO bid_live_units (programme_id, unit_id, bid_id)
SELECT programme_id, unit_id, bid_id FROM bid_members WHERE live AND exclusive;

-- The rule keeps its name, which the API maps to its 409.
DROP INDEX bid_members_one_live_bid;
ALTER TABLE bid_live_units ADD CONSTRAINT bid_members_one_live_bid PRIMARY KEY (programme_id, unit_id);
ALTER TABLE bid_members DROP COLUMN live;

-- Refuses a write to bid_live_units that does not come from a trigger of bids or bid_members.
CREATE FUNCTION bid_live_units_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bid_live_units is maintained by the database from bids and their members'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_live_units_maintained', TABLE = 'bid_live_units';
END;
$$;

-- pg_trigger_depth() is 0 in the WHEN clause of a statement that no trigger runs.
CREATE TRIGGER bid_live_units_maintained BEFORE INSERT OR UPDATE OR DELETE ON bid_live_units
    FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION bid_live_units_refuse();
CREATE TRIGGER bid_live_units_not_truncated BEFORE TRUNCATE ON bid_live_units
    FOR EACH STATEMENT EXECUTE FUNCTION bid_live_units_refuse();

-- A bid that becomes live claims its units; one that stops being live frees them.
CREATE FUNCTION bids_sync_live_units() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF bid_status_is_live(NEW.status) THEN
        INSERT INTO bid_live_units (programme_id, unit_id, bid_id)
        SELECT programme_id, unit_id, bid_id FROM bid_members
        WHERE bid_id = NEW.id AND status = 'accepted' AND exclusive
        ORDER BY unit_id;
    ELSE
        DELETE FROM bid_live_units l USING bid_members m
        WHERE m.bid_id = NEW.id AND l.programme_id = m.programme_id AND l.unit_id = m.unit_id AND l.bid_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

-- Only a change between a live and a dead status calls it: a resubmission (submitted again) does not.
CREATE TRIGGER bids_sync_live_units AFTER UPDATE OF status ON bids
    FOR EACH ROW WHEN (bid_status_is_live(OLD.status) IS DISTINCT FROM bid_status_is_live(NEW.status))
    EXECUTE FUNCTION bids_sync_live_units();

-- The consortium of a bid that is not a draft or returned for revision is fixed; a member's programme
-- is its bid's; and a member of a live bid (one returned for revision) moves its own row of
-- bid_live_units when it is added, removed or changed.
CREATE OR REPLACE FUNCTION bid_members_maintain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bid_status bid_status;
    bid_programme bigint;
BEGIN
    SELECT status, programme_id INTO bid_status, bid_programme FROM bids WHERE id = COALESCE(NEW.bid_id, OLD.bid_id);
    IF bid_status NOT IN ('draft', 'returned') AND (TG_OP <> 'UPDATE' OR
        (NEW.unit_id, NEW.role, NEW.status) IS DISTINCT FROM (OLD.unit_id, OLD.role, OLD.status)) THEN
        RAISE EXCEPTION 'the consortium of a % bid cannot change', bid_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_members_consortium_fixed', TABLE = 'bid_members';
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.programme_id <> bid_programme THEN
        RAISE EXCEPTION 'a member''s programme is its bid''s'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_members_programme', TABLE = 'bid_members';
    END IF;
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM bid_live_units
        WHERE programme_id = OLD.programme_id AND unit_id = OLD.unit_id AND bid_id = OLD.bid_id;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF bid_status_is_live(bid_status) AND NEW.status = 'accepted' AND NEW.exclusive THEN
        INSERT INTO bid_live_units (programme_id, unit_id, bid_id) VALUES (NEW.programme_id, NEW.unit_id, NEW.bid_id);
    END IF;
    RETURN NEW;
END;
$$;

-- Nothing calls bid_members_maintain for a change of the partner's own part (role, tasks, budget share,
-- contribution): only for a change of what the rules read.
DROP TRIGGER bid_members_maintain_update ON bid_members;
CREATE TRIGGER bid_members_maintain_update BEFORE UPDATE ON bid_members
    FOR EACH ROW WHEN ((NEW.bid_id, NEW.unit_id, NEW.programme_id, NEW.role, NEW.status, NEW.exclusive)
        IS DISTINCT FROM (OLD.bid_id, OLD.unit_id, OLD.programme_id, OLD.role, OLD.status, OLD.exclusive))
    EXECUTE FUNCTION bid_members_maintain();
