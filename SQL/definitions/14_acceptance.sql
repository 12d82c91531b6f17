-- Acceptance: the rules of migration 0021 that the database keeps whatever writes the rows.

-- An acceptance request: the first while the project executes, the second only while it is rectifying
-- and before its rectification deadline (three months after the notice); the request's fields and the
-- seed are fixed; the status moves requested → assigned → concluded (or draw_failed, and back to
-- requested for a new draw); a concluded acceptance is a record.
CREATE OR REPLACE FUNCTION acceptances_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    project record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'an acceptance is a record: it is not deleted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_record', TABLE = 'acceptances';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT status, rectify_by INTO project FROM projects WHERE id = NEW.project_id FOR NO KEY UPDATE;
        IF NEW.attempt = 1 AND project.status IS DISTINCT FROM 'executing' THEN
            RAISE EXCEPTION 'acceptance is requested while the project executes (it is %)', project.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_project_executing', TABLE = 'acceptances';
        END IF;
        IF NEW.attempt = 2 AND (project.status IS DISTINCT FROM 'rectifying' OR project.rectify_by IS NULL OR now() > project.rectify_by) THEN
            RAISE EXCEPTION 'a rectified project is resubmitted only while rectifying and within three months of the notice'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_rectification_window', TABLE = 'acceptances';
        END IF;
        IF NEW.status <> 'requested' OR NEW.conclusion IS NOT NULL OR NEW.financial_passed IS NOT NULL THEN
            RAISE EXCEPTION 'an acceptance starts requested'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_transition', TABLE = 'acceptances';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'concluded' THEN
        RAISE EXCEPTION 'a concluded acceptance is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_record', TABLE = 'acceptances';
    END IF;
    IF (NEW.project_id, NEW.attempt, NEW.summary, NEW.spent_fen, NEW.panel_size, NEW.seed, NEW.seed_sha256, NEW.requested_by, NEW.requested_at)
        IS DISTINCT FROM
       (OLD.project_id, OLD.attempt, OLD.summary, OLD.spent_fen, OLD.panel_size, OLD.seed, OLD.seed_sha256, OLD.requested_by, OLD.requested_at)
    THEN
        RAISE EXCEPTION 'an acceptance''s request and seed are fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_fixed', TABLE = 'acceptances';
    END IF;
    IF NEW.status <> OLD.status AND NOT (OLD.status, NEW.status) IN (
        ('requested', 'assigned'), ('requested', 'draw_failed'), ('draw_failed', 'requested'), ('assigned', 'concluded'))
    THEN
        RAISE EXCEPTION 'an % acceptance cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_transition', TABLE = 'acceptances';
    END IF;
    IF NEW.status = 'concluded' AND (
        (SELECT count(*) FROM acceptance_verdicts WHERE acceptance_id = NEW.id)
        < (SELECT count(*) FROM acceptance_panel WHERE acceptance_id = NEW.id) OR NEW.financial_passed IS NULL)
    THEN
        RAISE EXCEPTION 'an acceptance concludes once every expert gave a verdict and the finances were judged'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptances_complete', TABLE = 'acceptances';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER acceptances_check BEFORE INSERT OR UPDATE OR DELETE ON acceptances
    FOR EACH ROW EXECUTE FUNCTION acceptances_check();

-- A result answers an indicator of the project's task book, and is written with the request.
CREATE OR REPLACE FUNCTION acceptance_results_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'an acceptance result is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_results_record', TABLE = 'acceptance_results';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM acceptances a JOIN project_indicators i ON i.project_id = a.project_id
        WHERE a.id = NEW.acceptance_id AND a.status = 'requested' AND i.position = NEW.position)
    THEN
        RAISE EXCEPTION 'result % answers no indicator of the task book, or the acceptance is past its request', NEW.position
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_results_indicator', TABLE = 'acceptance_results';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER acceptance_results_check BEFORE INSERT OR UPDATE OR DELETE ON acceptance_results
    FOR EACH ROW EXECUTE FUNCTION acceptance_results_check();

-- An acceptance expert: drawn while the acceptance is requested, from the pool of the programme's
-- bureau, not retired, never conflicted with the consortium (`review_conflict_reason`, the review's
-- rule), one per organisation (the key is the expert's), within the panel size; a seat is a record.
CREATE OR REPLACE FUNCTION acceptance_panel_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    acceptance record;
    expert record;
    reason text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'an acceptance panel is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_panel_record', TABLE = 'acceptance_panel';
    END IF;
    SELECT a.status, a.panel_size, p.bid_id, g.bureau_id INTO acceptance
    FROM acceptances a JOIN projects p ON p.id = a.project_id JOIN programmes g ON g.id = p.programme_id
    WHERE a.id = NEW.acceptance_id FOR NO KEY UPDATE OF a;
    IF acceptance.status IS DISTINCT FROM 'requested' THEN
        RAISE EXCEPTION 'experts are drawn while the acceptance is requested'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_panel_requested', TABLE = 'acceptance_panel';
    END IF;
    SELECT bureau_id, organisation_key, retired_at INTO expert FROM experts WHERE user_id = NEW.expert_id;
    IF expert.bureau_id IS DISTINCT FROM acceptance.bureau_id OR expert.retired_at IS NOT NULL THEN
        RAISE EXCEPTION 'expert % is not in the programme''s pool', NEW.expert_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_panel_pool', TABLE = 'acceptance_panel';
    END IF;
    NEW.organisation_key := expert.organisation_key;
    reason := review_conflict_reason(NEW.expert_id, acceptance.bid_id);
    IF reason IS NOT NULL THEN
        RAISE EXCEPTION 'expert % must not judge this project: %', NEW.expert_id, reason
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_panel_conflict', TABLE = 'acceptance_panel';
    END IF;
    IF (SELECT count(*) FROM acceptance_panel WHERE acceptance_id = NEW.acceptance_id) >= acceptance.panel_size THEN
        RAISE EXCEPTION 'the acceptance already has its % experts', acceptance.panel_size
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_panel_size', TABLE = 'acceptance_panel';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER acceptance_panel_check BEFORE INSERT OR UPDATE OR DELETE ON acceptance_panel
    FOR EACH ROW EXECUTE FUNCTION acceptance_panel_check();

-- A verdict: given while the experts are assigned, one judgement per task-book indicator; a record.
CREATE OR REPLACE FUNCTION acceptance_verdicts_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    acceptance record;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'a verdict is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_verdicts_record', TABLE = 'acceptance_verdicts';
    END IF;
    SELECT a.status, (SELECT count(*) FROM project_indicators i WHERE i.project_id = a.project_id) AS indicators INTO acceptance
    FROM acceptances a WHERE a.id = NEW.acceptance_id FOR NO KEY UPDATE;
    IF acceptance.status IS DISTINCT FROM 'assigned' THEN
        RAISE EXCEPTION 'verdicts are given while the acceptance experts are assigned'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_verdicts_assigned', TABLE = 'acceptance_verdicts';
    END IF;
    IF coalesce(cardinality(NEW.indicators_met), 0) <> acceptance.indicators THEN
        RAISE EXCEPTION 'a verdict judges each of the % indicators', acceptance.indicators
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_verdicts_indicators', TABLE = 'acceptance_verdicts';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER acceptance_verdicts_check BEFORE INSERT OR UPDATE OR DELETE ON acceptance_verdicts
    FOR EACH ROW EXECUTE FUNCTION acceptance_verdicts_check();

-- A project is accepted only by a concluded, passed acceptance, and rectifies only after a conclusion
-- of 整改后通过, with its deadline.
CREATE OR REPLACE FUNCTION projects_acceptance_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'accepted' AND OLD.status <> 'accepted' AND NOT EXISTS (
        SELECT 1 FROM acceptances WHERE project_id = NEW.id AND status = 'concluded' AND conclusion = 'pass')
    THEN
        RAISE EXCEPTION 'a project is accepted only when its acceptance passed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_accepted_by_acceptance', TABLE = 'projects';
    END IF;
    IF NEW.status = 'rectifying' AND OLD.status <> 'rectifying' AND (NEW.rectify_by IS NULL OR NOT EXISTS (
        SELECT 1 FROM acceptances WHERE project_id = NEW.id AND status = 'concluded' AND conclusion = 'rectify'))
    THEN
        RAISE EXCEPTION 'a project rectifies only after a conclusion of pass after rectification, with its deadline'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_rectifying_by_acceptance', TABLE = 'projects';
    END IF;
    RETURN NEW;
END
$$;

-- Named to fire after projects_check (triggers fire in name order), so a transition off the state
-- machine is refused as such first.
CREATE OR REPLACE TRIGGER projects_check_acceptance BEFORE UPDATE OF status ON projects
    FOR EACH ROW EXECUTE FUNCTION projects_acceptance_check();

-- 后补助: a tranche of a post_subsidy programme is the post-subsidy one, scheduled once the project is
-- accepted, in all at most the programme's share (ratio cap, absolute cap) of the spend its passed
-- acceptance verified; an upfront programme has no post-subsidy tranche.
CREATE OR REPLACE FUNCTION tranches_post_subsidy_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    programme record;
    spent bigint;
    share bigint;
    committed bigint;
BEGIN
    SELECT g.funding_mode, g.funding_ratio_cap_bp, g.funding_absolute_cap_fen, p.status INTO programme
    FROM projects p JOIN programmes g ON g.id = p.programme_id WHERE p.id = NEW.project_id;
    IF programme.funding_mode = 'upfront' THEN
        IF NEW.post_subsidy THEN
            RAISE EXCEPTION 'an upfront programme has no post-subsidy tranche'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_post_subsidy', TABLE = 'tranches';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT NEW.post_subsidy OR NEW.milestone_id IS NOT NULL THEN
        RAISE EXCEPTION 'a post_subsidy programme pays only its post-subsidy tranche, after acceptance'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_post_subsidy', TABLE = 'tranches';
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT spent_fen INTO spent FROM acceptances
        WHERE project_id = NEW.project_id AND status = 'concluded' AND conclusion = 'pass';
        share := least((spent / 10000) * programme.funding_ratio_cap_bp + (spent % 10000) * programme.funding_ratio_cap_bp / 10000,
                       programme.funding_absolute_cap_fen);
        SELECT coalesce(sum(amount_fen), 0) INTO committed FROM tranches
        WHERE project_id = NEW.project_id AND status <> 'cancelled' AND id <> NEW.id;
        IF programme.status <> 'accepted' OR spent IS NULL OR committed + NEW.amount_fen > share THEN
            RAISE EXCEPTION 'the post-subsidy is scheduled after a passed acceptance, at most % fen', coalesce(share, 0)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'tranches_post_subsidy_share', TABLE = 'tranches';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER tranches_post_subsidy_check BEFORE INSERT OR UPDATE ON tranches
    FOR EACH ROW EXECUTE FUNCTION tranches_post_subsidy_check();

-- Only accepted projects have a result record and are listed, on a list of their own programme.
CREATE OR REPLACE FUNCTION achievements_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM projects WHERE id = NEW.project_id AND status = 'accepted') THEN
        RAISE EXCEPTION 'project % is not accepted', NEW.project_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'achievements_accepted', TABLE = 'achievements';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER achievements_check BEFORE INSERT OR UPDATE ON achievements
    FOR EACH ROW EXECUTE FUNCTION achievements_check();

CREATE OR REPLACE FUNCTION success_list_entries_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM projects p JOIN success_lists l ON l.programme_id = p.programme_id
        WHERE p.id = NEW.project_id AND l.id = NEW.success_list_id AND p.status = 'accepted')
    THEN
        RAISE EXCEPTION 'project % is not an accepted project of the list''s programme', NEW.project_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'success_list_entries_accepted', TABLE = 'success_list_entries';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER success_list_entries_check BEFORE INSERT OR UPDATE ON success_list_entries
    FOR EACH ROW EXECUTE FUNCTION success_list_entries_check();

-- Evidence is added by the lead unit until the acceptance concludes, and is a record.
CREATE OR REPLACE FUNCTION acceptance_evidence_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'acceptance evidence is a record: it does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_evidence_record', TABLE = 'acceptance_evidence';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM acceptances a JOIN projects p ON p.id = a.project_id JOIN users u ON u.unit_id = p.lead_unit_id
        WHERE a.id = NEW.acceptance_id AND a.status IN ('requested', 'assigned', 'draw_failed') AND u.id = NEW.uploaded_by)
    THEN
        RAISE EXCEPTION 'evidence is added by the lead unit before the acceptance concludes'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'acceptance_evidence_open', TABLE = 'acceptance_evidence';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER acceptance_evidence_check BEFORE INSERT OR UPDATE OR DELETE ON acceptance_evidence
    FOR EACH ROW EXECUTE FUNCTION acceptance_evidence_check();
