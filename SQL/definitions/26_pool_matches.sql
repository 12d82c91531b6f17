-- Stored matches between the demand pool and the offers that could serve a demand: the result pool and the talent
-- pool (migration 0035).
--
-- A record's shortlist: it looks up the other side by its rarest character pairs (its probes: taken rarest first
-- while the records known to have them, pool_pair_counts as of the last full run, add up to at most
-- pool_probe_budget()), and keeps the pool_shortlist_size() records that share the most probes (ties by id); a
-- demand takes one shortlist of results and one of talents. Only those are scored, by pool_match_score over every
-- pair the texts share, the same industry chain and the offer's keywords found in the demand; texts that share a
-- pair and score at least 0.05 are a suggestion. A talent who is unavailable is offered to no one.
--
-- pool_matches keeps every pair in its demand's best twenty of the offer's kind or in its offer's best twenty. A
-- change requests its record's rematch (pool_rematch_requests, in the change's transaction), and one `pools.rematch`
-- job at a time carries the requests out. A rematch of a record scores its shortlists and the pairs stored for it,
-- keeps its best twenty and those in the other side's best twenty, and requests a rematch of each record on the
-- other side that lost a place in its best twenty (its twenty-first is not stored). A record whose text did not
-- change scores its stored pairs as before, so such rematches request nothing further. The full run takes every
-- shortlist at once. Rematches and full runs take one advisory lock, so they never interleave.

-- The records a record's probes may reach together.
CREATE OR REPLACE FUNCTION pool_probe_budget() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 300 $$;

-- The candidates of one kind a record scores (besides its stored pairs).
CREATE OR REPLACE FUNCTION pool_shortlist_size() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 40 $$;

-- The offers: results, and talents who are available. `chains` holds a result's industry chain, a talent's chains.
CREATE OR REPLACE VIEW pool_offers AS
SELECT 'result'::text AS kind, id, unit_id, ARRAY[industry_chain] AS chains, keywords, keyword_pairs, pairs FROM results
UNION ALL
SELECT 'talent'::text, id, unit_id, industry_chains, keywords, keyword_pairs, pairs FROM talents
WHERE availability <> 'unavailable';

-- A text's probes: its rarest pairs, while the records that have them add up to at most the budget.
CREATE OR REPLACE FUNCTION pool_probes(pairs integer[]) RETURNS integer[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(pair ORDER BY pair), '{}') FROM (
        SELECT p.pair, sum(coalesce(c.records, 1)) OVER (ORDER BY coalesce(c.records, 1), p.pair) AS reach
        FROM unnest(pairs) AS p (pair) LEFT JOIN pool_pair_counts c ON c.pair = p.pair
    ) AS ranked
    WHERE reach <= pool_probe_budget()
$$;

-- The keywords of an offer found in a demand's text; the pairs rule out most demands without a search.
CREATE OR REPLACE FUNCTION pool_keyword_hits(keywords text[], keyword_pairs integer[], demand_pairs integer[],
                                             demand_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN keywords = '{}' OR (keyword_pairs IS NOT NULL AND NOT (keyword_pairs && demand_pairs)) THEN '{}'
                ELSE pool_match_keywords(keywords, demand_text) END
$$;

-- The key of the advisory lock rematches and full runs take.
CREATE OR REPLACE FUNCTION pool_matches_lock_key() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7236410529361042026::bigint $$;

-- Enqueues the job that carries out the rematches requested, once while one waits.
CREATE OR REPLACE FUNCTION pool_enqueue_rematches(at timestamptz) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO jobs (queue, kind, args, state, priority, max_attempts, run_at, unique_key, unique_states)
    VALUES ('default', 'pools.rematch', '{}', CASE WHEN at > now() THEN 'scheduled' ELSE 'available' END::job_state, 7, 10,
            greatest(at, now()), 'requests', '{available,scheduled}')
    ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state = ANY (unique_states) DO NOTHING;
    SELECT pg_notify('jiebang_jobs', 'default');
$$;

-- Requests the rematch of a record (`demand`, `result` or `talent`).
CREATE OR REPLACE FUNCTION pool_request_rematch(record text, record_id bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO pool_rematch_requests (record, record_id) VALUES (record, record_id) ON CONFLICT DO NOTHING;
    SELECT pool_enqueue_rematches(now());
$$;

-- Demand `demand`'s shortlist of offers of `kind` (none unless it is open).
CREATE OR REPLACE FUNCTION pool_demand_shortlist(demand bigint, kind text) RETURNS bigint[]
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
    IF kind = 'result' THEN
        RETURN ARRAY(SELECT r.id FROM results r WHERE r.pairs && probes AND r.unit_id <> d.unit_id
                     ORDER BY icount(r.pairs & probes) DESC, r.id LIMIT pool_shortlist_size());
    END IF;
    RETURN ARRAY(SELECT t.id FROM talents t
                 WHERE t.pairs && probes AND t.availability <> 'unavailable' AND t.unit_id <> d.unit_id
                 ORDER BY icount(t.pairs & probes) DESC, t.id LIMIT pool_shortlist_size());
END
$$;

-- Offer `offer`'s (of `kind`) shortlist of open demands.
CREATE OR REPLACE FUNCTION pool_offer_shortlist(kind text, offer bigint) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
    o record;
    probes integer[];
BEGIN
    SELECT unit_id, pairs INTO o FROM pool_offers WHERE pool_offers.kind = pool_offer_shortlist.kind AND id = offer;
    IF NOT FOUND THEN
        RETURN '{}';
    END IF;
    probes := pool_probes(o.pairs);
    RETURN ARRAY(SELECT d.id FROM demands d WHERE d.status = 'open' AND d.pairs && probes AND d.unit_id <> o.unit_id
                 ORDER BY icount(d.pairs & probes) DESC, d.id LIMIT pool_shortlist_size());
END
$$;

-- Scores pairs (demand_ids[i], offers kinds[i] and offer_ids[i]): an open demand and another unit's offer whose
-- texts share a character pair, scoring at least 0.05.
CREATE OR REPLACE FUNCTION pool_score(demand_ids bigint[], kinds text[], offer_ids bigint[])
RETURNS TABLE (demand_id bigint, offer_kind text, offer_id bigint, score numeric, same_chain boolean, keywords text[],
               shared integer)
LANGUAGE sql STABLE AS $$
    SELECT * FROM (
        SELECT d.id, o.kind, o.id,
               pool_match_score(d.industry_chain = ANY (o.chains), cardinality(k.hits), k.shared, cardinality(d.pairs),
                                cardinality(o.pairs)) AS score,
               d.industry_chain = ANY (o.chains), k.hits, k.shared
        FROM unnest(demand_ids, kinds, offer_ids) AS c (demand_id, kind, offer_id)
        JOIN demands d ON d.id = c.demand_id
        JOIN pool_offers o ON o.kind = c.kind AND o.id = c.offer_id
        CROSS JOIN LATERAL (SELECT pool_keyword_hits(o.keywords, o.keyword_pairs, d.pairs,
                                                     d.industry_chain || ' ' || d.need) AS hits,
                                   icount(d.pairs & o.pairs) AS shared) AS k
        WHERE d.status = 'open' AND d.unit_id <> o.unit_id AND k.shared > 0
    ) AS scored
    WHERE scored.score >= 0.05
$$;

-- Rematches a demand's pairs with offers of one kind (pool_rematch's part for a demand).
CREATE OR REPLACE FUNCTION pool_rematch_demand(record_id bigint, kind text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    others bigint[];
    lost bigint[];
    lost_scores numeric[];
BEGIN
    -- The offers whose best twenty hold this demand: each may need its twenty-first.
    SELECT coalesce(array_agg(m.offer_id ORDER BY m.offer_id), '{}'), coalesce(array_agg(m.score ORDER BY m.offer_id), '{}')
    INTO lost, lost_scores
    FROM pool_matches m
    WHERE m.demand_id = record_id AND m.offer_kind = kind
      AND (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                 WHERE o.offer_kind = kind AND o.offer_id = m.offer_id
                                   AND (o.score > m.score OR (o.score = m.score AND o.demand_id < m.demand_id))
                                 LIMIT 20) AS better) < 20;
    others := ARRAY(SELECT DISTINCT o FROM unnest(pool_demand_shortlist(record_id, kind)
                                                  || ARRAY(SELECT m.offer_id FROM pool_matches m
                                                           WHERE m.demand_id = record_id AND m.offer_kind = kind)) AS o
                    ORDER BY o);
    DELETE FROM pool_matches m WHERE m.demand_id = record_id AND m.offer_kind = kind;
    INSERT INTO pool_matches (demand_id, offer_kind, offer_id, score, same_chain, keywords, shared)
    SELECT c.demand_id, c.offer_kind, c.offer_id, c.score, c.same_chain, c.keywords, c.shared
    FROM (SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.offer_id) AS place
          FROM pool_score(array_fill(record_id, ARRAY[cardinality(others)]), array_fill(kind, ARRAY[cardinality(others)]),
                          others) AS c) AS c
    WHERE c.place <= 20
       OR (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                 WHERE o.offer_kind = kind AND o.offer_id = c.offer_id
                                   AND (o.score > c.score OR (o.score = c.score AND o.demand_id < record_id))
                                 LIMIT 20) AS better) < 20;
    PERFORM pool_request_rematch(kind, l.id)
    FROM unnest(lost, lost_scores) AS l (id, score)
    WHERE NOT EXISTS (SELECT 1 FROM pool_matches m
                      WHERE m.demand_id = record_id AND m.offer_kind = kind AND m.offer_id = l.id AND m.score >= l.score);
END
$$;

-- Rematches an offer's pairs with demands (pool_rematch's part for a result or a talent).
CREATE OR REPLACE FUNCTION pool_rematch_offer(kind text, record_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    others bigint[];
    lost bigint[];
    lost_scores numeric[];
BEGIN
    -- The demands whose best twenty of this kind hold this offer.
    SELECT coalesce(array_agg(m.demand_id ORDER BY m.demand_id), '{}'), coalesce(array_agg(m.score ORDER BY m.demand_id), '{}')
    INTO lost, lost_scores
    FROM pool_matches m
    WHERE m.offer_kind = kind AND m.offer_id = record_id
      AND (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                 WHERE o.demand_id = m.demand_id AND o.offer_kind = kind
                                   AND (o.score > m.score OR (o.score = m.score AND o.offer_id < m.offer_id))
                                 LIMIT 20) AS better) < 20;
    others := ARRAY(SELECT DISTINCT o FROM unnest(pool_offer_shortlist(kind, record_id)
                                                  || ARRAY(SELECT m.demand_id FROM pool_matches m
                                                           WHERE m.offer_kind = kind AND m.offer_id = record_id)) AS o
                    ORDER BY o);
    DELETE FROM pool_matches m WHERE m.offer_kind = kind AND m.offer_id = record_id;
    INSERT INTO pool_matches (demand_id, offer_kind, offer_id, score, same_chain, keywords, shared)
    SELECT c.demand_id, c.offer_kind, c.offer_id, c.score, c.same_chain, c.keywords, c.shared
    FROM (SELECT c.*, row_number() OVER (ORDER BY c.score DESC, c.demand_id) AS place
          FROM pool_score(others, array_fill(kind, ARRAY[cardinality(others)]),
                          array_fill(record_id, ARRAY[cardinality(others)])) AS c) AS c
    WHERE c.place <= 20
       OR (SELECT count(*) FROM (SELECT 1 FROM pool_matches o
                                 WHERE o.demand_id = c.demand_id AND o.offer_kind = kind
                                   AND (o.score > c.score OR (o.score = c.score AND o.offer_id < record_id))
                                 LIMIT 20) AS better) < 20;
    PERFORM pool_request_rematch('demand', l.id)
    FROM unnest(lost, lost_scores) AS l (id, score)
    WHERE NOT EXISTS (SELECT 1 FROM pool_matches m
                      WHERE m.offer_kind = kind AND m.offer_id = record_id AND m.demand_id = l.id AND m.score >= l.score);
END
$$;

-- Rematches one record now, whatever was requested. Waits at most five seconds for a full run or the rematch job;
-- if one is still running the record's rematch is requested instead and this returns false.
CREATE OR REPLACE FUNCTION pool_rematch(record text, record_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF record IS NULL OR record NOT IN ('demand', 'result', 'talent') THEN
        RAISE EXCEPTION 'there is no pool of %', record USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        SET LOCAL lock_timeout = '5s';
        PERFORM pg_advisory_xact_lock(pool_matches_lock_key());
    EXCEPTION WHEN lock_not_available THEN
        PERFORM pool_request_rematch(record, record_id);
        RETURN false;
    END;
    SET LOCAL lock_timeout = 0;
    PERFORM pool_rematch_record(record, record_id);
    RETURN true;
END
$$;

-- Rematches one record; the caller holds the lock.
CREATE OR REPLACE FUNCTION pool_rematch_record(record text, record_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF record = 'demand' THEN
        PERFORM pool_rematch_demand(record_id, 'result');
        PERFORM pool_rematch_demand(record_id, 'talent');
    ELSE
        PERFORM pool_rematch_offer(record, record_id);
    END IF;
END
$$;

-- Carries out up to `batch` of the rematches requested, oldest first, in the caller's transaction (the
-- `pools.rematch` job's), and returns how many. If a full run holds the pools it asks again two seconds later and
-- returns 0 without waiting; if requests remain, the job is enqueued again. The requests taken are deleted in the
-- same transaction, so a job killed halfway leaves them all for its retry.
CREATE OR REPLACE FUNCTION pool_rematch_requested(batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    request record;
    done integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(pool_matches_lock_key()) THEN
        PERFORM pool_enqueue_rematches(now() + interval '2 seconds');
        RETURN 0;
    END IF;
    FOR request IN
        DELETE FROM pool_rematch_requests r
        WHERE (r.record, r.record_id) IN (SELECT q.record, q.record_id FROM pool_rematch_requests q
                                          ORDER BY q.requested_at, q.record, q.record_id LIMIT batch
                                          FOR UPDATE SKIP LOCKED)
        RETURNING r.record, r.record_id
    LOOP
        PERFORM pool_rematch_record(request.record, request.record_id);
        done := done + 1;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pool_rematch_requests) THEN
        PERFORM pool_enqueue_rematches(now());
    END IF;
    RETURN done;
END
$$;

-- The full run: counts the character pairs anew, takes every record's shortlists, scores them and keeps each
-- record's best twenty, replacing pool_matches in one transaction (readers see the old lists until it commits).
-- Returns the run's id.
CREATE OR REPLACE FUNCTION pool_rematch_all() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
    budget integer := pool_probe_budget();
    shortlist integer := pool_shortlist_size();
    demand_ids bigint[];
    kinds text[];
    offer_ids bigint[];
    match_count bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(pool_matches_lock_key());
    INSERT INTO pool_match_runs DEFAULT VALUES RETURNING id INTO run;
    DELETE FROM pool_pair_counts;
    INSERT INTO pool_pair_counts (pair, records)
    SELECT p, count(*) FROM (SELECT unnest(pairs) AS p FROM demands WHERE status = 'open'
                             UNION ALL SELECT unnest(pairs) FROM pool_offers) AS all_pairs
    GROUP BY p;
    UPDATE pool_match_runs
    SET demands = (SELECT count(*) FROM demands WHERE status = 'open'), results = (SELECT count(*) FROM results),
        talents = (SELECT count(*) FROM talents WHERE availability <> 'unavailable')
    WHERE id = run;

    -- The pairs a probe may be: those at most `budget` records have.
    CREATE TEMP TABLE pool_run_demand_pairs ON COMMIT DROP AS
    SELECT d.id, d.unit_id, p.pair, c.records
    FROM demands d CROSS JOIN LATERAL unnest(d.pairs) AS p (pair) JOIN pool_pair_counts c ON c.pair = p.pair
    WHERE d.status = 'open' AND c.records <= budget;
    CREATE TEMP TABLE pool_run_offer_pairs ON COMMIT DROP AS
    SELECT o.kind, o.id, o.unit_id, p.pair, c.records
    FROM pool_offers o CROSS JOIN LATERAL unnest(o.pairs) AS p (pair) JOIN pool_pair_counts c ON c.pair = p.pair
    WHERE c.records <= budget;
    ANALYZE pool_run_demand_pairs;
    ANALYZE pool_run_offer_pairs;

    -- Every shortlist, as pool_demand_shortlist and pool_offer_shortlist take them one at a time.
    CREATE TEMP TABLE pool_run_candidates ON COMMIT DROP AS
    SELECT demand_id, kind, offer_id FROM (
        SELECT probe.id AS demand_id, other.kind, other.id AS offer_id,
               row_number() OVER (PARTITION BY probe.id, other.kind ORDER BY count(*) DESC, other.id) AS place
        FROM (SELECT id, unit_id, pair FROM (
                  SELECT *, sum(records) OVER (PARTITION BY id ORDER BY records, pair) AS reach FROM pool_run_demand_pairs
              ) AS ranked WHERE reach <= budget) AS probe
        JOIN pool_run_offer_pairs other ON other.pair = probe.pair AND other.unit_id <> probe.unit_id
        GROUP BY probe.id, other.kind, other.id
    ) AS demand_side WHERE place <= shortlist
    UNION
    SELECT demand_id, kind, offer_id FROM (
        SELECT other.id AS demand_id, probe.kind, probe.id AS offer_id,
               row_number() OVER (PARTITION BY probe.kind, probe.id ORDER BY count(*) DESC, other.id) AS place
        FROM (SELECT kind, id, unit_id, pair FROM (
                  SELECT *, sum(records) OVER (PARTITION BY kind, id ORDER BY records, pair) AS reach FROM pool_run_offer_pairs
              ) AS ranked WHERE reach <= budget) AS probe
        JOIN pool_run_demand_pairs other ON other.pair = probe.pair AND other.unit_id <> probe.unit_id
        GROUP BY probe.kind, probe.id, other.id
    ) AS offer_side WHERE place <= shortlist;

    SELECT array_agg(demand_id ORDER BY demand_id, kind, offer_id), array_agg(kind ORDER BY demand_id, kind, offer_id),
           array_agg(offer_id ORDER BY demand_id, kind, offer_id)
    INTO demand_ids, kinds, offer_ids FROM pool_run_candidates;
    UPDATE pool_match_runs SET candidates = coalesce(cardinality(demand_ids), 0) WHERE id = run;

    DELETE FROM pool_matches;
    INSERT INTO pool_matches (demand_id, offer_kind, offer_id, score, same_chain, keywords, shared)
    SELECT demand_id, offer_kind, offer_id, score, same_chain, keywords, shared FROM (
        SELECT s.*,
               row_number() OVER (PARTITION BY s.demand_id, s.offer_kind ORDER BY s.score DESC, s.offer_id) AS demand_place,
               row_number() OVER (PARTITION BY s.offer_kind, s.offer_id ORDER BY s.score DESC, s.demand_id) AS offer_place
        FROM pool_score(coalesce(demand_ids, '{}'), coalesce(kinds, '{}'), coalesce(offer_ids, '{}')) AS s
    ) AS ranked
    WHERE demand_place <= 20 OR offer_place <= 20;
    GET DIAGNOSTICS match_count = ROW_COUNT;
    UPDATE pool_match_runs SET finished_at = clock_timestamp(), matches = match_count WHERE id = run;
    RETURN run;
END
$$;

-- A change to what a record is matched by requests its rematch, in the change's transaction.
CREATE OR REPLACE FUNCTION pool_records_enqueue_rematch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pool_request_rematch(TG_ARGV[0], NEW.id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER demands_enqueue_rematch AFTER INSERT ON demands
    FOR EACH ROW EXECUTE FUNCTION pool_records_enqueue_rematch('demand');
CREATE OR REPLACE TRIGGER demands_enqueue_rematch_on_change AFTER UPDATE ON demands
    FOR EACH ROW
    WHEN (OLD.need IS DISTINCT FROM NEW.need OR OLD.industry_chain IS DISTINCT FROM NEW.industry_chain
          OR OLD.status IS DISTINCT FROM NEW.status OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION pool_records_enqueue_rematch('demand');

CREATE OR REPLACE TRIGGER results_enqueue_rematch AFTER INSERT ON results
    FOR EACH ROW EXECUTE FUNCTION pool_records_enqueue_rematch('result');
CREATE OR REPLACE TRIGGER results_enqueue_rematch_on_change AFTER UPDATE ON results
    FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary
          OR OLD.keywords IS DISTINCT FROM NEW.keywords OR OLD.industry_chain IS DISTINCT FROM NEW.industry_chain
          OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION pool_records_enqueue_rematch('result');

CREATE OR REPLACE TRIGGER talents_enqueue_rematch AFTER INSERT ON talents
    FOR EACH ROW EXECUTE FUNCTION pool_records_enqueue_rematch('talent');
CREATE OR REPLACE TRIGGER talents_enqueue_rematch_on_change AFTER UPDATE ON talents
    FOR EACH ROW
    WHEN (OLD.summary IS DISTINCT FROM NEW.summary OR OLD.fields IS DISTINCT FROM NEW.fields
          OR OLD.keywords IS DISTINCT FROM NEW.keywords OR OLD.industry_chains IS DISTINCT FROM NEW.industry_chains
          OR OLD.availability IS DISTINCT FROM NEW.availability OR OLD.unit_id IS DISTINCT FROM NEW.unit_id)
    EXECUTE FUNCTION pool_records_enqueue_rematch('talent');

-- An offer deleted takes its suggestions with it (pool_matches cannot name two tables by a foreign key).
CREATE OR REPLACE FUNCTION pool_offers_forget() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM pool_matches WHERE offer_kind = TG_ARGV[0] AND offer_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER results_forget_matches AFTER DELETE ON results
    FOR EACH ROW EXECUTE FUNCTION pool_offers_forget('result');
CREATE OR REPLACE TRIGGER talents_forget_matches AFTER DELETE ON talents
    FOR EACH ROW EXECUTE FUNCTION pool_offers_forget('talent');
