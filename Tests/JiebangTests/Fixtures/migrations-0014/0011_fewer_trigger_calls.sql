-- Fewer PL/pgSQL calls and statements per submission (Benchmarks/BidBenchmark: the trigger
-- functions were a quarter of PostgreSQL's time in the deadline rush).
--
-- bid_members_maintain ran for each member whose live flag bids_sync_members moves, only to return
-- at once. A WHEN clause now skips it for exactly that case: a nested update (from a trigger) that
-- changes nothing but the flag. A top-level update, such as hand-written SQL setting live, still
-- runs it, and it computes the flag again. A WHEN clause cannot name OLD on INSERT or DELETE, so
-- those keep a trigger of their own.
DROP TRIGGER bid_members_maintain ON bid_members;
CREATE TRIGGER bid_members_maintain BEFORE INSERT OR DELETE ON bid_members
    FOR EACH ROW EXECUTE FUNCTION bid_members_maintain();
CREATE TRIGGER bid_members_maintain_update BEFORE UPDATE ON bid_members
    FOR EACH ROW WHEN (pg_trigger_depth() < 1
        OR (NEW.bid_id, NEW.unit_id, NEW.programme_id, NEW.role, NEW.status, NEW.exclusive)
            IS DISTINCT FROM (OLD.bid_id, OLD.unit_id, OLD.programme_id, OLD.role, OLD.status, OLD.exclusive))
    EXECUTE FUNCTION bid_members_maintain();

-- bids_check reads the programme's policy and counts the consortium in one statement instead of two.
CREATE OR REPLACE FUNCTION bids_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    challenge record;
    programme record;
    partners integer;
    lead_count integer;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.version = OLD.version
        AND (NEW.technical_route, NEW.rd_foundation, NEW.indicator_answers, NEW.total_investment_fen,
             NEW.self_funding_fen, NEW.requested_funding_fen, NEW.team, NEW.completion_commitment)
            IS NOT DISTINCT FROM
            (OLD.technical_route, OLD.rd_foundation, OLD.indicator_answers, OLD.total_investment_fen,
             OLD.self_funding_fen, OLD.requested_funding_fen, OLD.team, OLD.completion_commitment) THEN
        RETURN NEW;
    END IF;
    SELECT status, application_deadline INTO challenge FROM challenges WHERE id = NEW.challenge_id;
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
        IF NOT NEW.completion_commitment THEN
            RAISE EXCEPTION 'the lead must commit to finish by the completion deadline'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_commitment', TABLE = 'bids',
                      COLUMN = 'completion_commitment';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

