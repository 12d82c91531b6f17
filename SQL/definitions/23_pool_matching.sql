-- The score of a demand and a result (DemandMatching): the same industry chain 0.35; each of the result's keywords
-- found in the demand's text 0.1, at most 0.3; the texts' character pair overlap (shared pairs over the geometric
-- mean of both counts) times 0.35. Computed in float8 (numeric's arithmetic costs
-- microseconds a pair) and rounded to four places, so equal data always give equal scores. Which pairs are
-- scored, and when, is definitions/26_pool_matches.sql.
CREATE OR REPLACE FUNCTION pool_match_keywords(keywords text[], demand_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM unnest(keywords) AS k
    WHERE k <> '' AND strpos(lower(demand_text), lower(k)) > 0
$$;

CREATE OR REPLACE FUNCTION pool_match_score(same_chain boolean, keyword_hits integer, shared integer, a_count integer,
                                            b_count integer) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT round((CASE WHEN same_chain THEN 0.35::float8 ELSE 0 END
                  + least(0.3::float8, 0.1::float8 * keyword_hits)
                  + CASE WHEN a_count = 0 OR b_count = 0 THEN 0
                         ELSE 0.35::float8 * shared / sqrt(a_count::float8 * b_count) END)::numeric, 4)
$$;
