-- Projects (攻关, seed 002 steps 6 and 7): a final award becomes a project with a task book (任务书):
-- the challenge's indicators with the contracted targets, milestones with due dates and deliverables,
-- the awarded funding split into tranches, yearly progress reports and change requests. The rules live in
-- definitions/13_projects.sql:
--   * a contracted target never lowers the challenge's indicator (project_indicators_not_lowered);
--   * the tranches never exceed the award, exact in fen (tranches_within_award);
--   * the deadline is extended at most once, by at most one year (projects_one_extension);
--   * the status moves only along the state machine of `ProjectStatus` (projects_transition).
--
-- executing ─request acceptance→ acceptance_requested ─experts assigned→ under_acceptance
-- under_acceptance ─pass→ accepted | ─pass after rectification→ rectifying | ─fail→ failed
-- rectifying ─resubmit→ under_acceptance | ─deadline missed→ failed
-- executing ─stop (赛马制)→ stopped

-- Recommenders are reminded of the yearly progress reports from 1 December, and told once they are late.
INSERT INTO notification_occasions (occasion, mandatory, description) VALUES
    ('progress_report.due', false, '12月1日起：本地区尚有项目未报送年度进展'),
    ('progress_report.overdue', true, '12月10日后：本地区仍有项目未报送年度进展');

CREATE TABLE projects (
    id                            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bid_id                        bigint      NOT NULL REFERENCES bids (id),
    challenge_id                  bigint      NOT NULL REFERENCES challenges (id),
    programme_id                  bigint      NOT NULL REFERENCES programmes (id),
    lead_unit_id                  bigint      NOT NULL REFERENCES units (id),
    -- The lead unit's city: its recommender files the yearly progress reports.
    region_code                   text        NOT NULL,
    status                        text        NOT NULL DEFAULT 'executing',
    -- The awarded funding, in fen.
    award_fen                     bigint      NOT NULL,
    -- The task book's completion date, and the one contracted first (an extension moves the former).
    completion_deadline           date        NOT NULL,
    original_completion_deadline  date        NOT NULL,
    stopped_reason                text,
    created_by                    bigint      REFERENCES users (id),
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    revision                      integer     NOT NULL DEFAULT 1,
    CONSTRAINT projects_bid_once UNIQUE (bid_id),
    CONSTRAINT projects_status CHECK (
        status IN ('executing', 'acceptance_requested', 'under_acceptance', 'rectifying', 'accepted', 'failed', 'stopped')),
    CONSTRAINT projects_award_positive CHECK (award_fen > 0),
    CONSTRAINT projects_one_extension CHECK (
        completion_deadline >= original_completion_deadline
        AND completion_deadline <= original_completion_deadline + interval '1 year'),
    CONSTRAINT projects_stopped_reason CHECK (
        (status = 'stopped') = (stopped_reason IS NOT NULL)
        AND (stopped_reason IS NULL OR char_length(btrim(stopped_reason)) BETWEEN 2 AND 2000))
);

CREATE INDEX projects_programme ON projects (programme_id, status);
CREATE INDEX projects_region ON projects (region_code, status);

-- The task book's indicators: one per indicator of the challenge, in its order. The challenge's text,
-- its direction and threshold are copied by trigger from the challenge (never taken from the writer).
CREATE TABLE project_indicators (
    project_id           bigint  NOT NULL REFERENCES projects (id),
    position             integer NOT NULL,
    challenge_text       text    NOT NULL,
    -- at_least (不低于 52), at_most (不高于 5), or qualitative (no number to compare).
    direction            text    NOT NULL,
    challenge_threshold  numeric,
    target               numeric,
    target_text          text    NOT NULL,
    PRIMARY KEY (project_id, position),
    CONSTRAINT project_indicators_position CHECK (position >= 1),
    CONSTRAINT project_indicators_direction CHECK (direction IN ('at_least', 'at_most', 'qualitative')),
    CONSTRAINT project_indicators_target_text CHECK (char_length(btrim(target_text)) BETWEEN 1 AND 500)
);

-- Milestones (里程碑) with due dates and deliverables; the publisher approves or rejects what is submitted.
CREATE TABLE milestones (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    bigint      NOT NULL REFERENCES projects (id),
    position      integer     NOT NULL,
    title         text        NOT NULL,
    due_on        date        NOT NULL,
    deliverables  text        NOT NULL,
    -- planned → submitted → approved | rejected (→ submitted again)
    status        text        NOT NULL DEFAULT 'planned',
    decided_at    timestamptz,
    CONSTRAINT milestones_position_key UNIQUE (project_id, position),
    CONSTRAINT milestones_position CHECK (position >= 1),
    CONSTRAINT milestones_title_length CHECK (char_length(btrim(title)) BETWEEN 2 AND 200),
    CONSTRAINT milestones_deliverables_length CHECK (char_length(btrim(deliverables)) BETWEEN 2 AND 5000),
    CONSTRAINT milestones_status CHECK (status IN ('planned', 'submitted', 'approved', 'rejected')),
    CONSTRAINT milestones_decided CHECK ((status IN ('approved', 'rejected')) = (decided_at IS NOT NULL))
);

-- The award split into tranches: one on signing (no milestone) or one per milestone, paid once the
-- milestone is approved. A stopped racer's scheduled tranches are cancelled.
CREATE TABLE tranches (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    bigint      NOT NULL REFERENCES projects (id),
    milestone_id  bigint      REFERENCES milestones (id),
    amount_fen    bigint      NOT NULL,
    -- scheduled → paid | cancelled
    status        text        NOT NULL DEFAULT 'scheduled',
    paid_at       timestamptz,
    CONSTRAINT tranches_amount_positive CHECK (amount_fen > 0),
    CONSTRAINT tranches_status CHECK (status IN ('scheduled', 'paid', 'cancelled')),
    CONSTRAINT tranches_paid_at CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);

CREATE INDEX tranches_project ON tranches (project_id);

-- Yearly progress reports, filed by the recommender of the lead unit's city by 10 December (seed 002 §四).
CREATE TABLE progress_reports (
    project_id  bigint      NOT NULL REFERENCES projects (id),
    year        integer     NOT NULL,
    content     text        NOT NULL,
    filed_by    bigint      NOT NULL REFERENCES users (id),
    filed_at    timestamptz NOT NULL DEFAULT now(),
    -- Set by trigger: filed after 10 December of `year`, Asia/Shanghai.
    late        boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (project_id, year),
    CONSTRAINT progress_reports_year CHECK (year BETWEEN 2000 AND 2100),
    CONSTRAINT progress_reports_content_length CHECK (char_length(btrim(content)) BETWEEN 10 AND 20000)
);

-- Change requests (extend the deadline, change a partner, clarify an indicator): approved or refused
-- by the publisher; every request stays recorded with its decision.
CREATE TABLE project_changes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint      NOT NULL REFERENCES projects (id),
    kind           text        NOT NULL,
    reason         text        NOT NULL,
    new_deadline   date,
    details        text        NOT NULL DEFAULT '',
    status         text        NOT NULL DEFAULT 'pending',
    requested_by   bigint      REFERENCES users (id),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    decided_by     bigint      REFERENCES users (id),
    decided_at     timestamptz,
    decision_note  text,
    CONSTRAINT project_changes_kind CHECK (kind IN ('extend_deadline', 'change_partner', 'clarify_indicator')),
    CONSTRAINT project_changes_reason_length CHECK (char_length(btrim(reason)) BETWEEN 2 AND 2000),
    CONSTRAINT project_changes_deadline CHECK ((kind = 'extend_deadline') = (new_deadline IS NOT NULL)),
    CONSTRAINT project_changes_status CHECK (status IN ('pending', 'approved', 'refused')),
    CONSTRAINT project_changes_decided CHECK ((status = 'pending') = (decided_at IS NULL))
);

-- At most one approved extension per project, and one pending request of a kind at a time.
CREATE UNIQUE INDEX project_changes_one_extension ON project_changes (project_id) WHERE kind = 'extend_deadline' AND status = 'approved';
CREATE UNIQUE INDEX project_changes_one_pending ON project_changes (project_id, kind) WHERE status = 'pending';
