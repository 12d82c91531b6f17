-- Fills the pools (psql -v size=N): N open demands of 2,000 enterprises and N results of 500 universities and
-- institutes, over 14 industry chains. Their texts are made of words from a vocabulary of 50,000 technical
-- "words" (2 to 4 characters from 3,000 Chinese characters), drawn with a heavy head as real text is: a few hundred
-- words are in most texts (技术, 研发 …), most words in a few; half of a text's words come from its chain's own. A demand is its chain and 12 to 24 words; a result a
-- title of 3 to 6 words, a summary of 20 to 40 and 3 keywords. Deterministic (setseed). The rows go in through
-- the tables' own triggers and constraints; the rematch jobs their triggers enqueue are deleted at the end (the
-- benchmark times the full run and single rematches itself).
\set ON_ERROR_STOP on

BEGIN;
SELECT setseed(0.26) \gset

CREATE FUNCTION pg_temp.credit_code(prefix text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT prefix || substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
        (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(prefix, i, 1)) - 1)
                          * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i])
               FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1, 1)
$$;

-- 3,000 characters spread over the CJK block; 50,000 words of 2 to 4 of them.
CREATE TEMPORARY TABLE bench_words AS
SELECT w AS n, string_agg(chr(19968 + (abs(hashint4(w * 4 + k)) % 3000) * 6), '' ORDER BY k) AS word
FROM generate_series(0, 49999) AS w, generate_series(1, 2 + w % 3) AS k
GROUP BY w;
CREATE UNIQUE INDEX ON bench_words (n);

-- A word of chain `chain`'s text: half the time from the whole vocabulary, with its heavy head (word k drawn
-- with probability about k^-0.6), half the time from the chain's own 3,500 words, with a head of their own.
CREATE FUNCTION pg_temp.word(chain integer) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT word FROM bench_words WHERE n = (
        SELECT CASE WHEN random() < 0.5 THEN floor(50000 * power(random(), 2.5))::int
                    ELSE chain + 14 * floor(3500 * power(random(), 2))::int END)
$$;

CREATE FUNCTION pg_temp.words(chain integer, count integer) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(pg_temp.word(chain), CASE WHEN random() < 0.2 THEN '，' ELSE '' END) FROM generate_series(1, count)
$$;

CREATE TEMPORARY TABLE bench_chains AS
SELECT row_number() OVER () - 1 AS n, chain FROM unnest(ARRAY[
    '新材料', '生物医药', '装备制造', '新能源', '有色冶金', '石油化工', '现代农业', '数据信息', '现代物流',
    '文化旅游', '节能环保', '航空航天', '电子信息', '精细化工']) AS chain;

INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
SELECT 'enterprise', '匹配压测企业' || n, pg_temp.credit_code('91620100PM' || lpad(n::text, 7, '0')), '620100',
       '{private}', '王工', '0931-8000000', 'need@example.cn', 'verified', now()
FROM generate_series(1, 2000) AS n;
INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
SELECT (CASE WHEN n % 4 = 0 THEN 'institute' ELSE 'university' END)::unit_kind, '匹配压测高校' || n,
       pg_temp.credit_code('12620100PU' || lpad(n::text, 7, '0')), '620100', '{}', '李老师', '0931-8000001',
       'result@example.cn', 'verified', now()
FROM generate_series(1, 500) AS n;
CREATE TEMPORARY TABLE bench_units AS
SELECT kind = 'enterprise' AS enterprise, row_number() OVER (PARTITION BY kind = 'enterprise' ORDER BY id) - 1 AS n, id
FROM units WHERE name LIKE '匹配压测%';

INSERT INTO demands (unit_id, region_code, industry_chain, need, contact_name, contact_phone, contact_email)
SELECT u.id, '620100', c.chain, pg_temp.words(c.n::int, 12 + (random() * 12)::int), '王工', '0931-8000000', 'need@example.cn'
FROM generate_series(0, :size - 1) AS i
JOIN bench_units u ON u.enterprise AND u.n = i % 2000
JOIN bench_chains c ON c.n = (i * 7) % 14;

INSERT INTO results (unit_id, region_code, title, summary, domain, industry_chain, keywords, maturity, ip_status,
                     contact_name, contact_phone, contact_email)
SELECT u.id, '620100', left(pg_temp.words(c.n::int, 3 + (random() * 3)::int), 200),
       pg_temp.words(c.n::int, 20 + (random() * 20)::int) || '，' || array_to_string(k.words, '、'),
       '新一代技术', c.chain, k.words, 1 + i % 9, 'patent_granted', '李老师', '0931-8000001', 'result@example.cn'
FROM generate_series(0, :size - 1) AS i
JOIN bench_units u ON NOT u.enterprise AND u.n = i % 500
JOIN bench_chains c ON c.n = (i * 11) % 14
CROSS JOIN LATERAL (SELECT ARRAY(SELECT DISTINCT pg_temp.word(c.n::int) FROM generate_series(1, 3 + 0 * i)) AS words) AS k;

DELETE FROM jobs WHERE kind = 'pools.rematch';
COMMIT;
VACUUM ANALYZE demands;
VACUUM ANALYZE results;
