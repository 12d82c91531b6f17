-- Scoring (评分) and award (揭榜单位 with 公示): the rubric of a programme, the experts' scores, the
-- winners picked per challenge, the public notice with its objections (异议), and the final list.
--
-- The rules that need other rows (a score only on an active panel seat of an assigned round before its
-- deadline, a submitted score locked, the rubric fixed once a score is submitted, at most the
-- challenge's number of winners, the period and the objections before the award is final) live in
-- definitions/12_awards.sql.

-- The rubric: criteria with a weight and a score range. An expert's weighted total is
-- Σ weight · (score − min) / (max − min) / Σ weight × 100, so criteria on different scales add up.
CREATE TABLE rubric_criteria (
    programme_id  bigint  NOT NULL REFERENCES programmes (id),
    key           text    NOT NULL,
    name          text    NOT NULL,
    weight        integer NOT NULL,
    min_score     integer NOT NULL DEFAULT 0,
    max_score     integer NOT NULL DEFAULT 100,
    position      integer NOT NULL,
    PRIMARY KEY (programme_id, key),
    CONSTRAINT rubric_criteria_key_format CHECK (key ~ '^[a-z][a-z0-9_]{1,39}$'),
    CONSTRAINT rubric_criteria_name_length CHECK (char_length(btrim(name)) BETWEEN 2 AND 50),
    CONSTRAINT rubric_criteria_weight_range CHECK (weight BETWEEN 1 AND 100),
    CONSTRAINT rubric_criteria_score_range CHECK (min_score >= 0 AND max_score <= 100 AND min_score < max_score),
    CONSTRAINT rubric_criteria_position_range CHECK (position BETWEEN 1 AND 10),
    CONSTRAINT rubric_criteria_position_key UNIQUE (programme_id, position) DEFERRABLE INITIALLY DEFERRED
);

-- The default rubric (seed 002 step 5 names the first three; the technical plan is the bid's own):
-- 研发基础条件 30, 创新能力 30, 技术方案 25, 资金支撑 15, each scored 0 to 100.
INSERT INTO rubric_criteria (programme_id, key, name, weight, min_score, max_score, position)
SELECT p.id, d.key, d.name, d.weight, 0, 100, d.position
FROM programmes p,
     (VALUES ('rd_foundation', '研发基础条件', 30, 1), ('innovation', '创新能力', 30, 2),
             ('technical_plan', '技术方案', 25, 3), ('funding', '资金支撑', 15, 4)) AS d (key, name, weight, position);

-- An expert's score of one panel seat: a draft until submitted, then locked.
CREATE TABLE review_scores (
    assignment_id  bigint      PRIMARY KEY REFERENCES review_assignments (id),
    round_id       bigint      NOT NULL REFERENCES review_rounds (id),
    programme_id   bigint      NOT NULL REFERENCES programmes (id),
    -- draft → submitted (locked).
    status         text        NOT NULL DEFAULT 'draft',
    submitted_at   timestamptz,
    revision       integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT review_scores_status CHECK (status IN ('draft', 'submitted')),
    CONSTRAINT review_scores_submitted_at CHECK ((status = 'submitted') = (submitted_at IS NOT NULL))
);

CREATE INDEX review_scores_round ON review_scores (round_id);
-- Whether a programme has a submitted score (which fixes its rubric).
CREATE INDEX review_scores_programme_submitted ON review_scores (programme_id) WHERE status = 'submitted';

-- One criterion of a score: the value in the criterion's range and the expert's comment.
CREATE TABLE review_score_items (
    assignment_id  bigint  NOT NULL REFERENCES review_scores (assignment_id),
    criterion_key  text    NOT NULL,
    score          integer NOT NULL,
    comment        text    NOT NULL DEFAULT '',
    PRIMARY KEY (assignment_id, criterion_key),
    CONSTRAINT review_score_items_comment_length CHECK (char_length(comment) <= 2000)
);

-- Working days (Mon–Fri) that are public holidays: the 公示 period skips them.
CREATE TABLE public_holidays (
    day   date PRIMARY KEY,
    name  text NOT NULL,
    CONSTRAINT public_holidays_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 50)
);

-- A challenge's winners (揭榜单位): pending while the challenge has no notice, published with it
-- (公示), final once the notice is finalised. At most challenges.winners per challenge (赛马制: several).
CREATE TABLE awards (
    challenge_id  bigint      NOT NULL REFERENCES challenges (id),
    bid_id        bigint      NOT NULL REFERENCES bids (id),
    round_id      bigint      NOT NULL REFERENCES review_rounds (id),
    picked_by     bigint      REFERENCES users (id),
    picked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (challenge_id, bid_id),
    CONSTRAINT awards_bid_once UNIQUE (bid_id)
);

-- The public notice (公示) of a challenge's winners: published all at once, open to objections until
-- objections_close_at (the end of the last of the programme's working days in Asia/Shanghai), then
-- finalised by the publisher once every objection is resolved.
CREATE TABLE award_notices (
    challenge_id         bigint      PRIMARY KEY REFERENCES challenges (id),
    round_id             bigint      NOT NULL REFERENCES review_rounds (id),
    published_at         timestamptz NOT NULL DEFAULT now(),
    -- The first and last working day of the period, in Asia/Shanghai.
    first_day            date        NOT NULL,
    last_day             date        NOT NULL,
    objections_close_at  timestamptz NOT NULL,
    published_by         bigint      REFERENCES users (id),
    finalised_at         timestamptz,
    finalised_by         bigint      REFERENCES users (id),
    CONSTRAINT award_notices_days CHECK (first_day <= last_day),
    CONSTRAINT award_notices_final_after_period CHECK (finalised_at IS NULL OR finalised_at >= objections_close_at)
);

CREATE INDEX award_notices_round ON award_notices (round_id);

-- An objection (异议) to a published notice: signed by a user (shown only to the publisher), resolved
-- with a resolution before the award is final.
CREATE TABLE award_objections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    challenge_id  bigint      NOT NULL REFERENCES award_notices (challenge_id),
    objector_id   bigint      NOT NULL REFERENCES users (id),
    text          text        NOT NULL,
    filed_at      timestamptz NOT NULL DEFAULT now(),
    resolution    text,
    resolved_by   bigint      REFERENCES users (id),
    resolved_at   timestamptz,
    CONSTRAINT award_objections_text_length CHECK (char_length(btrim(text)) BETWEEN 10 AND 5000),
    CONSTRAINT award_objections_resolution CHECK (
        (resolution IS NULL) = (resolved_at IS NULL)
        AND (resolution IS NULL OR char_length(btrim(resolution)) BETWEEN 2 AND 5000))
);

CREATE INDEX award_objections_open ON award_objections (challenge_id) WHERE resolved_at IS NULL;
