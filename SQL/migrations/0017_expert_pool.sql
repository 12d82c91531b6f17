-- The expert pool (专家库) of a provincial bureau: each expert is a user with the role `expert` and a
-- profile here. The affiliation (a registered unit, or only an organisation's name), the region and
-- the declared ties to units decide the conflicts (回避, definitions/11_review.sql); domains, industry
-- chains and keywords decide the affinity with a bid; the load cap bounds the panels of one round.

-- Whether every item of a list of tags (domains, industry chains, keywords) is 1 to `max_length`
-- characters once trimmed; part of the experts table's checks, so it stays in this migration.
CREATE FUNCTION text_items_fit(items text[], max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(char_length(btrim(item)) BETWEEN 1 AND max_length), true) FROM unnest(items) AS item
$$;

CREATE TABLE experts (
    user_id            bigint      PRIMARY KEY REFERENCES users (id),
    -- The pool: the provincial bureau whose programmes the expert reviews for.
    bureau_id          bigint      NOT NULL REFERENCES bureaus (id),
    -- The unit the expert works for, when it is registered; the organisation's name in any case.
    unit_id            bigint      REFERENCES units (id),
    organisation       text        NOT NULL,
    -- At most one expert of one organisation sits on a bid's panel: the unit when known, else the name.
    organisation_key   text        GENERATED ALWAYS AS (
        CASE WHEN unit_id IS NOT NULL THEN 'unit:' || unit_id ELSE 'name:' || lower(btrim(organisation)) END) STORED,
    -- Where the expert works: a province or prefecture code (GB/T 2260).
    region_code        text        NOT NULL,
    title              text        NOT NULL DEFAULT '',
    domains            text[]      NOT NULL DEFAULT '{}',
    industry_chains    text[]      NOT NULL DEFAULT '{}',
    keywords           text[]      NOT NULL DEFAULT '{}',
    -- The most panels (seats and alternates) in one review round.
    load_cap           integer     NOT NULL DEFAULT 10,
    available          boolean     NOT NULL DEFAULT true,
    retired_at         timestamptz,
    revision           integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT experts_organisation_length CHECK (char_length(btrim(organisation)) BETWEEN 2 AND 200),
    CONSTRAINT experts_region_format CHECK (region_code ~ '^[1-8][0-9]{3}00$'),
    CONSTRAINT experts_title_length CHECK (char_length(title) <= 100),
    CONSTRAINT experts_domains CHECK (cardinality(domains) <= 20 AND array_is_distinct(domains)),
    CONSTRAINT experts_industry_chains CHECK (cardinality(industry_chains) <= 20 AND array_is_distinct(industry_chains)),
    CONSTRAINT experts_keywords CHECK (cardinality(keywords) <= 50 AND array_is_distinct(keywords)),
    CONSTRAINT experts_load_cap_range CHECK (load_cap BETWEEN 1 AND 200),
    CONSTRAINT experts_tags_length CHECK (
        text_items_fit(domains, 50) AND text_items_fit(industry_chains, 50) AND text_items_fit(keywords, 50)),
    -- A retired expert is never drawn: retiring clears availability, and availability returns only after
    -- an explicit reinstatement (retired_at back to NULL).
    CONSTRAINT experts_retired_unavailable CHECK (retired_at IS NULL OR NOT available)
);

CREATE INDEX experts_pool ON experts (bureau_id) WHERE retired_at IS NULL;
CREATE INDEX experts_unit ON experts (unit_id) WHERE unit_id IS NOT NULL;

-- Ties an expert declares to units (a former employer, a joint project, a relative's company):
-- the expert never reviews a bid in which such a unit is a member.
CREATE TABLE expert_ties (
    expert_id    bigint      NOT NULL REFERENCES experts (user_id),
    unit_id      bigint      NOT NULL REFERENCES units (id),
    reason       text        NOT NULL,
    declared_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (expert_id, unit_id),
    CONSTRAINT expert_ties_reason_length CHECK (char_length(btrim(reason)) BETWEEN 2 AND 500)
);

CREATE INDEX expert_ties_unit ON expert_ties (unit_id);
