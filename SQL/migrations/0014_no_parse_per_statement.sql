-- former checksum: 3c346c805f6171824cafd0ea5f9d0369f7142f2acf10d93598df13aea700cb82
-- No SQL function is parsed again for every statement of a submission.
--
-- PostgreSQL prepares a trigger's WHEN clause and a table's CHECK constraints anew for every
-- statement that fires or checks them, and inlining a SQL function there means parsing its body
-- again each time (perf: base_yyparse under ExecARUpdateTriggers). The WHEN clause of
-- bids_sync_live_units spells out the live statuses (definitions/08_bids.sql), and so does this CHECK
-- the digest of bid_content_digest. Still NOT VALID: rows kept before 0010 carry the digest of the
-- server's own JSON text.
ALTER TABLE bid_submissions DROP CONSTRAINT IF EXISTS bid_submissions_digest_of_content;
ALTER TABLE bid_submissions
    ADD CONSTRAINT bid_submissions_digest_of_content
    CHECK (sha256 = encode(sha256(convert_to(content::text, 'UTF8')), 'hex')) NOT VALID;
