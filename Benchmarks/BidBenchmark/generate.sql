-- Prepares the deadline rush (psql -v count=N -v reference=M): N + M consortia, each a lead unit in
-- Lanzhou (620100) and a partner unit in Jinchang (620300), every unit distinct, with a draft bid on one
-- of the demo programme's ten challenges, the partner accepted, the content complete and the requested
-- funding exactly at the 10% cap. Each lead unit's admin has an API token 'bench-<n>'.
-- Bids 1..N are submitted over HTTP; bids N+1..N+M by pgbench, the reference.
\set ON_ERROR_STOP on

BEGIN;

CREATE FUNCTION pg_temp.credit_code(prefix text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT prefix || substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
        (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(prefix, i, 1)) - 1)
                          * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i])
               FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1, 1)
$$;

CREATE TABLE bench_consortia (
    n         integer PRIMARY KEY,
    lead      bigint,
    partner   bigint,
    lead_user bigint,
    challenge bigint,
    bid       bigint
);

INSERT INTO bench_consortia (n, challenge)
SELECT n, (SELECT id FROM challenges WHERE status = 'published' ORDER BY id OFFSET n % 10 LIMIT 1)
FROM generate_series(1, :count + :reference) AS n;

WITH inserted AS (
    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
    SELECT 'enterprise', '揭榜压测牵头企业' || n, pg_temp.credit_code('91620100BL' || lpad(n::text, 7, '0')), '620100',
           '{private}', '王工', '0931-8000000', 'lead@example.cn', 'verified', now()
    FROM bench_consortia
    RETURNING id, credit_code
)
UPDATE bench_consortia c SET lead = i.id FROM inserted i WHERE substr(i.credit_code, 11, 7)::int = c.n;

WITH inserted AS (
    INSERT INTO units (kind, name, credit_code, region_code, natures, contact_name, contact_phone, contact_email, verification, decided_at)
    SELECT 'university', '揭榜压测参与单位' || n, pg_temp.credit_code('12620300BP' || lpad(n::text, 7, '0')), '620300',
           '{}', '李老师', '0935-8000000', 'partner@example.cn', 'verified', now()
    FROM bench_consortia
    RETURNING id, credit_code
)
UPDATE bench_consortia c SET partner = i.id FROM inserted i WHERE substr(i.credit_code, 11, 7)::int = c.n;

WITH inserted AS (
    INSERT INTO users (login, display_name, role, unit_id)
    SELECT 'bench.lead' || n, '压测牵头' || n, 'unit_admin', lead FROM bench_consortia
    RETURNING id, unit_id
)
UPDATE bench_consortia c SET lead_user = i.id FROM inserted i WHERE i.unit_id = c.lead;

INSERT INTO access_tokens (user_id, token_hash, kind, label, expires_at)
SELECT lead_user, sha256(convert_to('bench-' || n, 'UTF8')), 'api', 'bid benchmark', now() + interval '1 day'
FROM bench_consortia;

WITH inserted AS (
    INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, technical_route, rd_foundation,
                      indicator_answers, total_investment_fen, self_funding_fen, requested_funding_fen, team,
                      completion_commitment, created_by)
    SELECT ch.programme_id, c.challenge, c.lead, '620100',
           '采用产学研联合攻关的技术路线：小试、中试到工程化验证，分三个阶段完成关键技术突破。',
           '牵头单位拥有省级企业技术中心和中试基地，参与单位具备完整的检测分析平台。',
           ARRAY(SELECT '达到或优于指标要求' FROM unnest(ch.indicators)),
           1000000000, 500000000, 100000000,
           '[{"name": "王强", "title": "正高级工程师", "unit": "牵头单位", "role": "项目负责人"}]', true, c.lead_user
    FROM bench_consortia c JOIN challenges ch ON ch.id = c.challenge
    RETURNING id, lead_unit_id
)
UPDATE bench_consortia c SET bid = i.id FROM inserted i WHERE i.lead_unit_id = c.lead;

INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive, responded_by, responded_at)
SELECT c.bid, c.lead, b.programme_id, 'lead', 'accepted', true, c.lead_user, now()
FROM bench_consortia c JOIN bids b ON b.id = c.bid;

INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive, part_role, tasks, budget_share_fen,
                         contribution, responded_at)
SELECT c.bid, c.partner, b.programme_id, 'partner', 'accepted', true, '检测分析', '负责性能测试与失效分析', 50000000,
       '检测平台与研究生团队', now()
FROM bench_consortia c JOIN bids b ON b.id = c.bid;

-- The reference's queue: pgbench takes the next bid with nextval.
SELECT :count + 1 AS reference_start \gset
CREATE SEQUENCE bench_reference START :reference_start;

COMMIT;

VACUUM ANALYZE;
