-- The audit trail as a hash chain. A sealing job takes committed audit_log rows in batches (never on
-- the write path: a request appends its row as before) and gives each a place in the chain: seq, and
-- hash = SHA-256(previous hash || SHA-256(the entry's canonical content)). `jiebang audit verify`
-- recomputes the chain from the rows themselves, so an entry edited, deleted, inserted or reordered
-- even by a superuser who bypasses the triggers is found and named. The head (seq and hash) is
-- printed on published notices, so a rewrite of the whole chain is visible to anyone who kept one.
CREATE TABLE audit_seals (
    seq       bigint      PRIMARY KEY,
    -- No foreign key: verification itself finds a seal whose entry is gone (and TRUNCATE of the log
    -- stays refused by its own trigger, not by a reference).
    audit_id  bigint      NOT NULL,
    hash      bytea       NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_seals_audit_id_key UNIQUE (audit_id),
    CONSTRAINT audit_seals_hash_length CHECK (octet_length(hash) = 32),
    CONSTRAINT audit_seals_seq_positive CHECK (seq >= 1)
);

-- Each published notice (a challenge's winners in 公示, a programme's list of successful units) keeps
-- the chain's head as it was when the notice went out (`seq:hash`) and prints it, so whoever keeps the
-- notice can later tell whether the record that led to it was rewritten.
ALTER TABLE award_notices ADD COLUMN audit_head text,
    ADD CONSTRAINT award_notices_audit_head CHECK (audit_head ~ '^[0-9]+:[0-9a-f]{64}$');
ALTER TABLE success_lists ADD COLUMN audit_head text,
    ADD CONSTRAINT success_lists_audit_head CHECK (audit_head ~ '^[0-9]+:[0-9a-f]{64}$');
