-- former checksum: 3b5a180e777bedd60f9544e2d082af6c8af2cd78a6e5a7914db0ac240ee0c760
-- Revisions for ETag / If-Match (bumped by bump_revision, definitions/01_common.sql) and idempotency
-- keys for creating requests.

ALTER TABLE units ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE programmes ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE demands ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE demands ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE challenges ADD COLUMN revision integer NOT NULL DEFAULT 1;

-- A creating request sent twice with the same Idempotency-Key creates once:
-- the key row is written in the transaction that creates, so the second
-- request waits on the unique index and then replays the stored response.
CREATE TABLE idempotency_keys (
    scope           text        NOT NULL,
    key             text        NOT NULL,
    request_hash    bytea       NOT NULL,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255),
    CONSTRAINT idempotency_keys_response CHECK ((response_status IS NULL) = (response_body IS NULL))
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
