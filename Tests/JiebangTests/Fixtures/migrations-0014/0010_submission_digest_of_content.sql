-- A receipt's SHA-256 is of the kept content as PostgreSQL prints it (content::text, jsonb's
-- canonical form: keys sorted, one spacing), so anyone can check a receipt with SQL:
--   SELECT bid_content_digest(content) = sha256 FROM bid_submissions;
-- and no row can carry a digest of anything else. NOT VALID: rows kept before this migration
-- carry the digest of the server's own JSON text and stay as they were.
--
-- IMMUTABLE although convert_to is only STABLE: the database's encoding never changes under it.
CREATE FUNCTION bid_content_digest(content jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(content::text, 'UTF8')), 'hex')
$$;

ALTER TABLE bid_submissions
    ADD CONSTRAINT bid_submissions_digest_of_content CHECK (sha256 = bid_content_digest(content)) NOT VALID;
