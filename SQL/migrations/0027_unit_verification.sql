-- Who a unit is: a unit that registers itself is pending until its municipal bureau (or a system
-- admin) confirms it against its business licence (营业执照, an uploaded PDF). Credit codes are public,
-- so until then the unit holds no code: only a verified unit's code is unique, demand imports and
-- partner invitations find verified units only, and a pending unit cannot bid. Several pending units
-- may claim one code (the real company is never refused because a squatter came first); the bureau
-- verifies the one whose licence proves it, and a verified holder must be revoked before another
-- takes its code.
ALTER TABLE units
    ADD COLUMN verification    text        NOT NULL DEFAULT 'pending',
    ADD COLUMN decided_at      timestamptz,
    ADD COLUMN decided_by      bigint,
    ADD COLUMN decision_note   text,
    ADD CONSTRAINT units_verification_known CHECK (verification IN ('pending', 'verified', 'rejected')),
    ADD CONSTRAINT units_verification_decided CHECK ((verification = 'pending') = (decided_at IS NULL)),
    ADD CONSTRAINT units_decision_note_length CHECK (decision_note IS NULL OR char_length(decision_note) <= 500);

-- Units registered before verification existed were registered by their bureaus' processes: verified.
UPDATE units SET verification = 'verified', decided_at = created_at, decision_note = 'registered before verification existed';

ALTER TABLE units DROP CONSTRAINT units_credit_code_key;
CREATE UNIQUE INDEX units_verified_credit_code ON units (credit_code) WHERE verification = 'verified';
CREATE INDEX units_credit_code ON units (credit_code);
CREATE INDEX units_pending_region ON units (region_code, id) WHERE verification = 'pending';

-- The business licence a unit uploads for its verification: one current PDF per unit.
CREATE TABLE unit_licences (
    unit_id      bigint      PRIMARY KEY REFERENCES units (id),
    filename     text        NOT NULL,
    size_bytes   integer     NOT NULL,
    sha256       text        NOT NULL,
    data         bytea       NOT NULL,
    uploaded_by  bigint      REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unit_licences_pdf CHECK (substring(data FROM 1 FOR 5) = '\x255044462d'::bytea),
    CONSTRAINT unit_licences_size CHECK (size_bytes = octet_length(data) AND size_bytes BETWEEN 1 AND 20971520),
    CONSTRAINT unit_licences_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT unit_licences_filename CHECK (char_length(filename) BETWEEN 1 AND 200 AND filename !~ '[/\\]')
);
