-- Scoring and award (migration 0019): the rules that need other rows, so that no race and no
-- hand-written SQL can break them. Each refusal names its rule as the constraint, which the API
-- translates (ConstraintCatalog).

-- Every new programme starts with the default rubric (see migration 0019).
CREATE OR REPLACE FUNCTION programmes_default_rubric() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rubric_criteria (programme_id, key, name, weight, min_score, max_score, position)
    VALUES (NEW.id, 'rd_foundation', '研发基础条件', 30, 0, 100, 1), (NEW.id, 'innovation', '创新能力', 30, 0, 100, 2),
           (NEW.id, 'technical_plan', '技术方案', 25, 0, 100, 3), (NEW.id, 'funding', '资金支撑', 15, 0, 100, 4);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER programmes_default_rubric AFTER INSERT ON programmes
    FOR EACH ROW EXECUTE FUNCTION programmes_default_rubric();

-- The rubric changes only until the first score of the programme is submitted. The programme's row is
-- locked (a submission locks it to share), so an edit and a first submission never both pass.
CREATE OR REPLACE FUNCTION rubric_criteria_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    programme bigint := COALESCE(NEW.programme_id, OLD.programme_id);
BEGIN
    PERFORM 1 FROM programmes WHERE id = programme FOR NO KEY UPDATE;
    IF EXISTS (SELECT 1 FROM review_scores WHERE programme_id = programme AND status = 'submitted') THEN
        RAISE EXCEPTION 'a score of this programme is submitted: its rubric is fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'rubric_criteria_locked', TABLE = 'rubric_criteria';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER rubric_criteria_locked BEFORE INSERT OR UPDATE OR DELETE ON rubric_criteria
    FOR EACH ROW EXECUTE FUNCTION rubric_criteria_check();

-- Refuses a change to scoring outside the seat's window: the assignment is an active panel seat, its
-- round is assigned (scoring open; the round's row is locked to share, so closing waits) and the
-- deadline has not passed. Returns the programme of the round.
CREATE OR REPLACE FUNCTION review_scores_require_open(assignment bigint, OUT round_id bigint, OUT programme_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    seat record;
BEGIN
    SELECT a.role, a.status, r.id AS round, r.status AS round_status, r.scoring_deadline, r.programme_id AS programme
      INTO seat
      FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
     WHERE a.id = assignment
       FOR SHARE OF r;
    IF NOT FOUND OR seat.role <> 'panel' OR seat.status <> 'active' THEN
        RAISE EXCEPTION 'only an active panel seat is scored'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_panel_seat', TABLE = 'review_scores';
    END IF;
    IF seat.round_status <> 'assigned' THEN
        RAISE EXCEPTION 'the round is % : scoring is not open', seat.round_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_round_open', TABLE = 'review_scores';
    END IF;
    IF seat.scoring_deadline <= now() THEN
        RAISE EXCEPTION 'the scoring deadline has passed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_deadline', TABLE = 'review_scores';
    END IF;
    round_id := seat.round;
    programme_id := seat.programme;
END;
$$;

-- A score is written only in its seat's window; a submitted score is locked; a submission covers
-- exactly the programme's criteria (the programme's row is locked to share against a rubric edit).
CREATE OR REPLACE FUNCTION review_scores_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    window_ record;
    missing integer;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status = 'submitted' THEN
        RAISE EXCEPTION 'a submitted score is locked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_locked', TABLE = 'review_scores';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    SELECT * INTO window_ FROM review_scores_require_open(NEW.assignment_id);
    NEW.round_id := window_.round_id;
    NEW.programme_id := window_.programme_id;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
        NEW.revision := OLD.revision + 1;
    END IF;
    IF NEW.status = 'submitted' THEN
        PERFORM 1 FROM programmes WHERE id = NEW.programme_id FOR SHARE;
        SELECT (SELECT count(*) FROM rubric_criteria c
                 WHERE c.programme_id = NEW.programme_id
                   AND NOT EXISTS (SELECT 1 FROM review_score_items i
                                   WHERE i.assignment_id = NEW.assignment_id AND i.criterion_key = c.key))
             + (SELECT count(*) FROM review_score_items i
                 WHERE i.assignment_id = NEW.assignment_id
                   AND NOT EXISTS (SELECT 1 FROM rubric_criteria c
                                   WHERE c.programme_id = NEW.programme_id AND c.key = i.criterion_key))
          INTO missing;
        IF missing > 0 THEN
            RAISE EXCEPTION 'a submitted score has a value for every criterion of the rubric, and no other'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_complete', TABLE = 'review_scores';
        END IF;
        NEW.submitted_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER review_scores_check BEFORE INSERT OR UPDATE OR DELETE ON review_scores
    FOR EACH ROW EXECUTE FUNCTION review_scores_check();

-- A criterion's value is written only on a draft in its window, for a criterion of the rubric, within
-- its range. A draft's values may be removed (a rubric edit drops those of a removed criterion).
CREATE OR REPLACE FUNCTION review_score_items_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    score_status text;
    programme bigint;
    criterion record;
BEGIN
    SELECT status, programme_id INTO score_status, programme FROM review_scores
     WHERE assignment_id = COALESCE(NEW.assignment_id, OLD.assignment_id) FOR SHARE;
    IF score_status = 'submitted' THEN
        RAISE EXCEPTION 'a submitted score is locked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_scores_locked', TABLE = 'review_score_items';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    PERFORM review_scores_require_open(NEW.assignment_id);
    SELECT min_score, max_score INTO criterion FROM rubric_criteria WHERE programme_id = programme AND key = NEW.criterion_key;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the rubric has no criterion %', NEW.criterion_key
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_score_items_criterion', TABLE = 'review_score_items';
    END IF;
    IF NEW.score < criterion.min_score OR NEW.score > criterion.max_score THEN
        RAISE EXCEPTION 'the score of % is between % and %', NEW.criterion_key, criterion.min_score, criterion.max_score
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_score_items_range', TABLE = 'review_score_items';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER review_score_items_check BEFORE INSERT OR UPDATE OR DELETE ON review_score_items
    FOR EACH ROW EXECUTE FUNCTION review_score_items_check();

-- A round closes from assigned, once its scoring deadline has passed or every active panel seat has a
-- submitted score. Scores lock the round's row to share, so none is submitted while it closes.
CREATE OR REPLACE FUNCTION review_rounds_check_close() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'assigned' THEN
        RAISE EXCEPTION 'only an assigned round closes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_rounds_close_assigned', TABLE = 'review_rounds';
    END IF;
    IF OLD.scoring_deadline > now() AND EXISTS (
        SELECT 1 FROM review_assignments a LEFT JOIN review_scores s ON s.assignment_id = a.id
        WHERE a.round_id = OLD.id AND a.role = 'panel' AND a.status = 'active' AND s.submitted_at IS NULL)
    THEN
        RAISE EXCEPTION 'the round closes after its scoring deadline or once every panel score is submitted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'review_rounds_close_scored', TABLE = 'review_rounds';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER review_rounds_close_scored BEFORE UPDATE OF status ON review_rounds
    FOR EACH ROW WHEN (NEW.status = 'closed' AND OLD.status IS DISTINCT FROM 'closed')
    EXECUTE FUNCTION review_rounds_check_close();

-- The 公示 period after a publication at `published`: the `days` working days (Monday to Friday, not
-- in public_holidays) that follow the day of publication in Asia/Shanghai, and the moment objections
-- close (the start of the day after the last one, Asia/Shanghai).
CREATE OR REPLACE FUNCTION publicity_period(published timestamptz, days integer,
    OUT first_day date, OUT last_day date, OUT closes_at timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := (published AT TIME ZONE 'Asia/Shanghai')::date;
    counted integer := 0;
BEGIN
    WHILE counted < days LOOP
        d := d + 1;
        IF extract(isodow FROM d) < 6 AND NOT EXISTS (SELECT 1 FROM public_holidays h WHERE h.day = d) THEN
            counted := counted + 1;
            IF counted = 1 THEN
                first_day := d;
            END IF;
        END IF;
    END LOOP;
    last_day := d;
    closes_at := (last_day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai';
END;
$$;

-- A winner is a formally passed bid of the challenge, picked after the challenge's round closed, while
-- the challenge has no notice; at most challenges.winners of them. The challenge's row is locked, so
-- concurrent picks count in turn.
CREATE OR REPLACE FUNCTION awards_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    challenge bigint := COALESCE(NEW.challenge_id, OLD.challenge_id);
    allowed integer;
    taken integer;
BEGIN
    SELECT winners INTO allowed FROM challenges WHERE id = challenge FOR NO KEY UPDATE;
    IF TG_OP = 'UPDATE' AND OLD.challenge_id <> NEW.challenge_id THEN
        PERFORM 1 FROM challenges WHERE id = OLD.challenge_id FOR NO KEY UPDATE;
    END IF;
    IF EXISTS (SELECT 1 FROM award_notices WHERE challenge_id IN (challenge, OLD.challenge_id)) THEN
        RAISE EXCEPTION 'the winners of a published challenge are fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_published_fixed', TABLE = 'awards';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM review_round_challenges rc JOIN review_rounds r ON r.id = rc.round_id
        WHERE rc.challenge_id = NEW.challenge_id AND rc.round_id = NEW.round_id AND r.status = 'closed')
    THEN
        RAISE EXCEPTION 'winners are picked after the challenge''s review round has closed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_round_closed', TABLE = 'awards';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM bids WHERE id = NEW.bid_id AND challenge_id = NEW.challenge_id AND status = 'formal_passed') THEN
        RAISE EXCEPTION 'a winner is a formally passed bid of the challenge'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_bid_eligible', TABLE = 'awards';
    END IF;
    SELECT count(*) INTO taken FROM awards
     WHERE challenge_id = NEW.challenge_id AND bid_id <> NEW.bid_id AND (TG_OP = 'INSERT' OR bid_id <> OLD.bid_id);
    IF taken >= allowed THEN
        RAISE EXCEPTION 'the challenge has % winners at most', allowed
            USING ERRCODE = 'check_violation', CONSTRAINT = 'awards_winners_limit', TABLE = 'awards';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER awards_check BEFORE INSERT OR UPDATE OR DELETE ON awards
    FOR EACH ROW EXECUTE FUNCTION awards_check();

-- A notice is published (now, with its period computed here) for a challenge with winners; it is kept;
-- its only change is its finalisation, after the period and once every objection is resolved.
CREATE OR REPLACE FUNCTION award_notices_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    period record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a published notice is kept'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_fixed', TABLE = 'award_notices';
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM challenges WHERE id = NEW.challenge_id FOR NO KEY UPDATE;
        IF NOT EXISTS (SELECT 1 FROM awards WHERE challenge_id = NEW.challenge_id AND round_id = NEW.round_id) THEN
            RAISE EXCEPTION 'a notice publishes the challenge''s picked winners; it has none'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_winners', TABLE = 'award_notices';
        END IF;
        SELECT p.* INTO period
          FROM challenges c JOIN programmes g ON g.id = c.programme_id,
               LATERAL publicity_period(now(), g.publicity_working_days) p
         WHERE c.id = NEW.challenge_id;
        NEW.published_at := now();
        NEW.first_day := period.first_day;
        NEW.last_day := period.last_day;
        NEW.objections_close_at := period.closes_at;
        IF NEW.finalised_at IS NOT NULL THEN
            RAISE EXCEPTION 'a notice is finalised after its period'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_period_open', TABLE = 'award_notices';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.finalised_at IS NOT NULL
        OR (NEW.challenge_id, NEW.round_id, NEW.published_at, NEW.first_day, NEW.last_day, NEW.objections_close_at, NEW.published_by)
            IS DISTINCT FROM
           (OLD.challenge_id, OLD.round_id, OLD.published_at, OLD.first_day, OLD.last_day, OLD.objections_close_at, OLD.published_by)
    THEN
        RAISE EXCEPTION 'a published notice changes only by its finalisation'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_fixed', TABLE = 'award_notices';
    END IF;
    IF NEW.finalised_at IS NOT NULL THEN
        IF now() < OLD.objections_close_at THEN
            RAISE EXCEPTION 'the 公示 period runs until %', OLD.objections_close_at
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_period_open', TABLE = 'award_notices';
        END IF;
        IF EXISTS (SELECT 1 FROM award_objections WHERE challenge_id = OLD.challenge_id AND resolved_at IS NULL) THEN
            RAISE EXCEPTION 'every objection is resolved before the award is final'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_notices_objections_open', TABLE = 'award_notices';
        END IF;
        NEW.finalised_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER award_notices_check BEFORE INSERT OR UPDATE OR DELETE ON award_notices
    FOR EACH ROW EXECUTE FUNCTION award_notices_check();

-- An objection is filed during the period of a notice not yet final (the notice's row is locked to
-- share, so a finalisation waits for it and then sees it); it is kept; its only change is its
-- resolution, once.
CREATE OR REPLACE FUNCTION award_objections_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    notice record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'an objection is kept'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_objections_fixed', TABLE = 'award_objections';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT objections_close_at, finalised_at INTO notice FROM award_notices WHERE challenge_id = NEW.challenge_id FOR SHARE;
        IF notice.finalised_at IS NOT NULL OR notice.objections_close_at <= now() THEN
            RAISE EXCEPTION 'the 公示 period is over: objections are closed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_objections_period', TABLE = 'award_objections';
        END IF;
        IF NEW.resolution IS NOT NULL OR NEW.resolved_at IS NOT NULL OR NEW.resolved_by IS NOT NULL THEN
            RAISE EXCEPTION 'an objection is filed unresolved'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'award_objections_fixed', TABLE = 'award_objections';
        END IF;
        NEW.filed_at := now();
        RETURN NEW;
    END IF;
    IF OLD.resolved_at IS NOT NULL
        OR (NEW.id, NEW.challenge_id, NEW.objector_id, NEW.text, NEW.filed_at)
            IS DISTINCT FROM (OLD.id, OLD.challenge_id, OLD.objector_id, OLD.text, OLD.filed_at)
    THEN
        RAISE EXCEPTION 'an objection changes only by its resolution, once'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'award_objections_fixed', TABLE = 'award_objections';
    END IF;
    IF NEW.resolution IS NOT NULL THEN
        NEW.resolved_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER award_objections_check BEFORE INSERT OR UPDATE OR DELETE ON award_objections
    FOR EACH ROW EXECUTE FUNCTION award_objections_check();
