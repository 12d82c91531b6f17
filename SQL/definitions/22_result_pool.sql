-- The result pool (migration 0032): a filed result belongs to a university or an institute; an accepted
-- project's result record enters the pool by itself, once.
CREATE OR REPLACE FUNCTION results_filer_kind() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.project_id IS NULL
       AND (SELECT kind FROM units WHERE id = NEW.unit_id) NOT IN ('university', 'institute') THEN
        RAISE EXCEPTION 'unit % is neither a university nor an institute', NEW.unit_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'results_university_or_institute';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER results_filer_kind BEFORE INSERT OR UPDATE OF unit_id, project_id ON results
    FOR EACH ROW EXECUTE FUNCTION results_filer_kind();

CREATE OR REPLACE FUNCTION achievements_enter_result_pool() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO results (unit_id, region_code, project_id, title, summary, domain, industry_chain, maturity, ip_status,
                         contact_name, contact_phone, contact_email)
    SELECT u.id, u.region_code, p.id, left(NEW.title, 200), left(NEW.summary, 5000), c.domain, c.industry_chain, 7,
           'unstated', u.contact_name, u.contact_phone, u.contact_email
    FROM projects p
    JOIN challenges c ON c.id = p.challenge_id
    JOIN units u ON u.id = p.lead_unit_id
    WHERE p.id = NEW.project_id
    ON CONFLICT (project_id) DO NOTHING;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER achievements_enter_result_pool AFTER INSERT ON achievements
    FOR EACH ROW EXECUTE FUNCTION achievements_enter_result_pool();

CREATE OR REPLACE TRIGGER results_revision BEFORE UPDATE ON results FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE OR REPLACE TRIGGER results_touch BEFORE UPDATE ON results FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
