-- Stored matches between the demand pool and the result pool (migration 0036).
--
-- A record's shortlist: it looks up the other pool by its rarest character pairs (its probes: taken rarest first
-- while the records known to have them, pool_pair_counts as of the last full run, add up to at most
-- pool_probe_budget()), and keeps the pool_shortlist_size() records that share the most probes (ties by id). Only
-- those are scored, by pool_match_score over every pair the texts share, the same industry chain and the result's
-- keywords found in the demand; texts that share a pair and score at least 0.05 are a suggestion.
--
-- pool_matches keeps every pair in its demand's best twenty or in its result's. A rematch of a record scores its
-- shortlist and the pairs stored for it, keeps its best twenty and those in the other side's best twenty, and
-- enqueues a rematch of each record on the other side that lost a place in its best twenty (its twenty-first is
-- not stored). A record whose text did not change scores its stored pairs as before, so such rematches enqueue
-- nothing further. The full run takes both sides' shortlists at once. Rematches and full runs take one advisory
-- lock, so they never interleave.

-- The records a record's probes may reach together.
CREATE OR REPLACE FUNCTION pool_probe_budget() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 300 $$;

-- The candidates a record scores (besides its stored pairs).
CREATE OR REPLACE FUNCTION pool_shortlist_size() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 40 $$;

-- A text's probes: its rarest pairs, while the records that have them add up to at most the budget.
CREATE OR REPLACE FUNCTION pool_probes(pairs integer[]) RETURNS integer[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(pair ORDER BY pair), '{}') FROM (
        SELECT p.pair, coalesce(c.records, 1) AS records,
               sum(coalesce(c.records, 1)) OVER (ORDER BY coalesce(c.records, 1), p.pair) AS reach
        FROM unnest(pairs) AS p (pair) LEFT JOIN pool_pair_counts c ON c.pair = p.pair
    ) AS ranked
    WHERE reach <= pool_probe_budget()
$$;

-- The keywords of a result found in a demand's text; the pairs rule out most demands without a search.
CREATE OR REPLACE FUNCTION pool_keyword_hits(keywords text[], keyword_pairs integer[], demand_pairs integer[],
                                             demand_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN keywords = '{}' OR (keyword_pairs IS NOT NULL AND NOT (keyword_pairs && demand_pairs)) THEN '{}'
                ELSE pool_match_keywords(keywords, demand_text) END
$$;

-- The key of the advisory lock rematches and full runs take.
CREATE OR REPLACE FUNCTION pool_matches_lock_key() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7236410529361042026::bigint $$;

-- Enqueues a rematch of a record (`demand` or `result`), once while one waits.
CREATE OR REPLACE FUNCTION pool_enqueue_rematch(record text, record_id bigint, at timestamptz DEFAULT now())
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO jobs (queue, kind, args, state, priority, max_attempts, run_at, unique_key, unique_states)
    VALUES ('default', 'pools.rematch', jsonb_build_object('record', record, 'id', record_id),
            CASE WHEN at > now() THEN 'scheduled' ELSE 'available' END::job_state, 7, 10, greatest(at, now()),
            record || ':' || record_id, '{available,scheduled}')
    ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state = ANY (unique_states) DO NOTHING;
    SELECT pg_notify('jiebang_jobs', 'default');
$$;

-- Demand `demand`'s shortlist of results (none unless it is open).
CREATE OR REPLACE FUNCTION pool_demand_shortlist(demand bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d record;
    probes integer[];
BEGIN
    SELECT unit_id, pairs INTO d FROM demands WHERE id = demand AND status = 'open';
    IF NOT FOUND THEN
        RETURN '{}';
    END IF;
    probes := pool_probes(d.pairs);
    RETURN ARRAY(SELECT r.id FROM results r WHERE r.pairs && probes AND r.unit_id <> d.unit_id
                 ORDER BY icount(r.pairs & probes) DESC, r.id LIMIT pool_shortlist_size());
END
$$;

-- Result `result`'s shortlist of open demands.
CREATE OR REPLACE FUNCTION pool_result_shortlist(result bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
    probes integer[];
BEGIN
    SELECT unit_id, pairs INTO r FROM results WHERE id = result;
    IF NOT FOUND THEN
        RETURN '{}';
    END IF;
    probes := pool_probes(r.pairs);
    RETURN ARRAY(SELECT d.id FROM demands d WHERE d.status = 'open' AND d.pairs && probes AND d.unit_id <> r.unit_id
                 ORDER BY icount(d.pairs & probes) DESC, d.id LIMIT pool_shortlist_size());
END
$$;

-- Scores pairs (demand_ids[i], result_ids[i]): an open demand and another unit's result whose texts share a
-- character pair, scoring at least 0.05.
CREATE OR REPLACE FUNCTION pool_score(demand_ids bigint[], result_ids bigint[])
RETURNS TABLE (demand_id bigint, result_id bigint, score numeric, same_chain boolean, keywords text[], shared integer)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT d.id, r.id,
               pool_match_score(d.industry_chain = r.industry_chain, cardinality(k.hits), k.shared,
                                cardinality(d.pairs), cardinality(r.pairs)) AS score,
               d.industry_chain = r.industry_chain, k.hits, k.shared
        FROM unnest(demand_ids, result_ids) AS c (demand_id, result_id)
        JOIN demands d ON d.id = c.demand_id
        JOIN results r ON r.id = c.result_id
        CROSS JOIN LATERAL (SELECT pool_keyword_hits(r.keywords, r.keyword_pairs, d.pairs,
                                                     d.industry_chain || ' ' || d.need) AS hits,
                                   icount(d.pairs & r.pairs) AS shared) AS k
        WHERE d.status = 'open' AND d.unit_id <> r.unit_id AND k.shared > 0
    ) AS scored
    WHERE scored.score >= 0.05
$$;

-- Rematches one record. Waits at most five seconds for a full run or another rematch; if one is still running
-- the rematch is enqueued again for a minute later and this returns false.
CREATE OR REPLACE FUNCTION pool_rematch(record text, record_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    others bigint[];
    lost bigint[];
    lost_scores numeric[];
BEGIN
    IF record IS NULL OR record NOT IN ('demand', 'result') THEN
        RAISE EXCEPTION 'there is no pool of %', record USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        SET LOCAL lock_timeout = '5s';
        PERFORM pg_advisory_xact_lock(pool_matches_lock_key());
    EXCEPTION WHEN lock_not_available THEN
        PERFORM pool_enqueue_rematch(record, record_id, now() + interval '1 minute');
        RETURN false;
    END;
    SET LOCAL lock_timeout = 0;
    IF record = 'demand' THEN
        -- The results whose best twenty hold this demand: each may need its twenty-first.
        SELECT coalesce(array_agg(m.result_id ORDER BY m.result_id), '{}'),
               coalesce(array_agg(m.score ORDER BY m.result_id), '{}')
        INTO lost, lost_scores
        FROM pool_matches m
        WHERE m.demand_id = record_id
          AND (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                     WHERE o.result_id = m.result_id
                                       AND (o.score > m.score OR (o.score = m.score AND o.demand_id < m.demand_id))
                                     LIMIT 20) AS better) < 20;
        others := ARRAY(SELECT DISTINCT o FROM unnest(pool_demand_shortlist(record_id)
                                                      || ARRAY(SELECT result_id FROM pool_matches WHERE demand_id = record_id)) AS o
                        ORDER BY o);
        DELETE FROM pool_matches WHERE demand_id = record_id;
        INSERT INTO pool_matches (demand_id, result_id, score, same_chain, keywords, shared)
        SELECT c.demand_id, c.result_id, c.score, c.same_chain, c.keywords, c.shared
        FROM (SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.result_id) AS place
              FROM pool_score(array_fill(record_id, ARRAY[cardinality(others)]), others) AS c) AS c
        WHERE c.place <= 20
           OR (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                     WHERE o.result_id = c.result_id
                                       AND (o.score > c.score OR (o.score = c.score AND o.demand_id < record_id))
                                     LIMIT 20) AS better) < 20;
        PERFORM pool_enqueue_rematch('result', l.id)
        FROM unnest(lost, lost_scores) AS l (id, score)
        WHERE NOT EXISTS (SELECT 1 FROM pool_matches m
                          WHERE m.demand_id = record_id AND m.result_id = l.id AND m.score >= l.score);
    ELSE
        SELECT coalesce(array_agg(m.demand_id ORDER BY m.demand_id), '{}'),
               coalesce(array_agg(m.score ORDER BY m.demand_id), '{}')
        INTO lost, lost_scores
        FROM pool_matches m
        WHERE m.result_id = record_id
          AND (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                     WHERE o.demand_id = m.demand_id
                                       AND (o.score > m.score OR (o.score = m.score AND o.result_id < m.result_id))
                                     LIMIT 20) AS better) < 20;
        others := ARRAY(SELECT DISTINCT o FROM unnest(pool_result_shortlist(record_id)
                                                      || ARRAY(SELECT demand_id FROM pool_matches WHERE result_id = record_id)) AS o
                        ORDER BY o);
        DELETE FROM pool_matches WHERE result_id = record_id;
        INSERT INTO pool_matches (demand_id, result_id, score, same_chain, keywords, shared)
        SELECT c.demand_id, c.result_id, c.score, c.same_chain, c.keywords, c.shared
        FROM (SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.demand_id) AS place
              FROM pool_score(others, array_fill(record_id, ARRAY[cardinality(others)])) AS c) AS c
        WHERE c.place <= 20
           OR (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                     WHERE o.demand_id = c.demand_id
                                       AND (o.score > c.score OR (o.score = c.score AND o.result_id < record_id))
                                     LIMIT 20) AS better) < 20;
        PERFORM pool_enqueue_rematch('demand', l.id)
        FROM unnest(lost, lost_scores) AS l (id, score)
        WHERE NOT EXISTS (SELECT 1 FROM pool_matches m
                          WHERE m.result_id = record_id AND m.demand_id = l.id AND m.score >= l.score);
    END IF;
    RETURN true;
END
$$;

-- The full run: counts the character pairs anew, takes every record's shortlist, scores them and keeps each
-- record's best twenty, replacing pool_matches in one transaction (readers see the old lists until it commits).
-- Returns the run's id.
CREATE OR REPLACE FUNCTION pool_rematch_all() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
    budget integer := pool_probe_budget();
    shortlist integer := pool_shortlist_size();
    demand_ids bigint[];
    result_ids bigint[];
    match_count bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(pool_matches_lock_key());
    INSERT INTO pool_match_runs DEFAULT VALUES RETURNING id INTO run;
    DELETE FROM pool_pair_counts;
    INSERT INTO pool_pair_counts (pair, records)
    SELECT p, count(*) FROM (SELECT unnest(pairs) AS p FROM demands WHERE status = 'open'
                             UNION ALL SELECT unnest(pairs) FROM results) AS all_pairs
    GROUP BY p;
    UPDATE pool_match_runs
    SET demands = (SELECT count(*) FROM demands WHERE status = 'open'), results = (SELECT count(*) FROM results)
    WHERE id = run;

    -- The pairs a probe may be: those at most `budget` records have.
    CREATE TEMP TABLE pool_run_demand_pairs ON COMMIT DROP AS
    SELECT d.id, d.unit_id, p.pair, c.records
    FROM demands d CROSS JOIN LATERAL unnest(d.pairs) AS p (pair) JOIN pool_pair_counts c ON c.pair = p.pair
    WHERE d.status = 'open' AND c.records <= budget;
    CREATE TEMP TABLE pool_run_result_pairs ON COMMIT DROP AS
    SELECT r.id, r.unit_id, p.pair, c.records
    FROM results r CROSS JOIN LATERAL unnest(r.pairs) AS p (pair) JOIN pool_pair_counts c ON c.pair = p.pair
    WHERE c.records <= budget;
    ANALYZE pool_run_demand_pairs;
    ANALYZE pool_run_result_pairs;

    -- Each side's shortlists, as pool_demand_shortlist and pool_result_shortlist take them one at a time.
    CREATE TEMP TABLE pool_run_candidates ON COMMIT DROP AS
    SELECT demand_id, result_id FROM (
        SELECT probe.id AS demand_id, other.id AS result_id,
               row_number() OVER (PARTITION BY probe.id ORDER BY count(*) DESC, other.id) AS place
        FROM (SELECT id, unit_id, pair FROM (
                  SELECT *, sum(records) OVER (PARTITION BY id ORDER BY records, pair) AS reach FROM pool_run_demand_pairs
              ) AS ranked WHERE reach <= budget) AS probe
        JOIN pool_run_result_pairs other ON other.pair = probe.pair AND other.unit_id <> probe.unit_id
        GROUP BY probe.id, other.id
    ) AS demand_side WHERE place <= shortlist
    UNION
    SELECT demand_id, result_id FROM (
        SELECT other.id AS demand_id, probe.id AS result_id,
               row_number() OVER (PARTITION BY probe.id ORDER BY count(*) DESC, other.id) AS place
        FROM (SELECT id, unit_id, pair FROM (
                  SELECT *, sum(records) OVER (PARTITION BY id ORDER BY records, pair) AS reach FROM pool_run_result_pairs
              ) AS ranked WHERE reach <= budget) AS probe
        JOIN pool_run_demand_pairs other ON other.pair = probe.pair AND other.unit_id <> probe.unit_id
        GROUP BY probe.id, other.id
    ) AS result_side WHERE place <= shortlist;

    SELECT array_agg(demand_id ORDER BY demand_id, result_id), array_agg(result_id ORDER BY demand_id, result_id)
    INTO demand_ids, result_ids FROM pool_run_candidates;
    UPDATE pool_match_runs SET candidates = coalesce(cardinality(demand_ids), 0) WHERE id = run;

    DELETE FROM pool_matches;
    INSERT INTO pool_matches (demand_id, result_id, score, same_chain, keywords, shared)
    SELECT demand_id, result_id, score, same_chain, keywords, shared FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.demand_id ORDER BY s.score DESC, s.result_id) AS demand_place,
                    row_number() OVER (PARTITION BY s.result_id ORDER BY s.score DESC, s.demand_id) AS result_place
        FROM pool_score(coalesce(demand_ids, '{}'), coalesce(result_ids, '{}')) AS s
    ) AS ranked
    WHERE demand_place <= 20 OR result_place <= 20;
    GET DIAGNOSTICS match_count = ROW_COUNT;
    UPDATE pool_match_runs SET finished_at = clock_timestamp(), matches = match_count WHERE id = run;
    RETURN run;
END
$$;

-- A change to what a demand is matched by enqueues its rematch, in the change's transaction.
CREATE OR REPLACE FUNCTION demands_enqueue_rematch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pool_enqueue_rematch('demand', NEW.id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER demands_enqueue_rematch AFTER INSERT ON demands
    FOR EACH ROW EXECUTE FUNCTION demands_enqueue_rematch();
CREATE OR REPLACE TRIGGER demands_enqueue_rematch_on_change AFTER UPDATE ON demands
    FOR EACH ROW
    WHEN (OLD.need IS DISTINCT FROM NEW.need OR OLD.industry_chain IS DISTINCT FROM NEW.industry_chain
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION demands_enqueue_rematch();

CREATE OR REPLACE FUNCTION results_enqueue_rematch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pool_enqueue_rematch('result', NEW.id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER results_enqueue_rematch AFTER INSERT ON results
    FOR EACH ROW EXECUTE FUNCTION results_enqueue_rematch();
CREATE OR REPLACE TRIGGER results_enqueue_rematch_on_change AFTER UPDATE ON results
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
          OR OLD.keywords IS DISTINCT FROM NEW.keywords OR OLD.industry_chain IS DISTINCT FROM NEW.industry_chain
          OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION results_enqueue_rematch();
