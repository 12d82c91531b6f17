-- former checksum: aec122a32075e000da11438872e4ebec728a68fcf2d11b38335148bcdfd0fa39
-- Programmes (年度批次), technology demands (技术需求), challenges (榜单任务)
-- with their amendments, and the search over Chinese text.

-- A programme's publisher is a provincial bureau.
CREATE TABLE programmes (
    id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                      text        NOT NULL,
    year                      integer     NOT NULL,
    bureau_id                 bigint      NOT NULL REFERENCES bureaus (id),
    -- Funding policy: the requested funding is at most min(ratio × total investment, absolute cap).
    -- The ratio is in basis points (1000 = 10%), money in fen (分).
    funding_ratio_cap_bp      integer     NOT NULL DEFAULT 1000,
    funding_absolute_cap_fen  bigint      NOT NULL DEFAULT 500000000,
    -- upfront: paid when the project starts (Gansu); post_subsidy: paid after the fact (Qinghai 后补助).
    funding_mode              text        NOT NULL DEFAULT 'upfront',
    min_partners              integer     NOT NULL DEFAULT 1,
    max_consortium_size       integer,
    one_live_bid_per_unit     boolean     NOT NULL DEFAULT true,
    winners_per_challenge     integer     NOT NULL DEFAULT 1,
    application_opens_at      timestamptz NOT NULL,
    application_closes_at     timestamptz NOT NULL,
    publicity_working_days    integer     NOT NULL DEFAULT 5,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT programmes_name_length CHECK (char_length(btrim(name)) BETWEEN 2 AND 200),
    CONSTRAINT programmes_year_range CHECK (year BETWEEN 2000 AND 2100),
    CONSTRAINT programmes_ratio_range CHECK (funding_ratio_cap_bp BETWEEN 1 AND 10000),
    CONSTRAINT programmes_absolute_cap_positive CHECK (funding_absolute_cap_fen > 0),
    CONSTRAINT programmes_funding_mode CHECK (funding_mode IN ('upfront', 'post_subsidy')),
    CONSTRAINT programmes_min_partners_range CHECK (min_partners BETWEEN 0 AND 50),
    CONSTRAINT programmes_max_consortium_size CHECK (max_consortium_size IS NULL OR max_consortium_size >= 1 + min_partners),
    CONSTRAINT programmes_winners_positive CHECK (winners_per_challenge BETWEEN 1 AND 20),
    CONSTRAINT programmes_window CHECK (application_closes_at > application_opens_at),
    CONSTRAINT programmes_publicity_range CHECK (publicity_working_days BETWEEN 1 AND 30),
    CONSTRAINT programmes_name_year_key UNIQUE (bureau_id, year, name)
);

-- Technology demands, filed by an enterprise (or by a bureau on its behalf): the annex table of seed 000.
CREATE TABLE demands (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id        bigint      REFERENCES programmes (id),
    unit_id             bigint      NOT NULL REFERENCES units (id),
    filed_by_bureau_id  bigint      REFERENCES bureaus (id),
    region_code         text        NOT NULL,
    industry_chain      text        NOT NULL,
    need                text        NOT NULL,
    support_conditions  text        NOT NULL DEFAULT '',
    contact_name        text        NOT NULL,
    contact_phone       text        NOT NULL,
    contact_email       text        NOT NULL,
    remarks             text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT demands_region_prefecture CHECK (region_code_is_prefecture(region_code)),
    CONSTRAINT demands_industry_chain_length CHECK (char_length(btrim(industry_chain)) BETWEEN 2 AND 50),
    CONSTRAINT demands_need_length CHECK (char_length(btrim(need)) BETWEEN 5 AND 5000),
    CONSTRAINT demands_support_length CHECK (char_length(support_conditions) <= 5000),
    CONSTRAINT demands_contact_name_length CHECK (char_length(btrim(contact_name)) BETWEEN 1 AND 100),
    CONSTRAINT demands_contact_phone_format CHECK (contact_phone ~ '^\+?[0-9][0-9 -]{5,19}$'),
    CONSTRAINT demands_contact_email_format CHECK (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
    CONSTRAINT demands_remarks_length CHECK (char_length(remarks) <= 2000)
);

CREATE INDEX demands_unit ON demands (unit_id);
CREATE INDEX demands_programme ON demands (programme_id) WHERE programme_id IS NOT NULL;

-- The distinct characters and character pairs of a text (lower case, punctuation as gaps):
-- Chinese has no spaces between words, and most technical words are 2 to 4 characters,
-- so a keyword's grams all present is the index's test, and a substring match the recheck.
CREATE FUNCTION text_grams(content text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    WITH normalized AS (
        SELECT regexp_replace(lower(content), '[^[:alnum:]]+', ' ', 'g') AS n
    )
    SELECT coalesce(array_agg(DISTINCT gram ORDER BY gram), '{}')
    FROM (
        SELECT substr(n, i, 1) AS gram FROM normalized, generate_series(1, char_length(n)) AS i
        WHERE substr(n, i, 1) <> ' '
        UNION ALL
        SELECT substr(n, i, 2) FROM normalized, generate_series(1, char_length(n) - 1) AS i
        WHERE position(' ' IN substr(n, i, 2)) = 0
    ) AS grams
$$;

CREATE TYPE challenge_category AS ENUM ('core_basic', 'key_product', 'public_support', 'demonstration');
-- draft → published → closed; the bid and review stages add later states.
CREATE TYPE challenge_status AS ENUM ('draft', 'published', 'closed');

CREATE TABLE challenges (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    programme_id          bigint             NOT NULL REFERENCES programmes (id),
    title                 text               NOT NULL,
    task                  text               NOT NULL,
    content               text               NOT NULL,
    indicators            text[]             NOT NULL,
    category              challenge_category NOT NULL,
    domain                text               NOT NULL,
    industry_chain        text               NOT NULL,
    application_deadline  timestamptz        NOT NULL,
    completion_deadline   date               NOT NULL,
    funding_ceiling_fen   bigint             NOT NULL,
    winners               integer            NOT NULL DEFAULT 1,
    status                challenge_status   NOT NULL DEFAULT 'draft',
    version               integer            NOT NULL DEFAULT 1,
    published_at          timestamptz,
    created_at            timestamptz        NOT NULL DEFAULT now(),
    updated_at            timestamptz        NOT NULL DEFAULT now(),
    grams                 text[] GENERATED ALWAYS AS (text_grams(title || ' ' || task || ' ' || content)) STORED,
    CONSTRAINT challenges_title_length CHECK (char_length(btrim(title)) BETWEEN 4 AND 200),
    CONSTRAINT challenges_task_length CHECK (char_length(btrim(task)) BETWEEN 4 AND 2000),
    CONSTRAINT challenges_content_length CHECK (char_length(btrim(content)) BETWEEN 4 AND 20000),
    CONSTRAINT challenges_indicators_present CHECK (cardinality(indicators) BETWEEN 1 AND 50),
    CONSTRAINT challenges_domain_length CHECK (char_length(btrim(domain)) BETWEEN 2 AND 50),
    CONSTRAINT challenges_industry_chain_length CHECK (char_length(btrim(industry_chain)) BETWEEN 2 AND 50),
    CONSTRAINT challenges_completion_after_deadline CHECK (completion_deadline > application_deadline::date),
    CONSTRAINT challenges_funding_positive CHECK (funding_ceiling_fen > 0),
    CONSTRAINT challenges_winners_range CHECK (winners BETWEEN 1 AND 20),
    CONSTRAINT challenges_version_positive CHECK (version >= 1),
    CONSTRAINT challenges_published_at CHECK ((status = 'draft') = (published_at IS NULL))
);

-- The public board: published and later challenges by deadline, and keyword search.
CREATE INDEX challenges_board ON challenges (programme_id, status, application_deadline, id) WHERE status <> 'draft';
-- fastupdate off: no pending list, so a keyword search can use the index right after inserts.
CREATE INDEX challenges_grams ON challenges USING gin (grams) WITH (fastupdate = off) WHERE status <> 'draft';

-- The demands a challenge was condensed from.
CREATE TABLE challenge_demands (
    challenge_id bigint NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    demand_id    bigint NOT NULL REFERENCES demands (id),
    PRIMARY KEY (challenge_id, demand_id)
);

-- After publishing, every change is an amendment with a reason, visible to everyone.
CREATE TABLE challenge_amendments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    challenge_id bigint      NOT NULL REFERENCES challenges (id),
    version      integer     NOT NULL,
    reason       text        NOT NULL,
    changes      jsonb       NOT NULL,
    actor_id     bigint      REFERENCES users (id),
    amended_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT challenge_amendments_version_key UNIQUE (challenge_id, version),
    CONSTRAINT challenge_amendments_reason_length CHECK (char_length(btrim(reason)) BETWEEN 4 AND 2000),
    CONSTRAINT challenge_amendments_changes_object CHECK (jsonb_typeof(changes) = 'object')
);
