-- former checksum: d742ebffe49f7e278264e332a9fe309958dd546b557e7fdb21df3ce8cc8037c9
-- Units (单位) and the audit log.
--
-- A unit is an enterprise, university, research institute or other body,
-- identified by its unified social credit code (统一社会信用代码). The code's
-- check character (GB 32100-2015) is verified here as well as in Swift, so no
-- raw insert can store a mistyped code.

CREATE FUNCTION credit_code_is_valid(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'
       AND substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
                  (31 - (SELECT sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(code, i, 1)) - 1)
                                    * (ARRAY[1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])[i])
                         FROM generate_series(1, 17) AS i)::int % 31) % 31 + 1, 1) = substr(code, 18, 1)
$$;

-- A city or prefecture: a province's two digits, then two digits not 00, then 00.
CREATE FUNCTION region_code_is_prefecture(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT code ~ '^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])(0[1-9]|[1-9][0-9])00$'
$$;

-- Whether no element of the array appears twice.
CREATE FUNCTION array_is_distinct(items anyarray) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT cardinality(items) = (SELECT count(DISTINCT item) FROM unnest(items) AS item)
$$;

CREATE TYPE unit_kind AS ENUM ('enterprise', 'university', 'institute', 'other');

CREATE TABLE units (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          unit_kind   NOT NULL,
    name          text        NOT NULL,
    credit_code   text        NOT NULL,
    region_code   text        NOT NULL,
    -- 企业性质, several at once: state_owned 国有, private 民营, joint_venture 合资,
    -- high_tech 高新技术, srdi 专精特新.
    natures       text[]      NOT NULL DEFAULT '{}',
    contact_name  text        NOT NULL,
    contact_phone text        NOT NULL,
    contact_email text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT units_credit_code_key UNIQUE (credit_code),
    CONSTRAINT units_credit_code_valid CHECK (credit_code_is_valid(credit_code)),
    CONSTRAINT units_region_code_prefecture CHECK (region_code_is_prefecture(region_code)),
    CONSTRAINT units_name_length CHECK (char_length(btrim(name)) BETWEEN 2 AND 200),
    CONSTRAINT units_natures_known CHECK (
        natures <@ ARRAY['state_owned', 'private', 'joint_venture', 'high_tech', 'srdi'] AND array_is_distinct(natures)),
    CONSTRAINT units_natures_enterprise CHECK (kind = 'enterprise' OR cardinality(natures) = 0),
    CONSTRAINT units_contact_name_length CHECK (char_length(btrim(contact_name)) BETWEEN 1 AND 100),
    CONSTRAINT units_contact_phone_format CHECK (contact_phone ~ '^\+?[0-9][0-9 -]{5,19}$'),
    CONSTRAINT units_contact_email_format CHECK (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);

CREATE INDEX units_region ON units (region_code);

-- The audit log: one row per state change, written in the same transaction
-- as the change. Rows are never changed or removed: the database refuses
-- (definitions/02_audit.sql).
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint,
    actor_label text        NOT NULL,
    action      text        NOT NULL,
    entity      text        NOT NULL,
    entity_id   text        NOT NULL,
    before      jsonb,
    after       jsonb,
    CONSTRAINT audit_log_action_length CHECK (char_length(action) BETWEEN 1 AND 100),
    CONSTRAINT audit_log_entity_length CHECK (char_length(entity) BETWEEN 1 AND 100)
);

CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
