-- Projects: the rules of migration 0020 that the database keeps whatever writes the rows.

-- How a challenge's indicator text bounds a target: 'at_least' (不低于 / 不少于 / 不小于 / ≥ / >= / 至少 /
-- 达到 followed by a number), 'at_most' (不高于 / 不超过 / 不大于 / ≤ / <= / 至多 followed by a number),
-- else 'qualitative'. An at-least phrase wins over an at-most one. `IndicatorThreshold` in Swift reads
-- the same phrases in the same order (a test holds them equal).
CREATE OR REPLACE FUNCTION indicator_direction(indicator text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN indicator ~ '(不低于|不少于|不小于|≥|>=|至少|达到)\s*[0-9]' THEN 'at_least'
        WHEN indicator ~ '(不高于|不超过|不大于|≤|<=|至多)\s*[0-9]' THEN 'at_most'
        ELSE 'qualitative'
    END
$$;

-- The number an indicator's text bounds, or NULL for a qualitative one.
CREATE OR REPLACE FUNCTION indicator_threshold(indicator text) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE indicator_direction(indicator)
        WHEN 'at_least' THEN (regexp_match(indicator, '(?:不低于|不少于|不小于|≥|>=|至少|达到)\s*([0-9]+(?:\.[0-9]+)?)'))[1]::numeric
        WHEN 'at_most' THEN (regexp_match(indicator, '(?:不高于|不超过|不大于|≤|<=|至多)\s*([0-9]+(?:\.[0-9]+)?)'))[1]::numeric
    END
$$;

-- A project comes from a final award (its notice finalised) and copies the bid's challenge, programme,
-- lead and city; it moves only along the state machine; its deadline moves only to an approved
-- extension's date; the bid and the award amount are fixed.
CREATE OR REPLACE FUNCTION projects_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bid record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (
            SELECT 1 FROM awards a JOIN award_notices n ON n.challenge_id = a.challenge_id
            WHERE a.bid_id = NEW.bid_id AND n.finalised_at IS NOT NULL)
        THEN
            RAISE EXCEPTION 'bid % has no final award', NEW.bid_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_final_award', TABLE = 'projects';
        END IF;
        SELECT challenge_id, programme_id, lead_unit_id, region_code, requested_funding_fen INTO bid FROM bids WHERE id = NEW.bid_id;
        NEW.challenge_id := bid.challenge_id;
        NEW.programme_id := bid.programme_id;
        NEW.lead_unit_id := bid.lead_unit_id;
        NEW.region_code := bid.region_code;
        NEW.original_completion_deadline := NEW.completion_deadline;
        IF NEW.status <> 'executing' THEN
            RAISE EXCEPTION 'a project starts executing'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_transition', TABLE = 'projects';
        END IF;
        IF NEW.award_fen > bid.requested_funding_fen THEN
            RAISE EXCEPTION 'the award (% fen) exceeds the funding the bid requested (% fen)', NEW.award_fen, bid.requested_funding_fen
                USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_award_within_request', TABLE = 'projects';
        END IF;
        RETURN NEW;
    END IF;
    NEW.updated_at := now();
    NEW.revision := OLD.revision + 1;
    IF (NEW.bid_id, NEW.challenge_id, NEW.programme_id, NEW.lead_unit_id, NEW.region_code, NEW.award_fen, NEW.original_completion_deadline)
        IS DISTINCT FROM
       (OLD.bid_id, OLD.challenge_id, OLD.programme_id, OLD.lead_unit_id, OLD.region_code, OLD.award_fen, OLD.original_completion_deadline)
    THEN
        RAISE EXCEPTION 'a project''s bid, award and original deadline are fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_fixed', TABLE = 'projects';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status, NEW.status) IN (
        ('executing', 'acceptance_requested'), ('executing', 'stopped'),
        ('acceptance_requested', 'under_acceptance'),
        ('under_acceptance', 'accepted'), ('under_acceptance', 'rectifying'), ('under_acceptance', 'failed'),
        ('rectifying', 'under_acceptance'), ('rectifying', 'failed'))
    THEN
        RAISE EXCEPTION 'a % project cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_transition', TABLE = 'projects';
    END IF;
    IF NEW.completion_deadline <> OLD.completion_deadline AND NOT EXISTS (
        SELECT 1 FROM project_changes
        WHERE project_id = NEW.id AND kind = 'extend_deadline' AND status = 'approved' AND new_deadline = NEW.completion_deadline)
    THEN
        RAISE EXCEPTION 'the completion deadline moves only to an approved extension''s date'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_extension_approved', TABLE = 'projects';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER projects_check BEFORE INSERT OR UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_check();

-- A task-book indicator takes the challenge's text, direction and threshold from the challenge, and its
-- target never lowers the challenge's bound.
CREATE OR REPLACE FUNCTION project_indicators_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    indicator text;
BEGIN
    SELECT c.indicators[NEW.position] INTO indicator
    FROM projects p JOIN challenges c ON c.id = p.challenge_id WHERE p.id = NEW.project_id;
    IF indicator IS NULL THEN
        RAISE EXCEPTION 'the challenge has no indicator %', NEW.position
            USING ERRCODE = 'check_violation', CONSTRAINT = 'project_indicators_of_challenge', TABLE = 'project_indicators';
    END IF;
    NEW.challenge_text := indicator;
    NEW.direction := indicator_direction(indicator);
    NEW.challenge_threshold := indicator_threshold(indicator);
    IF NEW.direction = 'at_least' AND (NEW.target IS NULL OR NEW.target < NEW.challenge_threshold)
        OR NEW.direction = 'at_most' AND (NEW.target IS NULL OR NEW.target > NEW.challenge_threshold)
    THEN
        RAISE EXCEPTION 'indicator %: the target % lowers the challenge''s "%"', NEW.position, coalesce(NEW.target::text, 'missing'), indicator
            USING ERRCODE = 'check_violation', CONSTRAINT = 'project_indicators_not_lowered', TABLE = 'project_indicators';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER project_indicators_check BEFORE INSERT OR UPDATE ON project_indicators
    FOR EACH ROW EXECUTE FUNCTION project_indicators_check();

-- Tranches: within the award in total (the project's row is locked, so concurrent writers queue), a
-- milestone of the same project, paid only after its milestone is approved and while the project is not
-- stopped or failed; a paid or cancelled tranche does not change.
CREATE OR REPLACE FUNCTION tranches_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    project record;
    committed bigint;
    milestone_status text;
BEGIN
    SELECT award_fen, status INTO project FROM projects WHERE id = NEW.project_id FOR NO KEY UPDATE;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status IN ('paid', 'cancelled') AND ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            RAISE EXCEPTION 'a % tranche does not change', OLD.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_final', TABLE = 'tranches';
        END IF;
        IF (NEW.project_id, NEW.milestone_id) IS DISTINCT FROM (OLD.project_id, OLD.milestone_id) THEN
            RAISE EXCEPTION 'a tranche stays with its project and milestone'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_final', TABLE = 'tranches';
        END IF;
    END IF;
    IF NEW.milestone_id IS NOT NULL THEN
        SELECT status INTO milestone_status FROM milestones WHERE id = NEW.milestone_id AND project_id = NEW.project_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'milestone % is not a milestone of project %', NEW.milestone_id, NEW.project_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_milestone_of_project', TABLE = 'tranches';
        END IF;
    END IF;
    IF NEW.status <> 'cancelled' THEN
        IF project.status IN ('stopped', 'failed') AND (TG_OP = 'INSERT' OR NEW.status <> OLD.status) THEN
            RAISE EXCEPTION 'the project is %: no tranche is scheduled or paid', project.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_project_live', TABLE = 'tranches';
        END IF;
        SELECT coalesce(sum(amount_fen), 0) INTO committed FROM tranches
        WHERE project_id = NEW.project_id AND status <> 'cancelled' AND id <> NEW.id;
        IF committed + NEW.amount_fen > project.award_fen THEN
            RAISE EXCEPTION 'the tranches (% fen) would exceed the award (% fen)', committed + NEW.amount_fen, project.award_fen
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_within_award', TABLE = 'tranches';
        END IF;
    END IF;
    IF NEW.status = 'paid' AND (TG_OP = 'INSERT' OR OLD.status <> 'paid') AND NEW.milestone_id IS NOT NULL
        AND milestone_status <> 'approved'
    THEN
        RAISE EXCEPTION 'the tranche is paid only once its milestone is approved'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_paid_after_milestone', TABLE = 'tranches';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER tranches_check BEFORE INSERT OR UPDATE ON tranches
    FOR EACH ROW EXECUTE FUNCTION tranches_check();

-- A progress report is filed by a recommender of the lead unit's city for a year from the project's
-- start to the year it is filed in, is late when filed after 10 December of its year (Asia/Shanghai),
-- and is a record: never changed or removed.
CREATE OR REPLACE FUNCTION progress_reports_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a filed progress report is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'progress_reports_record', TABLE = 'progress_reports';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM users u JOIN bureaus b ON b.id = u.bureau_id JOIN projects p ON p.region_code = b.region_code
        WHERE u.id = NEW.filed_by AND u.role = 'municipal_recommender' AND p.id = NEW.project_id)
    THEN
        RAISE EXCEPTION 'progress reports are filed by a recommender of the lead unit''s city'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'progress_reports_recommender', TABLE = 'progress_reports';
    END IF;
    IF NEW.year > extract(year FROM NEW.filed_at AT TIME ZONE 'Asia/Shanghai')
        OR NEW.year < (SELECT extract(year FROM created_at AT TIME ZONE 'Asia/Shanghai') FROM projects WHERE id = NEW.project_id)
    THEN
        RAISE EXCEPTION 'a progress report is for a year from the project''s start to the year it is filed in'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'progress_reports_year_of_project', TABLE = 'progress_reports';
    END IF;
    NEW.late := NEW.filed_at >= (make_date(NEW.year, 12, 11)::timestamp AT TIME ZONE 'Asia/Shanghai');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER progress_reports_check BEFORE INSERT OR UPDATE OR DELETE ON progress_reports
    FOR EACH ROW EXECUTE FUNCTION progress_reports_check();

-- A change request: an extension moves the deadline later, by at most a year from the one first
-- contracted; a decided request is a record.
CREATE OR REPLACE FUNCTION project_changes_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    project record;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'a decided change request is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'project_changes_decided_final', TABLE = 'project_changes';
    END IF;
    IF NEW.kind = 'extend_deadline' THEN
        SELECT completion_deadline, original_completion_deadline INTO project FROM projects WHERE id = NEW.project_id;
        IF NEW.new_deadline <= project.completion_deadline OR NEW.new_deadline > project.original_completion_deadline + interval '1 year' THEN
            RAISE EXCEPTION 'an extension moves the deadline later, by at most one year from %', project.original_completion_deadline
                USING ERRCODE = 'check_violation', CONSTRAINT = 'project_changes_extension_range', TABLE = 'project_changes';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER project_changes_check BEFORE INSERT OR UPDATE ON project_changes
    FOR EACH ROW EXECUTE FUNCTION project_changes_check();
