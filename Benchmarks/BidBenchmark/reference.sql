-- pgbench's reference: the statements the server runs for one submission (AccountStore.identify and
-- BidStore.submit), on the next bid of the queue. Since session 22 the server runs the token's lookup inside
-- the read (a CTE beside the locked bid); the reference keeps it a statement of its own, as before.
SELECT bid AS bid_id, 'bench-' || n AS token FROM bench_consortia WHERE n = (SELECT nextval('bench_reference')) \gset
SELECT t.id, u.id, u.display_name, u.role::text, u.unit_id, u.bureau_id, b.region_code,
       t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute'
FROM access_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN bureaus b ON b.id = u.bureau_id
WHERE t.token_hash = sha256(convert_to(:token, 'UTF8')) AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL;
BEGIN;
SELECT b.revision, b.version, b.status::text, b.programme_id, b.challenge_id, b.lead_unit_id,
       b.technical_route, b.rd_foundation, b.indicator_answers, b.total_investment_fen, b.self_funding_fen,
       b.requested_funding_fen, b.team, b.completion_commitment,
       c.status::text, c.application_deadline > now(), cardinality(c.indicators),
       p.min_partners, p.max_consortium_size, p.funding_ratio_cap_bp,
       p.funding_absolute_cap_fen, p.funding_mode,
       ARRAY(SELECT sha256 FROM bid_attachments WHERE bid_id = b.id ORDER BY id),
       m.unit_id, m.role, m.status, m.part_role, m.tasks, m.budget_share_fen, m.contribution
FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN programmes p ON p.id = b.programme_id
     JOIN bid_members m ON m.bid_id = b.id
WHERE b.id = :bid_id
ORDER BY m.unit_id
FOR UPDATE OF b;
WITH submitted AS (
    UPDATE bids SET status = 'submitted', version = version + 1, submitted_at = now()
    WHERE id = :bid_id
    RETURNING id, version
), kept AS (
    INSERT INTO bid_submissions (bid_id, version, content, sha256)
    SELECT submitted.id, submitted.version, record.content, bid_content_digest(record.content)
    FROM submitted,
         (SELECT jsonb_build_object('bidID', id, 'technicalRoute', technical_route, 'indicatorAnswers', indicator_answers) AS content
          FROM bids WHERE id = :bid_id) AS record
    RETURNING version, submitted_at, sha256
), audited AS (
    INSERT INTO audit_log (actor_label, action, entity, entity_id, before, after)
    SELECT 'pgbench', 'bid.submit', 'bid', :bid_id, jsonb_build_object('status', 'draft'),
           jsonb_build_object('status', 'submitted', 'version', kept.version::text, 'sha256', kept.sha256)
    FROM kept
)
SELECT version, submitted_at, sha256 FROM kept;
COMMIT;
