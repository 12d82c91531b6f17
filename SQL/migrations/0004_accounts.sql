-- former checksum: 1813d860b802d874935bb75803682cce53527a3c32192734ddafa24548a9e33d
-- Bureaus, users with their role and scope, and access tokens.
--
-- Roles: a provincial publisher belongs to a provincial bureau and runs its
-- programmes; a municipal recommender belongs to a municipal bureau and acts
-- for its region; unit members and unit admins belong to one unit; an expert
-- may name the unit they work for (used to avoid conflicts of interest); a
-- system admin belongs to nothing.

CREATE TYPE bureau_level AS ENUM ('province', 'municipal');

CREATE TABLE bureaus (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text         NOT NULL,
    level       bureau_level NOT NULL,
    region_code text         NOT NULL,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT bureaus_name_length CHECK (char_length(btrim(name)) BETWEEN 2 AND 200),
    CONSTRAINT bureaus_region_level CHECK (
        (level = 'province' AND region_code ~ '^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[12])0000$')
        OR (level = 'municipal' AND region_code_is_prefecture(region_code))),
    CONSTRAINT bureaus_name_key UNIQUE (name)
);

CREATE TYPE user_role AS ENUM (
    'provincial_publisher', 'municipal_recommender', 'unit_member', 'unit_admin', 'expert', 'system_admin'
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text        NOT NULL,
    display_name  text        NOT NULL,
    password_hash text,
    role          user_role   NOT NULL,
    unit_id       bigint      REFERENCES units (id),
    bureau_id     bigint      REFERENCES bureaus (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CONSTRAINT users_login_format CHECK (login = lower(btrim(login)) AND char_length(login) BETWEEN 3 AND 254),
    CONSTRAINT users_display_name_length CHECK (char_length(btrim(display_name)) BETWEEN 1 AND 100),
    CONSTRAINT users_password_hash_format CHECK (password_hash IS NULL OR password_hash LIKE 'scrypt$%'),
    CONSTRAINT users_scope CHECK (
        (role IN ('unit_member', 'unit_admin') AND unit_id IS NOT NULL AND bureau_id IS NULL)
        OR (role IN ('provincial_publisher', 'municipal_recommender') AND bureau_id IS NOT NULL AND unit_id IS NULL)
        OR (role = 'expert' AND bureau_id IS NULL)
        OR (role = 'system_admin' AND unit_id IS NULL AND bureau_id IS NULL))
);

CREATE UNIQUE INDEX users_login_key ON users (login);
CREATE INDEX users_unit ON users (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX users_bureau ON users (bureau_id) WHERE bureau_id IS NOT NULL;

-- Bearer tokens: only their SHA-256 is stored. Sessions come from signing in;
-- API tokens are made for integrations. Both expire and can be revoked.
CREATE TABLE access_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL,
    kind         text        NOT NULL,
    label        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT access_tokens_hash_key UNIQUE (token_hash),
    CONSTRAINT access_tokens_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT access_tokens_kind CHECK (kind IN ('session', 'api')),
    CONSTRAINT access_tokens_expiry CHECK (expires_at > created_at)
);

CREATE INDEX access_tokens_user ON access_tokens (user_id);
