-- Consortium bids: the rules of seed 002 step 3 that the database keeps (see the table comments in
-- migrations 0008 and 0013), so that no race and no hand-written SQL can break them.

-- Whether a bid in this status holds its units (a draft, a withdrawn or a declined bid does not).
-- Not STRICT: PostgreSQL does not inline a STRICT SQL function whose body is an IN list, and inlined
-- it is `status = ANY ('{submitted,…}')` in the bid triggers' plans. A NULL status gives NULL.
CREATE OR REPLACE FUNCTION bid_status_is_live(status bid_status) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed')
$$;

-- A receipt's SHA-256 is of the kept content as PostgreSQL prints it (content::text, jsonb's
-- canonical form: keys sorted, one spacing), so anyone can check a receipt with SQL:
--   SELECT bid_content_digest(content) = sha256 FROM bid_submissions;
-- STABLE, as convert_to is: PostgreSQL never inlines a function that claims more than its body.
-- The CHECK bid_submissions_digest_of_content spells the expression out, so nothing is parsed when
-- it is checked.
CREATE OR REPLACE FUNCTION bid_content_digest(content jsonb) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(content::text, 'UTF8')), 'hex')
$$;

-- At every submission: the challenge is open, the consortium complete, the funding within the
-- programme's cap and the challenge's ceiling, the commitment given. After the deadline the bid's content is locked. Every update also stamps the
-- time and the revision, so a submission pays for one PL/pgSQL call, not two.
CREATE OR REPLACE FUNCTION bids_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    challenge record;
    programme record;
    partners integer;
    lead_count integer;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
        NEW.revision := OLD.revision + 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.version = OLD.version
        AND (NEW.technical_route, NEW.rd_foundation, NEW.indicator_answers, NEW.total_investment_fen,
             NEW.self_funding_fen, NEW.requested_funding_fen, NEW.team, NEW.completion_commitment)
            IS NOT DISTINCT FROM
            (OLD.technical_route, OLD.rd_foundation, OLD.indicator_answers, OLD.total_investment_fen,
             OLD.self_funding_fen, OLD.requested_funding_fen, OLD.team, OLD.completion_commitment) THEN
        RETURN NEW;
    END IF;
    SELECT status, application_deadline, funding_ceiling_fen INTO challenge FROM challenges WHERE id = NEW.challenge_id;
    IF TG_OP = 'UPDATE' AND challenge.application_deadline <= now()
        AND (NEW.technical_route, NEW.rd_foundation, NEW.indicator_answers, NEW.total_investment_fen,
             NEW.self_funding_fen, NEW.requested_funding_fen, NEW.team, NEW.completion_commitment, NEW.version)
            IS DISTINCT FROM
            (OLD.technical_route, OLD.rd_foundation, OLD.indicator_answers, OLD.total_investment_fen,
             OLD.self_funding_fen, OLD.requested_funding_fen, OLD.team, OLD.completion_commitment, OLD.version)
    THEN
        RAISE EXCEPTION 'the application deadline has passed: the bid is locked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_locked_after_deadline', TABLE = 'bids';
    END IF;
    IF NEW.status = 'submitted' AND (TG_OP = 'INSERT' OR OLD.status <> 'submitted' OR NEW.version <> OLD.version) THEN
        IF challenge.status <> 'published' OR challenge.application_deadline <= now() THEN
            RAISE EXCEPTION 'the challenge is not open for bids'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_challenge_open', TABLE = 'bids';
        END IF;
        -- The programme's policy and the consortium's counts in one statement.
        SELECT p.min_partners, p.max_consortium_size, p.funding_ratio_cap_bp, p.funding_absolute_cap_fen,
               m.partners, m.leads
          INTO programme
          FROM programmes p,
               LATERAL (SELECT count(*) FILTER (WHERE role = 'partner' AND status = 'accepted') AS partners,
                               count(*) FILTER (WHERE role = 'lead' AND unit_id = NEW.lead_unit_id) AS leads
                        FROM bid_members WHERE bid_id = NEW.id) AS m
         WHERE p.id = NEW.programme_id;
        partners := programme.partners;
        lead_count := programme.leads;
        IF lead_count <> 1 OR partners < programme.min_partners
            OR (programme.max_consortium_size IS NOT NULL AND 1 + partners > programme.max_consortium_size) THEN
            RAISE EXCEPTION 'the consortium has % accepted partners; the programme asks for % to %', partners,
                programme.min_partners, COALESCE((programme.max_consortium_size - 1)::text, 'any number')
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_consortium_complete', TABLE = 'bids';
        END IF;
        IF NEW.requested_funding_fen <= 0
            OR NEW.requested_funding_fen::numeric * 10000 > NEW.total_investment_fen::numeric * programme.funding_ratio_cap_bp
            OR NEW.requested_funding_fen > programme.funding_absolute_cap_fen THEN
            RAISE EXCEPTION 'the requested funding exceeds the programme''s cap'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_funding_cap', TABLE = 'bids',
                      COLUMN = 'requested_funding_fen';
        END IF;
        IF NEW.requested_funding_fen > challenge.funding_ceiling_fen THEN
            RAISE EXCEPTION 'the requested funding exceeds the challenge''s funding ceiling of % fen', challenge.funding_ceiling_fen
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_funding_ceiling', TABLE = 'bids',
                      COLUMN = 'requested_funding_fen';
        END IF;
        IF NOT NEW.completion_commitment THEN
            RAISE EXCEPTION 'the lead must commit to finish by the completion deadline'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_commitment', TABLE = 'bids',
                      COLUMN = 'completion_commitment';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER bids_check BEFORE INSERT OR UPDATE ON bids FOR EACH ROW EXECUTE FUNCTION bids_check();

-- 每个单位限申请一项揭榜任务: bid_live_units holds one row per unit that counts in a live bid (the lead
-- and the accepted partners) of a programme whose units may be in one live bid only; its primary key
-- bid_members_one_live_bid is the rule. Only these triggers write it.

-- Refuses a write to bid_live_units that does not come from a trigger of bids or bid_members, so
-- nobody can free a unit by deleting a row.
CREATE OR REPLACE FUNCTION bid_live_units_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bid_live_units is maintained by the database from bids and their members'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_live_units_maintained', TABLE = 'bid_live_units';
END;
$$;

-- pg_trigger_depth() is 0 in the WHEN clause of a statement that no trigger runs.
CREATE OR REPLACE TRIGGER bid_live_units_maintained BEFORE INSERT OR UPDATE OR DELETE ON bid_live_units
    FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION bid_live_units_refuse();
CREATE OR REPLACE TRIGGER bid_live_units_not_truncated BEFORE TRUNCATE ON bid_live_units
    FOR EACH STATEMENT EXECUTE FUNCTION bid_live_units_refuse();

-- A bid that becomes live claims its units, in unit order, so two submissions sharing units queue at
-- the first shared one and never hold what the other waits for; one that stops being live frees them.
CREATE OR REPLACE FUNCTION bids_sync_live_units() RETURNS trigger
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
-- The WHEN clause spells out the live statuses of bid_status_is_live instead of calling it: PostgreSQL
-- prepares a trigger's WHEN clause for every statement, and an inlined SQL function is parsed again.
CREATE OR REPLACE TRIGGER bids_sync_live_units AFTER UPDATE OF status ON bids
    FOR EACH ROW WHEN (
        (OLD.status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed'))
            IS DISTINCT FROM
        (NEW.status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed')))
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

-- A WHEN clause cannot name OLD on INSERT or DELETE, so those have a trigger of their own.
CREATE OR REPLACE TRIGGER bid_members_maintain BEFORE INSERT OR DELETE ON bid_members
    FOR EACH ROW EXECUTE FUNCTION bid_members_maintain();
-- Nothing calls bid_members_maintain for a change of the partner's own part (role, tasks, budget share,
-- contribution): only for a change of what the rules read.
CREATE OR REPLACE TRIGGER bid_members_maintain_update BEFORE UPDATE ON bid_members
    FOR EACH ROW WHEN ((NEW.bid_id, NEW.unit_id, NEW.programme_id, NEW.role, NEW.status, NEW.exclusive)
        IS DISTINCT FROM (OLD.bid_id, OLD.unit_id, OLD.programme_id, OLD.role, OLD.status, OLD.exclusive))
    EXECUTE FUNCTION bid_members_maintain();

-- Every submitted version is kept as it was.
CREATE OR REPLACE FUNCTION bid_submissions_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'submitted versions are kept as they were'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'bid_submissions_append_only';
END;
$$;

CREATE OR REPLACE TRIGGER bid_submissions_append_only BEFORE UPDATE OR DELETE ON bid_submissions
    FOR EACH ROW EXECUTE FUNCTION bid_submissions_are_append_only();

-- A city recommends at most its quota: the quota row is locked, so concurrent recommendations count in turn.
CREATE OR REPLACE FUNCTION bids_check_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    used integer;
BEGIN
    SELECT quota INTO allowed FROM recommendation_quotas
    WHERE programme_id = NEW.programme_id AND region_code = NEW.region_code FOR UPDATE;
    IF allowed IS NOT NULL THEN
        SELECT count(*) INTO used FROM bids
        WHERE programme_id = NEW.programme_id AND region_code = NEW.region_code AND id <> NEW.id
          AND status IN ('recommended', 'formal_passed', 'formal_failed');
        IF used >= allowed THEN
            RAISE EXCEPTION 'the city''s quota of % recommendations is used', allowed
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_region_quota', TABLE = 'bids';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER bids_region_quota BEFORE UPDATE OF status ON bids
    FOR EACH ROW WHEN (NEW.status = 'recommended' AND OLD.status <> 'recommended') EXECUTE FUNCTION bids_check_quota();

-- The outcome of a formal check agrees with its items.
CREATE OR REPLACE FUNCTION bids_check_formal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    failed integer;
    total integer;
BEGIN
    SELECT count(*) FILTER (WHERE NOT passed), count(*) INTO failed, total FROM bid_formal_checks WHERE bid_id = NEW.id;
    IF total = 0 OR (NEW.status = 'formal_passed' AND failed > 0) OR (NEW.status = 'formal_failed' AND failed = 0) THEN
        RAISE EXCEPTION 'a formal check''s outcome follows its items'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_formal_outcome', TABLE = 'bids';
    END IF;
    IF OLD.status <> 'recommended' THEN
        RAISE EXCEPTION 'only a recommended bid is checked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_formal_after_recommendation', TABLE = 'bids';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER bids_formal_outcome BEFORE UPDATE OF status ON bids
    FOR EACH ROW WHEN (NEW.status IN ('formal_passed', 'formal_failed') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bids_check_formal();
