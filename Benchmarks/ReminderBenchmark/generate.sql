-- Prepares a reminder scan (psql -v total=N -v due=D): N published challenges with future application
-- deadlines, of which D fall inside the next seven days (the application-deadline scan's window), each
-- of those with a draft bid by its own lead unit, whose one user is the recipient. The other N - D
-- deadlines lie 8 to 700 days ahead. Titles are short: the table's size, not its text, is the point.
\set ON_ERROR_STOP on

BEGIN;

CREATE FUNCTION pg_temp.credit_code(prefix text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT prefix || substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
        (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(prefix, i, 1)) - 1)
                          * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i])
               FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1, 1)
$$;

INSERT INTO programmes (name, year, bureau_id, application_opens_at, application_closes_at)
SELECT '提醒压测批次', 2099, id, now() - interval '1 day', now() + interval '800 days'
FROM bureaus WHERE level = 'province' ORDER BY id LIMIT 1;

-- Challenge n <= :due is due: its deadline lies between one hour and six days and 23 hours ahead.
INSERT INTO challenges (programme_id, title, task, content, indicators, category, domain, industry_chain,
                        application_deadline, completion_deadline, funding_ceiling_fen, status, published_at)
SELECT (SELECT id FROM programmes WHERE name = '提醒压测批次'),
       '提醒压测榜单' || n, '关键技术攻关' || n, '技术内容' || n, ARRAY['指标'], 'key_product', '智能装备', '装备制造',
       CASE WHEN n <= :due THEN now() + interval '1 hour' + (n % 166) * interval '1 hour'
            ELSE now() + interval '8 days' + (n % 692) * interval '1 day' END,
       (now() + interval '3 years')::date, 500000000, 'published', now()
FROM generate_series(1, :total) AS n;

CREATE TEMPORARY TABLE bench_due ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS n, id AS challenge, programme_id
FROM challenges WHERE title LIKE '提醒压测榜单%' AND application_deadline < now() + interval '7 days';

INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
SELECT 'enterprise', '提醒压测企业' || n, pg_temp.credit_code('91620100RM' || lpad(n::text, 7, '0')), '620100',
       '{private}', '王工', '0931-8000000', 'lead@example.cn', 'verified', now()
FROM bench_due;

-- With :with_email = on every lead has an address, so each notification also writes its e-mail and its job.
INSERT INTO users (login, display_name, role, unit_id, email)
SELECT 'remind.lead' || d.n, '提醒压测' || d.n, 'unit_admin', u.id,
       CASE WHEN :'with_email' = 'on' THEN 'remind.lead' || d.n || '@example.com' END
FROM bench_due d JOIN units u ON u.credit_code = pg_temp.credit_code('91620100RM' || lpad(d.n::text, 7, '0'));

WITH leads AS (
    SELECT d.challenge, d.programme_id, u.id AS unit
    FROM bench_due d JOIN units u ON u.credit_code = pg_temp.credit_code('91620100RM' || lpad(d.n::text, 7, '0'))
), bids AS (
    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code)
    SELECT programme_id, challenge, unit, '620100' FROM leads
    RETURNING id, programme_id, lead_unit_id
)
INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive)
SELECT id, lead_unit_id, programme_id, 'lead', 'accepted', true FROM bids;

COMMIT;
ANALYZE;
