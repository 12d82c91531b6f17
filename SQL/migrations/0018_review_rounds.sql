-- Review rounds (单位遴选), their draws and the assignments of experts to bids.
--
-- A round reviews the formally passed bids of one or more challenges of a programme. Its panel size k
-- (never below 3), the pair cap q = cap_numerator / cap_denominator, the alternates per bid and the
-- scoring deadline are fixed when it starts. Each draw is recorded before it runs with the SHA-256 of
-- its seed; the seed is kept hidden until the draw is applied, and every later draw is a new row, so
-- re-drawing until a favourable result shows in the record. The conflicts (回避), the load caps and
-- the one-expert-per-organisation rule hold in definitions/11_review.sql for every assignment row.

-- Experts are told of their seats (drawn, promoted from alternate, or drawn as a replacement).
INSERT INTO notification_occasions (occasion, mandatory, description) VALUES
    ('review.assigned', true, '专家被分配评审任务（含替补、递补）'),
    ('review.due.t3', false, '评分截止前3天：仍有未提交的评分'),
    ('review.due.t1', false, '评分截止前1天：仍有未提交的评分'),
    ('review.overdue', true, '评分已逾期：仍有未提交的评分');

ALTER TABLE programmes
    ADD COLUMN review_panel_size integer NOT NULL DEFAULT 5,
    -- An optional further conflict rule: no expert working in the lead unit's city.
    ADD COLUMN review_excludes_lead_city boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT programmes_review_panel_size CHECK (review_panel_size BETWEEN 3 AND 15);

CREATE TABLE review_rounds (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id     bigint      NOT NULL REFERENCES programmes (id),
    name             text        NOT NULL,
    -- preparing (no draw applied) → assigned (scoring open) → closed (scores final and visible).
    status           text        NOT NULL DEFAULT 'preparing',
    panel_size       integer     NOT NULL,
    alternates       integer     NOT NULL DEFAULT 1,
    cap_numerator    integer     NOT NULL DEFAULT 1,
    cap_denominator  integer     NOT NULL DEFAULT 1,
    scoring_deadline timestamptz NOT NULL,
    created_by       bigint      REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    revision         integer     NOT NULL DEFAULT 1,
    CONSTRAINT review_rounds_name_length CHECK (char_length(btrim(name)) BETWEEN 2 AND 200),
    CONSTRAINT review_rounds_status CHECK (status IN ('preparing', 'assigned', 'closed')),
    CONSTRAINT review_rounds_panel_size CHECK (panel_size BETWEEN 3 AND 15),
    CONSTRAINT review_rounds_alternates CHECK (alternates BETWEEN 0 AND 5),
    CONSTRAINT review_rounds_cap CHECK (cap_numerator >= 1 AND cap_denominator BETWEEN 1 AND 100 AND cap_numerator <= cap_denominator),
    CONSTRAINT review_rounds_closed_at CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);

CREATE INDEX review_rounds_programme ON review_rounds (programme_id, id);

-- The challenges a round reviews: each challenge is reviewed in one round.
CREATE TABLE review_round_challenges (
    round_id      bigint NOT NULL REFERENCES review_rounds (id),
    challenge_id  bigint NOT NULL REFERENCES challenges (id),
    PRIMARY KEY (round_id, challenge_id),
    CONSTRAINT review_round_challenges_once UNIQUE (challenge_id)
);

-- Every draw of a round, dry runs included: the seed's SHA-256 is written when the draw is requested;
-- the seed is revealed (to the API) once the draw is applied. The inputs are the instance the solver
-- saw (bids, experts, affinities, conflicts), so `jiebang review verify-draw` can recompute it.
CREATE TABLE review_draws (
    round_id          bigint      NOT NULL REFERENCES review_rounds (id),
    number            integer     NOT NULL,
    dry_run           boolean     NOT NULL,
    -- pending → applied | previewed (a dry run) | failed; an applied draw is superseded by a later one.
    status            text        NOT NULL DEFAULT 'pending',
    seed              numeric(20, 0) NOT NULL,
    seed_sha256       text        NOT NULL,
    inputs            jsonb,
    fingerprint       text,
    -- Σ affinity · x of the fractional solution and of the deterministic optimum (q = 1).
    expected_affinity numeric,
    optimum_affinity  numeric,
    -- Σ affinity over the sampled assignment.
    drawn_affinity    bigint,
    -- What the draw gave: {"assignments": [[expert, bid], ...], "alternates": [[expert, bid], ...]}
    -- (ids as text, alternates in rank order per bid); a dry run's preview is only this.
    outcome           jsonb,
    failure           text,
    requested_by      bigint      REFERENCES users (id),
    requested_at      timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    PRIMARY KEY (round_id, number),
    CONSTRAINT review_draws_number_positive CHECK (number >= 1),
    CONSTRAINT review_draws_status CHECK (status IN ('pending', 'applied', 'previewed', 'failed', 'superseded')),
    CONSTRAINT review_draws_seed_range CHECK (seed >= 0 AND seed <= 18446744073709551615),
    CONSTRAINT review_draws_seed_sha256 CHECK (seed_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT review_draws_dry_run_not_applied CHECK (NOT (dry_run AND status IN ('applied', 'superseded'))),
    CONSTRAINT review_draws_finished CHECK ((status = 'pending') = (finished_at IS NULL)),
    CONSTRAINT review_draws_failure CHECK ((status = 'failed') = (failure IS NOT NULL))
);

-- One draw at a time per round, and at most one applied draw.
CREATE UNIQUE INDEX review_draws_one_pending ON review_draws (round_id) WHERE status = 'pending';
CREATE UNIQUE INDEX review_draws_one_applied ON review_draws (round_id) WHERE status = 'applied';

-- Who reviews which bid. A panel seat or an alternate (替补); a recused row stays, with its reason.
-- organisation_key is copied from the expert (by trigger) so that a unique index can hold the rule of
-- one expert per organisation and bid.
CREATE TABLE review_assignments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id          bigint      NOT NULL REFERENCES review_rounds (id),
    draw_number       integer     NOT NULL,
    bid_id            bigint      NOT NULL REFERENCES bids (id),
    expert_id         bigint      NOT NULL REFERENCES experts (user_id),
    organisation_key  text        NOT NULL,
    -- panel: scores the bid; alternate: takes a seat when a panel expert recuses.
    role              text        NOT NULL,
    -- The alternates' order, 1 first; NULL for a seat drawn as such.
    alternate_rank    integer,
    -- active, or recused (with its reason).
    status            text        NOT NULL DEFAULT 'active',
    -- drawn, or replacement (drawn later from the pool after a recusal, the alternates being used up).
    source            text        NOT NULL DEFAULT 'drawn',
    recusal_reason    text,
    recused_at        timestamptz,
    promoted_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (round_id, draw_number) REFERENCES review_draws (round_id, number),
    CONSTRAINT review_assignments_once UNIQUE (round_id, bid_id, expert_id),
    CONSTRAINT review_assignments_role CHECK (role IN ('panel', 'alternate')),
    CONSTRAINT review_assignments_status CHECK (status IN ('active', 'recused')),
    CONSTRAINT review_assignments_source CHECK (source IN ('drawn', 'replacement')),
    CONSTRAINT review_assignments_recusal CHECK (
        (status = 'recused') = (recused_at IS NOT NULL)
        AND (status = 'recused') = (recusal_reason IS NOT NULL)
        AND (recusal_reason IS NULL OR char_length(btrim(recusal_reason)) BETWEEN 2 AND 1000))
);

-- At most one expert of one organisation on one bid (seats and alternates that are active).
CREATE UNIQUE INDEX review_assignments_one_per_organisation
    ON review_assignments (round_id, bid_id, organisation_key) WHERE status = 'active';
CREATE INDEX review_assignments_expert ON review_assignments (expert_id, round_id);
CREATE INDEX review_assignments_bid ON review_assignments (bid_id);
