-- The talent pool (人才库, seeds 000 龙头对龙头 and 004 千校万企): the people a unit offers, with their fields,
-- industry chains, keywords and availability, which the matching offers to demands beside the results. A unit of any
-- kind files its own people (or a bureau for it); only the unit and the bureaus over it read a record, so the
-- contacts never reach another unit.
--
-- Availability: 'available' (takes on new work), 'limited' (some capacity, by arrangement), 'unavailable' (listed,
-- not to be offered now).
--
-- One person, one record: a talent who is also in an expert pool names that expert (expert_id), at most once, and
-- the expert must work for the talent's unit; when the expert moves to another unit the link is dropped
-- (definitions/24_talent_pool.sql holds both rules). The link is explicit, never guessed: an expert profile lacks
-- what a talent record needs (fields, a summary, contacts), and a name, phone or e-mail address does not identify
-- a person safely.

-- The items of a list joined by spaces: array_to_string is only STABLE, and a generated column needs IMMUTABLE.
CREATE FUNCTION text_items_joined(items text[]) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(item, ' '), '') FROM unnest(items) AS item
$$;

CREATE TABLE talents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id         bigint      NOT NULL REFERENCES units (id),
    -- The unit's city or prefecture, as for results.
    region_code     text        NOT NULL,
    -- The expert this person is, when they are in an expert pool too (one person, one record).
    expert_id       bigint      UNIQUE REFERENCES experts (user_id),
    filed_by_bureau_id bigint   REFERENCES bureaus (id),
    name            text        NOT NULL,
    -- 职称: professor, senior engineer and the like; empty when not stated.
    title           text        NOT NULL DEFAULT '',
    -- 技术领域 (one to ten) and 所属产业链.
    fields          text[]      NOT NULL,
    industry_chains text[]      NOT NULL DEFAULT '{}',
    keywords        text[]      NOT NULL DEFAULT '{}',
    -- What the person works on and has achieved.
    summary         text        NOT NULL,
    availability    text        NOT NULL DEFAULT 'available',
    contact_name    text        NOT NULL,
    contact_phone   text        NOT NULL,
    contact_email   text        NOT NULL,
    revision        integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT talents_region_prefecture CHECK (region_code_is_prefecture(region_code)),
    CONSTRAINT talents_name_length CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    CONSTRAINT talents_title_length CHECK (char_length(title) <= 50),
    CONSTRAINT talents_fields CHECK (
        cardinality(fields) BETWEEN 1 AND 10 AND array_is_distinct(fields) AND text_items_fit(fields, 50)),
    CONSTRAINT talents_industry_chains CHECK (
        cardinality(industry_chains) <= 10 AND array_is_distinct(industry_chains) AND text_items_fit(industry_chains, 50)),
    CONSTRAINT talents_keywords CHECK (cardinality(keywords) <= 20 AND array_is_distinct(keywords) AND text_items_fit(keywords, 20)),
    CONSTRAINT talents_summary_length CHECK (char_length(btrim(summary)) BETWEEN 10 AND 2000),
    CONSTRAINT talents_availability_known CHECK (availability IN ('available', 'limited', 'unavailable')),
    CONSTRAINT talents_contact_name_length CHECK (char_length(btrim(contact_name)) BETWEEN 1 AND 100),
    CONSTRAINT talents_contact_phone_format CHECK (contact_phone ~ '^\+?[0-9][0-9 -]{5,19}$'),
    CONSTRAINT talents_contact_email_format CHECK (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);

CREATE INDEX talents_unit ON talents (unit_id);
CREATE INDEX talents_region ON talents (region_code);
