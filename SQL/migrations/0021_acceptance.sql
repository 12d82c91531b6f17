-- Acceptance (验收, seed 002 step 7): the lead requests acceptance with its result per indicator and
-- its spend; the `acceptance.assign` job draws the acceptance experts with the review's solver and
-- conflict rules; each expert records a verdict per indicator and a conclusion; the publisher records
-- the financial acceptance; both must pass. 整改后通过 (pass after rectification) gives one more
-- attempt, requested within three months. Accepted projects enter a result record (成果) and are
-- published on the list of successful units (攻关成功单位名单) in batches, all at once. The rules
-- live in definitions/14_acceptance.sql:
--   * at most one open acceptance per project, at most two attempts (acceptances_attempt_once);
--   * the second attempt only while rectifying and within three months (acceptances_rectification_window);
--   * an acceptance expert is never conflicted (acceptance_panel_conflict), one per organisation;
--   * a verdict fails when an indicator is not met, data are untrue or targets changed without approval;
--   * an acceptance passes only when the task and the finances both pass (acceptances_pass_needs_both).

INSERT INTO notification_occasions (occasion, mandatory, description) VALUES
    ('acceptance.assigned', true, '专家被抽取为项目验收专家'),
    ('acceptance.overdue', true, '项目已过完成时限，尚未申请验收'),
    ('milestone.due', false, '里程碑将在7天内到期，尚未提交'),
    ('milestone.overdue', true, '里程碑已到期，尚未提交'),
    ('recommendation.due', false, '推荐截止前3天：本地区尚有待推荐的揭榜申请');

-- The recommenders' window (组织推荐) of a programme, when the publisher sets one.
ALTER TABLE programmes
    ADD COLUMN recommendation_closes_at timestamptz,
    ADD CONSTRAINT programmes_recommendation_after_application CHECK (recommendation_closes_at > application_closes_at);

CREATE INDEX milestones_open_due ON milestones (due_on) WHERE status IN ('planned', 'rejected');

-- When the lead must resubmit after 整改后通过 (three months after the notice); when a scan first found
-- the project past its completion date without an acceptance request.
ALTER TABLE projects
    ADD COLUMN rectify_by timestamptz,
    ADD COLUMN acceptance_overdue_at timestamptz;

-- 后补助 (post-subsidy, Qinghai): in a post_subsidy programme the money is one tranche scheduled when the
-- acceptance passes, a share of the verified spend within the programme's caps and the award.
ALTER TABLE tranches ADD COLUMN post_subsidy boolean NOT NULL DEFAULT false;

CREATE INDEX projects_executing_deadline ON projects (completion_deadline) WHERE status = 'executing';
CREATE INDEX projects_rectifying ON projects (rectify_by) WHERE status = 'rectifying';

CREATE TABLE acceptances (
    id                    bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id            bigint      NOT NULL REFERENCES projects (id),
    -- 1, or 2 after 整改后通过.
    attempt               smallint    NOT NULL,
    -- requested → assigned (experts drawn) → concluded; draw_failed when no panel could be drawn.
    status                text        NOT NULL DEFAULT 'requested',
    summary               text        NOT NULL,
    -- Actual spend the lead reports, for the financial acceptance (exact fen).
    spent_fen             bigint      NOT NULL,
    panel_size            smallint    NOT NULL DEFAULT 5,
    -- The draw: the seed's SHA-256 is recorded with the request, before the draw runs.
    seed                  numeric(20, 0) NOT NULL,
    seed_sha256           text        NOT NULL,
    inputs                jsonb,
    outcome               jsonb,
    failure               text,
    financial_passed      boolean,
    financial_note        text        NOT NULL DEFAULT '',
    financial_decided_by  bigint      REFERENCES users (id),
    financial_decided_at  timestamptz,
    -- The panel's conclusion (the median verdict), then the acceptance's (task and finances together).
    task_conclusion       text,
    conclusion            text,
    requested_by          bigint      NOT NULL REFERENCES users (id),
    requested_at          timestamptz NOT NULL DEFAULT now(),
    assigned_at           timestamptz,
    concluded_at          timestamptz,
    CONSTRAINT acceptances_attempt_once UNIQUE (project_id, attempt),
    CONSTRAINT acceptances_attempt CHECK (attempt IN (1, 2)),
    CONSTRAINT acceptances_status CHECK (status IN ('requested', 'assigned', 'concluded', 'draw_failed')),
    CONSTRAINT acceptances_summary_length CHECK (char_length(btrim(summary)) BETWEEN 10 AND 20000),
    CONSTRAINT acceptances_spent CHECK (spent_fen BETWEEN 0 AND 100000000000000),
    CONSTRAINT acceptances_panel_size CHECK (panel_size BETWEEN 3 AND 15),
    CONSTRAINT acceptances_seed_sha256 CHECK (seed_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT acceptances_conclusions CHECK (
        (task_conclusion IS NULL OR task_conclusion IN ('pass', 'rectify', 'fail'))
        AND (conclusion IS NULL OR conclusion IN ('pass', 'rectify', 'fail'))),
    CONSTRAINT acceptances_concluded CHECK ((status = 'concluded') = (conclusion IS NOT NULL AND concluded_at IS NOT NULL)),
    CONSTRAINT acceptances_pass_needs_both CHECK (
        conclusion IS DISTINCT FROM 'pass' OR (task_conclusion = 'pass' AND financial_passed)),
    CONSTRAINT acceptances_second_is_final CHECK (attempt = 1 OR conclusion IS DISTINCT FROM 'rectify'),
    CONSTRAINT acceptances_financial_decided CHECK ((financial_passed IS NULL) = (financial_decided_at IS NULL)),
    CONSTRAINT acceptances_financial_note_length CHECK (char_length(financial_note) <= 2000)
);

CREATE UNIQUE INDEX acceptances_one_open ON acceptances (project_id) WHERE status IN ('requested', 'assigned');

-- The lead's result per task-book indicator.
CREATE TABLE acceptance_results (
    acceptance_id  bigint  NOT NULL REFERENCES acceptances (id),
    position       integer NOT NULL,
    result         numeric,
    result_text    text    NOT NULL,
    PRIMARY KEY (acceptance_id, position),
    CONSTRAINT acceptance_results_text_length CHECK (char_length(btrim(result_text)) BETWEEN 1 AND 500)
);

-- The experts drawn for an acceptance.
CREATE TABLE acceptance_panel (
    acceptance_id     bigint NOT NULL REFERENCES acceptances (id),
    expert_id         bigint NOT NULL REFERENCES experts (user_id),
    organisation_key  text   NOT NULL,
    PRIMARY KEY (acceptance_id, expert_id),
    CONSTRAINT acceptance_panel_one_per_organisation UNIQUE (acceptance_id, organisation_key)
);

CREATE INDEX acceptance_panel_expert ON acceptance_panel (expert_id);

-- One verdict per expert of the panel: per indicator met or not, whether the data are true, whether the
-- targets were kept (no change without approval), and a conclusion.
CREATE TABLE acceptance_verdicts (
    acceptance_id     bigint      NOT NULL,
    expert_id         bigint      NOT NULL,
    indicators_met    boolean[]   NOT NULL,
    data_true         boolean     NOT NULL,
    targets_kept      boolean     NOT NULL,
    conclusion        text        NOT NULL,
    comment           text        NOT NULL DEFAULT '',
    submitted_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (acceptance_id, expert_id),
    FOREIGN KEY (acceptance_id, expert_id) REFERENCES acceptance_panel (acceptance_id, expert_id),
    CONSTRAINT acceptance_verdicts_conclusion CHECK (conclusion IN ('pass', 'rectify', 'fail')),
    CONSTRAINT acceptance_verdicts_must_fail CHECK (
        conclusion = 'fail'
        OR (data_true AND targets_kept AND array_position(indicators_met, false) IS NULL
            AND array_position(indicators_met, NULL) IS NULL)),
    CONSTRAINT acceptance_verdicts_comment_length CHECK (char_length(comment) <= 5000)
);

-- The result record (成果) of an accepted project.
CREATE TABLE achievements (
    project_id   bigint      PRIMARY KEY REFERENCES projects (id),
    title        text        NOT NULL,
    summary      text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- The list of successful units, published per programme in batches: every accepted project not yet
-- listed, all at once.
CREATE TABLE success_lists (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id  bigint      NOT NULL REFERENCES programmes (id),
    published_by  bigint      NOT NULL REFERENCES users (id),
    published_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE success_list_entries (
    project_id       bigint NOT NULL PRIMARY KEY REFERENCES projects (id),
    success_list_id  bigint NOT NULL REFERENCES success_lists (id)
);

CREATE INDEX success_list_entries_list ON success_list_entries (success_list_id);

-- Evidence (佐证材料) of an acceptance request: PDFs with their SHA-256, as bids have them.
CREATE TABLE acceptance_evidence (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    acceptance_id  bigint      NOT NULL REFERENCES acceptances (id),
    filename       text        NOT NULL,
    content_type   text        NOT NULL,
    size_bytes     integer     NOT NULL,
    sha256         text        NOT NULL,
    data           bytea       NOT NULL,
    uploaded_by    bigint      NOT NULL REFERENCES users (id),
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT acceptance_evidence_pdf CHECK (content_type = 'application/pdf' AND substring(data FROM 1 FOR 5) = '\x255044462d'::bytea),
    CONSTRAINT acceptance_evidence_size CHECK (size_bytes = octet_length(data) AND size_bytes BETWEEN 1 AND 20971520),
    CONSTRAINT acceptance_evidence_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT acceptance_evidence_filename CHECK (char_length(filename) BETWEEN 1 AND 200 AND filename !~ '[/\\]')
);

CREATE INDEX acceptance_evidence_acceptance ON acceptance_evidence (acceptance_id);
