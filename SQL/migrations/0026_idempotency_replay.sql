-- A replayed creation answers with the first answer's Location and ETag too, so they are stored with
-- its status and body.
ALTER TABLE idempotency_keys ADD COLUMN response_location text, ADD COLUMN response_revision integer;

-- Secrets the server keeps in its database, shared by every instance: the key that makes stored
-- request fingerprints keyed hashes (HMAC-SHA-256), so a copy of the table cannot be used to test
-- guesses of a request body (a password in it) offline. Made once, at random, by the first instance
-- that needs it.
CREATE TABLE server_secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT server_secrets_length CHECK (octet_length(value) = 32)
);
