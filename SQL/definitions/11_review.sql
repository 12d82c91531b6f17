-- Review assignment (回避 and loads): the rules every review_assignments row keeps, whatever wrote it
-- (the draw job, a recusal's replacement or hand-written SQL). See migration 0018.

-- Why `expert` must not review `bid`, or NULL when nothing stands in the way:
--   * the expert works for a member of the bid's consortium (its registered unit, or an organisation
--     of the same name);
--   * the expert declared a tie to a member;
--   * the programme excludes experts of the lead unit's city, and the expert works there.
-- Members are the lead and the partners who did not decline.
CREATE OR REPLACE FUNCTION review_conflict_reason(expert bigint, bid bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN EXISTS (
            SELECT 1 FROM bid_members m JOIN units u ON u.id = m.unit_id
            WHERE m.bid_id = b.id AND m.status <> 'declined'
              AND (m.unit_id = e.unit_id
                   OR (e.unit_id IS NULL AND lower(btrim(u.name)) = lower(btrim(e.organisation)))))
            THEN 'the expert works for a member of the consortium'
        WHEN EXISTS (
            SELECT 1 FROM bid_members m JOIN expert_ties t ON t.unit_id = m.unit_id
            WHERE m.bid_id = b.id AND m.status <> 'declined' AND t.expert_id = e.user_id)
            THEN 'the expert declared a tie to a member of the consortium'
        WHEN p.review_excludes_lead_city AND e.region_code = b.region_code
            THEN 'the programme excludes experts of the lead unit''s city'
    END
    FROM experts e, bids b JOIN programmes p ON p.id = b.programme_id
    WHERE e.user_id = expert AND b.id = bid
$$;

-- Every assignment row: the organisation key is the expert's; an active row is conflict-free, within
-- the expert's load cap for the round, within the panel size (seats) or the alternates (alternates)
-- for the bid; its bid is a formally passed bid of one of the round's challenges; its expert is in
-- the pool of the programme's bureau and not retired. Rows of a closed round do not change; a recused
-- row stays recused; an alternate may be promoted to a seat, never the reverse.
CREATE OR REPLACE FUNCTION review_assignments_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    round record;
    expert record;
    reason text;
    used integer;
BEGIN
    SELECT r.status, r.panel_size, r.alternates, p.bureau_id INTO round
    FROM review_rounds r JOIN programmes p ON p.id = r.programme_id WHERE r.id = NEW.round_id;
    IF round.status = 'closed' THEN
        RAISE EXCEPTION 'the review round is closed: its assignments do not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_round_open', TABLE = 'review_assignments';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.round_id, NEW.bid_id, NEW.expert_id, NEW.draw_number) IS DISTINCT FROM (OLD.round_id, OLD.bid_id, OLD.expert_id, OLD.draw_number) THEN
            RAISE EXCEPTION 'an assignment''s round, bid, expert and draw do not change'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_fixed', TABLE = 'review_assignments';
        END IF;
        IF OLD.status = 'recused' AND NEW.status <> 'recused' THEN
            RAISE EXCEPTION 'a recusal is final'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_recusal_final', TABLE = 'review_assignments';
        END IF;
        IF OLD.role = 'panel' AND NEW.role = 'alternate' THEN
            RAISE EXCEPTION 'a seat does not become an alternate'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_role_change', TABLE = 'review_assignments';
        END IF;
        IF NEW.status = 'recused' OR (NEW.status = OLD.status AND NEW.role = OLD.role) THEN
            NEW.organisation_key := OLD.organisation_key;
            RETURN NEW;
        END IF;
    END IF;
    -- Serialises the loads of one expert and the seats of one bid across transactions.
    SELECT e.organisation_key, e.load_cap, e.bureau_id, e.retired_at INTO expert
    FROM experts e WHERE e.user_id = NEW.expert_id FOR NO KEY UPDATE;
    PERFORM 1 FROM bids WHERE id = NEW.bid_id FOR NO KEY UPDATE;
    NEW.organisation_key := expert.organisation_key;
    IF NEW.status <> 'active' THEN
        RETURN NEW;
    END IF;
    IF expert.bureau_id IS DISTINCT FROM round.bureau_id OR expert.retired_at IS NOT NULL THEN
        RAISE EXCEPTION 'expert % is not in the programme''s expert pool', NEW.expert_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_expert_in_pool', TABLE = 'review_assignments';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM bids b JOIN review_round_challenges c ON c.challenge_id = b.challenge_id AND c.round_id = NEW.round_id
        WHERE b.id = NEW.bid_id AND b.status = 'formal_passed')
    THEN
        RAISE EXCEPTION 'bid % is not a formally passed bid of the round''s challenges', NEW.bid_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_bid_in_round', TABLE = 'review_assignments';
    END IF;
    reason := review_conflict_reason(NEW.expert_id, NEW.bid_id);
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'expert % must not review bid %: %', NEW.expert_id, NEW.bid_id, reason
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_conflict', TABLE = 'review_assignments';
    END IF;
    SELECT count(*) INTO used FROM review_assignments
    WHERE expert_id = NEW.expert_id AND round_id = NEW.round_id AND status = 'active' AND id <> NEW.id;
    IF used + 1 > expert.load_cap THEN
        RAISE EXCEPTION 'expert % is at the load cap of % panels in this round', NEW.expert_id, expert.load_cap
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_load_cap', TABLE = 'review_assignments';
    END IF;
    SELECT count(*) INTO used FROM review_assignments
    WHERE round_id = NEW.round_id AND bid_id = NEW.bid_id AND status = 'active' AND role = NEW.role AND id <> NEW.id;
    IF NEW.role = 'panel' AND used + 1 > round.panel_size THEN
        RAISE EXCEPTION 'bid % already has its % panel experts', NEW.bid_id, round.panel_size
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_panel_size', TABLE = 'review_assignments';
    END IF;
    IF NEW.role = 'alternate' AND used + 1 > round.alternates THEN
        RAISE EXCEPTION 'bid % already has its % alternates', NEW.bid_id, round.alternates
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_alternates', TABLE = 'review_assignments';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER review_assignments_check BEFORE INSERT OR UPDATE ON review_assignments
    FOR EACH ROW EXECUTE FUNCTION review_assignments_check();

-- A tie declared, or a profile changed, while the expert holds an active assignment that it would
-- make a conflict: refused, so the expert recuses first (and a replacement is drawn).
CREATE OR REPLACE FUNCTION review_assignments_stay_conflict_free() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    held record;
    expert bigint := (to_jsonb(NEW) ->> CASE WHEN TG_TABLE_NAME = 'expert_ties' THEN 'expert_id' ELSE 'user_id' END)::bigint;
BEGIN
    SELECT a.bid_id, review_conflict_reason(a.expert_id, a.bid_id) AS reason INTO held
    FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
    WHERE a.expert_id = expert
      AND a.status = 'active' AND r.status <> 'closed'
      AND review_conflict_reason(a.expert_id, a.bid_id) IS NOT NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the expert is assigned to bid %, which this change would make a conflict (%): recuse first', held.bid_id, held.reason
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_assignments_stay_conflict_free', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER expert_ties_assigned AFTER INSERT OR UPDATE ON expert_ties
    FOR EACH ROW EXECUTE FUNCTION review_assignments_stay_conflict_free();
CREATE OR REPLACE TRIGGER experts_assigned AFTER UPDATE OF unit_id, organisation, region_code ON experts
    FOR EACH ROW EXECUTE FUNCTION review_assignments_stay_conflict_free();

-- Draws: the seed's digest is fixed when the draw is recorded; a finished draw's seed, inputs and
-- outcome do not change; an applied draw may only become superseded.
CREATE OR REPLACE FUNCTION review_draws_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seed_sha256 <> encode(sha256(convert_to(NEW.seed::text, 'UTF8')), 'hex') THEN
        RAISE EXCEPTION 'seed_sha256 must be the SHA-256 of the seed''s decimal digits'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_draws_seed_digest', TABLE = 'review_draws';
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF (NEW.seed, NEW.seed_sha256, NEW.dry_run, NEW.round_id, NEW.number) IS DISTINCT FROM (OLD.seed, OLD.seed_sha256, OLD.dry_run, OLD.round_id, OLD.number) THEN
            RAISE EXCEPTION 'a draw''s seed is fixed when it is recorded'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_draws_seed_fixed', TABLE = 'review_draws';
        END IF;
        IF OLD.status <> 'pending' AND (
            (NEW.inputs, NEW.outcome, NEW.fingerprint) IS DISTINCT FROM (OLD.inputs, OLD.outcome, OLD.fingerprint)
            OR NOT (NEW.status = OLD.status OR (OLD.status = 'applied' AND NEW.status = 'superseded')))
        THEN
            RAISE EXCEPTION 'a finished draw is a record: it does not change'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_draws_record', TABLE = 'review_draws';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER review_draws_check BEFORE INSERT OR UPDATE ON review_draws
    FOR EACH ROW EXECUTE FUNCTION review_draws_check();

CREATE OR REPLACE FUNCTION review_draws_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'draws are a record: they are not deleted'
        USING ERRCODE = 'check_violation', CONSTRAINT = 'review_draws_record', TABLE = 'review_draws';
END
$$;

CREATE OR REPLACE TRIGGER review_draws_no_delete BEFORE DELETE ON review_draws
    FOR EACH ROW EXECUTE FUNCTION review_draws_no_delete();
