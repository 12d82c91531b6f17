-- The score of a demand and a result (DemandMatching): the same industry chain 0.35; each of the result's keywords
-- found in the demand's text 0.1, at most 0.3; the texts' bigram overlap (shared pairs over the geometric mean of
-- both counts) times 0.35. Rounded to four places, so equal data always give equal scores.
CREATE OR REPLACE FUNCTION bigrams(grams text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(g ORDER BY g), '{}') FROM unnest(grams) AS g WHERE char_length(g) = 2
$$;

CREATE OR REPLACE FUNCTION pool_match_keywords(keywords text[], demand_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM unnest(keywords) AS k
    WHERE k <> '' AND strpos(lower(demand_text), lower(k)) > 0
$$;

CREATE OR REPLACE FUNCTION pool_match_shared(a text[], b text[]) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT count(*)::integer FROM (SELECT unnest(bigrams(a)) INTERSECT SELECT unnest(bigrams(b))) AS shared
$$;

CREATE OR REPLACE FUNCTION pool_match_score(same_chain boolean, keyword_hits integer, shared integer, a_count integer,
                                            b_count integer) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT round((CASE WHEN same_chain THEN 0.35 ELSE 0 END
                  + least(0.3, 0.1 * keyword_hits)
                  + CASE WHEN a_count = 0 OR b_count = 0 THEN 0
                         ELSE 0.35 * shared / sqrt(a_count::numeric * b_count) END)::numeric, 4)
$$;
