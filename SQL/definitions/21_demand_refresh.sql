-- The half-yearly refresh of demands (migration 0031): a closed demand is final, and a demand lapses only
-- from open and only once six months have passed since it was last confirmed, whoever writes the row.
CREATE OR REPLACE FUNCTION demands_refresh_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'closed' THEN
        RAISE EXCEPTION 'demand % is closed', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'demands_closed_final';
    END IF;
    IF NEW.status = 'lapsed' AND OLD.status <> 'lapsed'
       AND (OLD.status <> 'open' OR OLD.confirmed_at + interval '6 months' > now()) THEN
        RAISE EXCEPTION 'demand % is not due to lapse', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'demands_lapse_when_due';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER demands_refresh_transition BEFORE UPDATE ON demands
    FOR EACH ROW EXECUTE FUNCTION demands_refresh_transition();
