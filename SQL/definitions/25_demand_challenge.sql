-- Demands and challenges (migrations 0005 and 0031): only an open demand is attached to a challenge. A closed or
-- lapsed demand has left the pool, so no challenge may be condensed from it afterwards, whoever writes the link.
-- Links made while the demand was open stay when it closes or lapses later.
CREATE OR REPLACE FUNCTION challenge_demands_demand_open() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    current_status text;
BEGIN
    SELECT status INTO current_status FROM demands WHERE id = NEW.demand_id;
    IF current_status IN ('closed', 'lapsed') THEN
        RAISE EXCEPTION 'demand % is %', NEW.demand_id, current_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'challenge_demands_demand_open';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER challenge_demands_demand_open BEFORE INSERT OR UPDATE OF demand_id ON challenge_demands
    FOR EACH ROW EXECUTE FUNCTION challenge_demands_demand_open();

-- A draft made from a demand lists the demand's candidate results and people (候选成果：, 候选人才：), which name other
-- units' records the matching shows only to the demand's readers: a challenge is published, or amended, without them.
CREATE OR REPLACE FUNCTION challenges_published_without_candidates() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'draft' AND NEW.content ~ '(^|\n)[ \t]*(候选成果|候选人才)：'
       AND (TG_OP = 'INSERT' OR OLD.status = 'draft' OR NEW.content IS DISTINCT FROM OLD.content) THEN
        RAISE EXCEPTION 'a published challenge lists candidate results or people'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'challenges_published_without_candidates',
                  TABLE = 'challenges', COLUMN = 'content';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER challenges_published_without_candidates BEFORE INSERT OR UPDATE OF status, content ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenges_published_without_candidates();
