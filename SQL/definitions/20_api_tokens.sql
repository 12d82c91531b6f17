-- A person holds at most 20 live API tokens (neither revoked nor expired). The user's row is locked
-- first, so two tokens created at once for one person are counted one after the other.
CREATE OR REPLACE FUNCTION access_tokens_api_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM users WHERE id = NEW.user_id FOR UPDATE;
    IF (SELECT count(*) FROM access_tokens
        WHERE user_id = NEW.user_id AND kind = 'api' AND revoked_at IS NULL AND expires_at > now()) >= 20 THEN
        RAISE EXCEPTION 'user % holds 20 live API tokens already', NEW.user_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'access_tokens_api_cap', TABLE = 'access_tokens';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER access_tokens_api_cap BEFORE INSERT ON access_tokens
    FOR EACH ROW WHEN (NEW.kind = 'api') EXECUTE FUNCTION access_tokens_api_cap();
