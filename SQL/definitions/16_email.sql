-- E-mail: the rules of migration 0023 that are code.

-- A failed attempt of an `email.send` job (retried, discarded after its last attempt, cancelled, or
-- rescued after its worker died) is written into its message's log with the job's own state change, so
-- the log survives the rollback of the handler's transaction. The handler's error message starts with
-- `SMTP <code>` when the server answered. A job handed back at shutdown or snoozed adds no error and no
-- attempt.
CREATE OR REPLACE FUNCTION email_messages_record_failure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    message text := NEW.errors -> -1 ->> 'message';
BEGIN
    UPDATE email_messages
    SET attempts = attempts + 1,
        last_reply_code = (substring(message FROM '^SMTP ([2-5][0-9]{2})'))::integer,
        last_error = left(message, 2000),
        last_attempt_at = now(),
        status = CASE WHEN NEW.state IN ('discarded', 'cancelled') THEN 'failed' ELSE status END
    WHERE id = (NEW.args ->> 'message')::uuid AND status = 'pending';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER email_messages_record_failure AFTER UPDATE OF state ON jobs
FOR EACH ROW
WHEN (NEW.kind = 'email.send' AND OLD.state = 'running' AND NEW.state <> 'running'
      AND jsonb_array_length(NEW.errors) > jsonb_array_length(OLD.errors))
EXECUTE FUNCTION email_messages_record_failure();
