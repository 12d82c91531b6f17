-- Consortium bids (揭榜申请), their members, submissions, recommendation by the
-- lead unit's city (组织推荐) and the formal check (形式审查).
--
-- The rules of seed 002 step 3 hold here as well as in Swift, so that no race
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

-- Whether a bid in this status holds its units (a draft, a withdrawn or a declined bid does not).
CREATE FUNCTION bid_status_is_live(status bid_status) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed')
$$;

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
-- One trigger for both stamps: a submission in the deadline rush pays for one PL/pgSQL call, not two.
CREATE FUNCTION bids_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bids_stamp BEFORE UPDATE ON bids FOR EACH ROW EXECUTE FUNCTION bids_stamp();

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

-- A member's live flag follows its bid's status and its own acceptance; the
-- consortium of a bid that is not a draft or returned for revision is fixed.
CREATE FUNCTION bid_members_maintain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    bid_status bid_status;
    bid_programme bigint;
BEGIN
    -- Called from bids_sync_members (the only nested update of this table), which sets live itself.
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
        AND (NEW.bid_id, NEW.unit_id, NEW.programme_id, NEW.role, NEW.status, NEW.exclusive)
            IS NOT DISTINCT FROM (OLD.bid_id, OLD.unit_id, OLD.programme_id, OLD.role, OLD.status, OLD.exclusive) THEN
        RETURN NEW;
    END IF;
    SELECT status, programme_id INTO bid_status, bid_programme FROM bids WHERE id = COALESCE(NEW.bid_id, OLD.bid_id);
    IF bid_status NOT IN ('draft', 'returned') AND (TG_OP <> 'UPDATE' OR
        (NEW.unit_id, NEW.role, NEW.status) IS DISTINCT FROM (OLD.unit_id, OLD.role, OLD.status)) THEN
        RAISE EXCEPTION 'the consortium of a % bid cannot change', bid_status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_members_consortium_fixed', TABLE = 'bid_members';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.programme_id <> bid_programme THEN
        RAISE EXCEPTION 'a member''s programme is its bid''s'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bid_members_programme', TABLE = 'bid_members';
    END IF;
    NEW.live := bid_status_is_live(bid_status) AND NEW.status = 'accepted';
    RETURN NEW;
END;
$$;

CREATE TRIGGER bid_members_maintain BEFORE INSERT OR UPDATE OR DELETE ON bid_members
    FOR EACH ROW EXECUTE FUNCTION bid_members_maintain();

-- At every submission: the challenge is open, the consortium complete, the funding within the cap,
-- the commitment given. After the deadline the bid's content is locked.
CREATE FUNCTION bids_check() RETURNS trigger
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
        SELECT min_partners, max_consortium_size, funding_ratio_cap_bp, funding_absolute_cap_fen INTO programme
        FROM programmes WHERE id = NEW.programme_id;
        SELECT count(*) FILTER (WHERE role = 'partner' AND status = 'accepted'),
               count(*) FILTER (WHERE role = 'lead' AND unit_id = NEW.lead_unit_id)
          INTO partners, lead_count
          FROM bid_members WHERE bid_id = NEW.id;
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

CREATE TRIGGER bids_check BEFORE INSERT OR UPDATE ON bids FOR EACH ROW EXECUTE FUNCTION bids_check();

-- A status change moves its members' live flags; the unique index then refuses a second live bid of a unit.
-- Members change in unit order, so two submissions sharing units wait for each other instead of deadlocking.
CREATE FUNCTION bids_sync_members() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    member record;
BEGIN
    FOR member IN
        SELECT unit_id FROM bid_members
        WHERE bid_id = NEW.id AND live IS DISTINCT FROM (bid_status_is_live(NEW.status) AND status = 'accepted')
        ORDER BY unit_id
    LOOP
        UPDATE bid_members SET live = bid_status_is_live(NEW.status) AND status = 'accepted'
        WHERE bid_id = NEW.id AND unit_id = member.unit_id;
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER bids_sync_members AFTER UPDATE OF status ON bids
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION bids_sync_members();

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

CREATE FUNCTION bid_submissions_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'submitted versions are kept as they were'
        USING ERRCODE = 'insufficient_privilege', CONSTRAINT = 'bid_submissions_append_only';
END;
$$;

CREATE TRIGGER bid_submissions_append_only BEFORE UPDATE OR DELETE ON bid_submissions
    FOR EACH ROW EXECUTE FUNCTION bid_submissions_are_append_only();

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

-- A city recommends at most its quota: the quota row is locked, so concurrent recommendations count in turn.
CREATE FUNCTION bids_check_quota() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    allowed integer;
    used integer;
BEGIN
    SELECT quota INTO allowed FROM recommendation_quotas
    WHERE programme_id = NEW.programme_id AND region_code = NEW.region_code FOR UPDATE;
    IF allowed IS NOT NULL THEN
        SELECT count(*) INTO used FROM bids
        WHERE programme_id = NEW.programme_id AND region_code = NEW.region_code AND id <> NEW.id
          AND status IN ('recommended', 'formal_passed', 'formal_failed');
        IF used >= allowed THEN
            RAISE EXCEPTION 'the city''s quota of % recommendations is used', allowed
                USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_region_quota', TABLE = 'bids';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bids_region_quota BEFORE UPDATE OF status ON bids
    FOR EACH ROW WHEN (NEW.status = 'recommended' AND OLD.status <> 'recommended') EXECUTE FUNCTION bids_check_quota();

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

-- The outcome of a formal check agrees with its items.
CREATE FUNCTION bids_check_formal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    failed integer;
    total integer;
BEGIN
    SELECT count(*) FILTER (WHERE NOT passed), count(*) INTO failed, total FROM bid_formal_checks WHERE bid_id = NEW.id;
    IF total = 0 OR (NEW.status = 'formal_passed' AND failed > 0) OR (NEW.status = 'formal_failed' AND failed = 0) THEN
        RAISE EXCEPTION 'a formal check''s outcome follows its items'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_formal_outcome', TABLE = 'bids';
    END IF;
    IF OLD.status <> 'recommended' THEN
        RAISE EXCEPTION 'only a recommended bid is checked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bids_formal_after_recommendation', TABLE = 'bids';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER bids_formal_outcome BEFORE UPDATE OF status ON bids
    FOR EACH ROW WHEN (NEW.status IN ('formal_passed', 'formal_failed') AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION bids_check_formal();
