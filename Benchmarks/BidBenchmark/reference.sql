-- pgbench's reference: the SQL of one submission as the server runs it, on the next bid of the queue.
SELECT bid AS bid_id FROM bench_consortia WHERE n = (SELECT nextval('bench_reference')) \gset
BEGIN;
SELECT b.id, b.status::text, b.version, b.programme_id, b.challenge_id, b.lead_unit_id FROM bids b WHERE b.id = :bid_id FOR UPDATE;
SELECT m.unit_id, u.name, m.role, m.status FROM bid_members m JOIN units u ON u.id = m.unit_id WHERE m.bid_id = :bid_id;
SELECT programme_id, cardinality(indicators), status::text, application_deadline > now() FROM challenges WHERE id = (SELECT challenge_id FROM bids WHERE id = :bid_id);
SELECT m.unit_id FROM bid_members m WHERE m.programme_id = (SELECT programme_id FROM bids WHERE id = :bid_id)
    AND m.unit_id IN (SELECT unit_id FROM bid_members WHERE bid_id = :bid_id) AND m.live AND m.exclusive AND m.bid_id <> :bid_id;
UPDATE bids SET status = 'submitted', version = version + 1, submitted_at = now() WHERE id = :bid_id;
INSERT INTO bid_submissions (bid_id, version, content, sha256)
    SELECT id, version, jsonb_build_object('bidID', id, 'route', technical_route, 'answers', indicator_answers),
           encode(sha256(convert_to(technical_route || rd_foundation, 'UTF8')), 'hex')
    FROM bids WHERE id = :bid_id;
INSERT INTO audit_log (actor_label, action, entity, entity_id, before, after)
    VALUES ('pgbench', 'bid.submit', 'bid', :bid_id, '{"status": "draft"}', '{"status": "submitted"}');
COMMIT;
