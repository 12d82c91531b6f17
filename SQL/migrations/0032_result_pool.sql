-- The result pool (成果库/项目库, seeds 000 龙头对龙头 and 004 千校万企): universities' and institutes' results,
-- which the matching offers to enterprises' demands. A university or institute unit files its own (or a bureau
-- for it); an accepted project adds its result record (achievements) here by itself, whatever its lead's kind.
-- definitions/22_result_pool.sql holds both rules.
CREATE TABLE results (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id         bigint      NOT NULL REFERENCES units (id),
    region_code     text        NOT NULL,
    -- Set when the result is an accepted project's (one per project).
    project_id      bigint      UNIQUE REFERENCES projects (id),
    filed_by_bureau_id bigint   REFERENCES bureaus (id),
    title           text        NOT NULL,
    summary         text        NOT NULL,
    -- 技术领域 and 所属产业链.
    domain          text        NOT NULL,
    industry_chain  text        NOT NULL,
    keywords        text[]      NOT NULL DEFAULT '{}',
    -- 技术成熟度: the technology readiness level, 1 (principle) to 9 (proven in production).
    maturity        smallint    NOT NULL,
    -- 知识产权: granted or pending patents, software copyright, know-how, none; unstated for an accepted project's.
    ip_status       text        NOT NULL,
    contact_name    text        NOT NULL,
    contact_phone   text        NOT NULL,
    contact_email   text        NOT NULL,
    revision        integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT results_region_prefecture CHECK (region_code_is_prefecture(region_code)),
    CONSTRAINT results_title_length CHECK (char_length(btrim(title)) BETWEEN 4 AND 200),
    CONSTRAINT results_summary_length CHECK (char_length(btrim(summary)) BETWEEN 10 AND 5000),
    CONSTRAINT results_domain_length CHECK (char_length(btrim(domain)) BETWEEN 2 AND 50),
    CONSTRAINT results_industry_chain_length CHECK (char_length(btrim(industry_chain)) BETWEEN 2 AND 50),
    CONSTRAINT results_keywords CHECK (cardinality(keywords) <= 20 AND array_is_distinct(keywords) AND text_items_fit(keywords, 20)),
    CONSTRAINT results_maturity_range CHECK (maturity BETWEEN 1 AND 9),
    CONSTRAINT results_ip_status_known CHECK (
        ip_status IN ('patent_granted', 'patent_pending', 'software_copyright', 'know_how', 'none', 'unstated')),
    CONSTRAINT results_contact_name_length CHECK (char_length(btrim(contact_name)) BETWEEN 1 AND 100),
    CONSTRAINT results_contact_phone_format CHECK (contact_phone ~ '^\+?[0-9][0-9 -]{5,19}$'),
    CONSTRAINT results_contact_email_format CHECK (contact_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);

CREATE INDEX results_unit ON results (unit_id);
CREATE INDEX results_region ON results (region_code);

-- Accepted projects accepted before the pool existed enter it now.
INSERT INTO results (unit_id, region_code, project_id, title, summary, domain, industry_chain, maturity, ip_status,
                     contact_name, contact_phone, contact_email)
SELECT u.id, u.region_code, p.id, left(a.title, 200), left(a.summary, 5000), c.domain, c.industry_chain, 7, 'unstated',
       u.contact_name, u.contact_phone, u.contact_email
FROM achievements a
JOIN projects p ON p.id = a.project_id
JOIN challenges c ON c.id = p.challenge_id
JOIN units u ON u.id = p.lead_unit_id
ON CONFLICT (project_id) DO NOTHING;
