-- Stored matches (issue 26): the suggestions between the demand pool and what could serve a demand, the result
-- pool and the talent pool (the offers), are computed by the queue, not on read. A change to a demand, a result or a
-- talent requests its rematch in the same transaction, which a `pools.rematch` job carries out
-- (definitions/26_pool_matches.sql), and the nightly `pools.rematch_all` recomputes everything (after an upgrade,
-- `jiebang pools rematch` matches the records filed before at once).
--
-- A text is kept as its character pairs (the 2-character grams of the board's text_grams), each hashed to an
-- integer and sorted, so that intarray's C operators intersect two texts in microseconds and a GIN index finds the
-- records that share a pair. intarray is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS intarray;

-- The sorted, distinct hashes of a text's character pairs.
CREATE FUNCTION text_pair_hashes(content text) RETURNS integer[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT hashtext(g) ORDER BY hashtext(g)), '{}')
    FROM unnest(text_grams(content)) AS g WHERE char_length(g) = 2
$$;

-- The pairs of an offer's keywords, or null when one keyword has none (a single character): a demand whose text
-- has none of the pairs cannot contain a keyword, so the matching skips the substring search.
CREATE FUNCTION keyword_pair_hashes(words text[]) RETURNS integer[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN bool_and(cardinality(text_pair_hashes(w)) > 0) IS FALSE THEN NULL
                ELSE coalesce(array_agg(DISTINCT h ORDER BY h) FILTER (WHERE h IS NOT NULL), '{}') END
    FROM unnest(words) AS w LEFT JOIN LATERAL unnest(text_pair_hashes(w)) AS h ON true
$$;

-- 0033's grams served the matching on read, which this replaces.
ALTER TABLE demands DROP COLUMN grams;
ALTER TABLE results DROP COLUMN grams;
ALTER TABLE demands ADD COLUMN pairs integer[] GENERATED ALWAYS AS (text_pair_hashes(industry_chain || ' ' || need)) STORED;
ALTER TABLE results ADD COLUMN pairs integer[]
    GENERATED ALWAYS AS (text_pair_hashes(title || ' ' || summary || ' ' || text_items_joined(keywords))) STORED;
ALTER TABLE results ADD COLUMN keyword_pairs integer[] GENERATED ALWAYS AS (keyword_pair_hashes(keywords)) STORED;
ALTER TABLE talents ADD COLUMN pairs integer[] GENERATED ALWAYS AS (
    text_pair_hashes(text_items_joined(fields) || ' ' || text_items_joined(keywords) || ' ' || summary)) STORED;
ALTER TABLE talents ADD COLUMN keyword_pairs integer[] GENERATED ALWAYS AS (keyword_pair_hashes(keywords)) STORED;
CREATE INDEX demands_pairs ON demands USING gin (pairs gin__int_ops) WHERE status = 'open';
CREATE INDEX results_pairs ON results USING gin (pairs gin__int_ops);
CREATE INDEX talents_pairs ON talents USING gin (pairs gin__int_ops) WHERE availability <> 'unavailable';

-- A suggestion between a demand and an offer (a result or a talent), scored by pool_match_score. The score is the
-- pair's, so one row serves both lists. Kept: every pair in the demand's best twenty of its kind or in the offer's
-- best twenty (and possibly a few more); a list is read as its record's best twenty rows. The offer is a result or a
-- talent by offer_kind; its deletion deletes its rows (definitions/26_pool_matches.sql).
CREATE TABLE pool_matches (
    demand_id   bigint       NOT NULL REFERENCES demands (id) ON DELETE CASCADE,
    offer_kind  text         NOT NULL,
    offer_id    bigint       NOT NULL,
    score       numeric(5,4) NOT NULL,
    -- The demand's industry chain is the offer's (one of a talent's).
    same_chain  boolean      NOT NULL,
    -- The offer's keywords found in the demand's text.
    keywords    text[]       NOT NULL DEFAULT '{}',
    -- The character pairs both texts have.
    shared      integer      NOT NULL,
    matched_at  timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (demand_id, offer_kind, offer_id),
    CONSTRAINT pool_matches_offer_kind CHECK (offer_kind IN ('result', 'talent')),
    CONSTRAINT pool_matches_score_range CHECK (score BETWEEN 0.05 AND 1),
    CONSTRAINT pool_matches_shared_range CHECK (shared > 0)
);

CREATE INDEX pool_matches_demand_rank ON pool_matches (demand_id, offer_kind, score DESC, offer_id);
CREATE INDEX pool_matches_offer_rank ON pool_matches (offer_kind, offer_id, score DESC, demand_id);

-- How many open demands and offers have each character pair, as of the last full run: a record looks its
-- candidates up by its rarest pairs (definitions/26_pool_matches.sql). A pair not counted yet counts as rare.
CREATE TABLE pool_pair_counts (
    pair     integer PRIMARY KEY,
    records  integer NOT NULL
);

-- The records waiting for their rematch: one row per record however often it changed, taken in the order they
-- came by the one `pools.rematch` job that drains them (definitions/26_pool_matches.sql).
CREATE TABLE pool_rematch_requests (
    record        text        NOT NULL,
    record_id     bigint      NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (record, record_id),
    CONSTRAINT pool_rematch_requests_record CHECK (record IN ('demand', 'result', 'talent'))
);

CREATE INDEX pool_rematch_requests_order ON pool_rematch_requests (requested_at, record, record_id);

-- The full runs: when, how big, how long.
CREATE TABLE pool_match_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    demands     integer,
    results     integer,
    talents     integer,
    candidates  bigint,
    matches     bigint,
    CONSTRAINT pool_match_runs_finished CHECK (finished_at IS NULL OR finished_at >= started_at)
);
