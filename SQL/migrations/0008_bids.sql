-- former checksum: 1762bd5772a300dea9f9e2763c37876c8a882ddc913b8715f82be483c28992b3
-- Consortium bids (揭榜申请), their members, submissions, recommendation by the
-- lead unit's city (组织推荐) and the formal check (形式审查).
--
-- The rules of seed 002 step 3 hold here (and in definitions/08_bids.sql) as well as in Swift, so that no race
-- and no hand-written SQL can break them:
--   * a consortium is one lead and at least the programme's minimum of accepted
--     partners (at most its maximum size), checked at every submission;
--   * requested funding ≤ min(ratio cap × total investment, absolute cap);
--   * a bid is submitted only to a published challenge before its deadline;
--   * each unit is in at most one live bid per programme (每个单位限申请一项揭榜任务):
--     a unique index over the live memberships.

-- draft ─submit→ submitted ─recommend→ recommended ─formal check→ formal_passed | formal_failed
--   submitted ─return→ returned ─submit→ submitted;  submitted ─decline→ declined
--   draft | submitted | returned ─withdraw→ withdrawn
CREATE TYPE bid_status AS ENUM (
    'draft', 'submitted', 'returned', 'recommended', 'declined', 'withdrawn', 'formal_passed', 'formal_failed'
);

CREATE TABLE bids (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id           bigint      NOT NULL REFERENCES programmes (id),
    challenge_id           bigint      NOT NULL REFERENCES challenges (id),
    lead_unit_id           bigint      NOT NULL REFERENCES units (id),
    -- The lead unit's city: its recommender handles the bid.
    region_code            text        NOT NULL,
    status                 bid_status  NOT NULL DEFAULT 'draft',
    -- The number of submissions so far; each is kept in bid_submissions.
    version                integer     NOT NULL DEFAULT 0,
    revision               integer     NOT NULL DEFAULT 1,
    technical_route        text        NOT NULL DEFAULT '',
    rd_foundation          text        NOT NULL DEFAULT '',
    -- One answer per indicator of the challenge, in its order.
    indicator_answers      text[]      NOT NULL DEFAULT '{}',
    total_investment_fen   bigint      NOT NULL DEFAULT 0,
    self_funding_fen       bigint      NOT NULL DEFAULT 0,
    requested_funding_fen  bigint      NOT NULL DEFAULT 0,
    -- The team: [{name, title, unit, role}].
    team                   jsonb       NOT NULL DEFAULT '[]',
    -- The lead's commitment to finish by the challenge's completion deadline.
    completion_commitment  boolean     NOT NULL DEFAULT false,
    created_by             bigint      REFERENCES users (id),
    submitted_at           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bids_amounts_non_negative CHECK (
        total_investment_fen >= 0 AND self_funding_fen >= 0 AND requested_funding_fen >= 0),
    CONSTRAINT bids_funding_within_investment CHECK (self_funding_fen + requested_funding_fen <= total_investment_fen),
    CONSTRAINT bids_team_array CHECK (jsonb_typeof(team) = 'array'),
    CONSTRAINT bids_version_non_negative CHECK (version >= 0),
    CONSTRAINT bids_submitted_version CHECK (status = 'draft' OR version >= 1 OR status = 'withdrawn'),
    CONSTRAINT bids_route_length CHECK (char_length(technical_route) <= 20000),
    CONSTRAINT bids_foundation_length CHECK (char_length(rd_foundation) <= 20000)
);

CREATE INDEX bids_challenge ON bids (challenge_id, status);
CREATE INDEX bids_region ON bids (programme_id, region_code, status);
-- The units of a bid: its lead and the partners it invited.
CREATE TABLE bid_members (
    bid_id            bigint      NOT NULL REFERENCES bids (id),
    unit_id           bigint      NOT NULL REFERENCES units (id),
    programme_id      bigint      NOT NULL REFERENCES programmes (id),
    role              text        NOT NULL,
    -- invited → accepted | declined (a lead is accepted from the start).
    status            text        NOT NULL DEFAULT 'invited',
    -- Copied from the programme (whose policy is fixed once bids can exist): whether the unit may be in one live bid only.
    exclusive         boolean     NOT NULL,
    -- Maintained by triggers: the bid is live and this unit counts in it (the lead, or an accepted partner).
    live              boolean     NOT NULL DEFAULT false,
    -- The partner's own part, filled by its unit admin.
    part_role         text        NOT NULL DEFAULT '',
    tasks             text        NOT NULL DEFAULT '',
    budget_share_fen  bigint      NOT NULL DEFAULT 0,
    contribution      text        NOT NULL DEFAULT '',
    responded_by      bigint      REFERENCES users (id),
    responded_at      timestamptz,
    invited_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bid_id, unit_id),
    CONSTRAINT bid_members_role CHECK (role IN ('lead', 'partner')),
    CONSTRAINT bid_members_status CHECK (status IN ('invited', 'accepted', 'declined')),
    CONSTRAINT bid_members_lead_accepted CHECK (role = 'partner' OR status = 'accepted'),
    CONSTRAINT bid_members_budget_non_negative CHECK (budget_share_fen >= 0)
);

CREATE UNIQUE INDEX bid_members_one_lead ON bid_members (bid_id) WHERE role = 'lead';
-- 每个单位限申请一项揭榜任务: one live bid per unit and programme, as lead or as partner.
CREATE UNIQUE INDEX bid_members_one_live_bid ON bid_members (programme_id, unit_id) WHERE live AND exclusive;
CREATE INDEX bid_members_unit ON bid_members (unit_id, status);

-- Every submitted version, kept: its content and the receipt's SHA-256.
CREATE TABLE bid_submissions (
    bid_id        bigint      NOT NULL REFERENCES bids (id),
    version       integer     NOT NULL,
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    submitted_by  bigint      REFERENCES users (id),
    content       jsonb       NOT NULL,
    sha256        text        NOT NULL,
    PRIMARY KEY (bid_id, version),
    CONSTRAINT bid_submissions_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$')
);

-- 申报材料: PDFs of a bid, with their SHA-256.
CREATE TABLE bid_attachments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bid_id        bigint      NOT NULL REFERENCES bids (id),
    filename      text        NOT NULL,
    content_type  text        NOT NULL,
    size_bytes    integer     NOT NULL,
    sha256        text        NOT NULL,
    data          bytea       NOT NULL,
    uploaded_by   bigint      REFERENCES users (id),
    uploaded_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bid_attachments_pdf CHECK (content_type = 'application/pdf' AND substring(data FROM 1 FOR 5) = '\x255044462d'::bytea),
    CONSTRAINT bid_attachments_size CHECK (size_bytes = octet_length(data) AND size_bytes BETWEEN 1 AND 20971520),
    CONSTRAINT bid_attachments_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT bid_attachments_filename CHECK (char_length(filename) BETWEEN 1 AND 200 AND filename !~ '[/\\]')
);

CREATE INDEX bid_attachments_bid ON bid_attachments (bid_id);

-- An optional cap on the bids a city recommends in a programme.
CREATE TABLE recommendation_quotas (
    programme_id  bigint  NOT NULL REFERENCES programmes (id),
    region_code   text    NOT NULL,
    quota         integer NOT NULL,
    PRIMARY KEY (programme_id, region_code),
    CONSTRAINT recommendation_quotas_region CHECK (region_code_is_prefecture(region_code)),
    CONSTRAINT recommendation_quotas_positive CHECK (quota >= 0)
);

-- The recommender's decisions, with the opinion (推荐意见) or the reason.
CREATE TABLE bid_recommendations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bid_id      bigint      NOT NULL REFERENCES bids (id),
    version     integer     NOT NULL,
    decision    text        NOT NULL,
    opinion     text        NOT NULL,
    actor_id    bigint      REFERENCES users (id),
    decided_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bid_recommendations_decision CHECK (decision IN ('recommend', 'return', 'decline')),
    CONSTRAINT bid_recommendations_opinion CHECK (char_length(btrim(opinion)) BETWEEN 2 AND 5000)
);

CREATE INDEX bid_recommendations_bid ON bid_recommendations (bid_id, id);

-- The publisher's formal check, item by item.
CREATE TABLE bid_formal_checks (
    bid_id      bigint      NOT NULL REFERENCES bids (id),
    item        text        NOT NULL,
    passed      boolean     NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    checked_by  bigint      REFERENCES users (id),
    checked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bid_id, item),
    CONSTRAINT bid_formal_checks_reason CHECK (passed OR char_length(btrim(reason)) >= 2)
);
