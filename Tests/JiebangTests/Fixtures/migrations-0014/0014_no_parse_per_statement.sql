-- No SQL function is parsed again for every statement of a submission.
--
-- PostgreSQL prepares a trigger's WHEN clause and a table's CHECK constraints anew for every
-- statement that fires or checks them, and inlining a SQL function there means parsing its body
-- again each time (perf: base_yyparse under ExecARUpdateTriggers). A SQL function it cannot inline
-- costs more still: parsed, planned and run through the function executor on every call.
--
-- 1. The WHEN clause of bids_sync_live_units spells out the live statuses of bid_status_is_live
--    (0009) instead of calling it twice.
DROP TRIGGER bids_sync_live_units ON bids;
CREATE TRIGGER bids_sync_live_units AFTER UPDATE OF status ON bids
    FOR EACH ROW WHEN (
        (OLD.status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed'))
            IS DISTINCT FROM
        (NEW.status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed')))
    EXECUTE FUNCTION bids_sync_live_units();

-- 2. bid_content_digest was IMMUTABLE around convert_to, which is STABLE, and PostgreSQL never inlines
--    a function that claims more than its body: each receipt ran it as a SQL function, twice (the
--    INSERT and the CHECK). STABLE is what it is, and the INSERT's cached plan now holds the
--    expression itself. The CHECK spells the expression out, so nothing is parsed when it is checked.
--    Still NOT VALID: rows kept before 0010 carry the digest of the server's own JSON text.
ALTER FUNCTION bid_content_digest(jsonb) STABLE;
ALTER TABLE bid_submissions DROP CONSTRAINT bid_submissions_digest_of_content;
ALTER TABLE bid_submissions
    ADD CONSTRAINT bid_submissions_digest_of_content
    CHECK (sha256 = encode(sha256(convert_to(content::text, 'UTF8')), 'hex')) NOT VALID;
