-- Webhooks: the rules of migration 0022 that are code.

-- A failed attempt of a `webhook.deliver` job (retried, discarded after its last attempt, cancelled, or
-- rescued after its worker died) is written into its delivery's log with the job's own state change, so
-- the log survives the rollback of the handler's transaction. The handler's error message starts with
-- `HTTP <status>` when the receiver answered. A job handed back at shutdown or snoozed adds no error and
-- no attempt.
CREATE OR REPLACE FUNCTION webhook_deliveries_record_failure() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    message text := NEW.errors -> -1 ->> 'message';
BEGIN
    UPDATE webhook_deliveries
    SET attempts = attempts + 1,
        last_status = (substring(message FROM '^HTTP ([0-9]{3})'))::integer,
        last_error = left(message, 2000),
        last_attempt_at = now(),
        status = CASE WHEN NEW.state IN ('discarded', 'cancelled') THEN 'failed' ELSE status END
    WHERE id = (NEW.args ->> 'delivery')::uuid AND status = 'pending';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER webhook_deliveries_record_failure AFTER UPDATE OF state ON jobs
FOR EACH ROW
WHEN (NEW.kind = 'webhook.deliver' AND OLD.state = 'running' AND NEW.state <> 'running'
      AND jsonb_array_length(NEW.errors) > jsonb_array_length(OLD.errors))
EXECUTE FUNCTION webhook_deliveries_record_failure();
