-- Review draws and their jobs: a `review.draw` job that ends without finishing its draw (discarded after
-- its last attempt, or cancelled by an operator) marks the draw failed with the job's last error, in the
-- same transaction as the job's state change. A pending draw blocks the round's next one
-- (review_draws_one_pending), so without this a round whose draw job gave up could never be drawn again.
CREATE OR REPLACE FUNCTION review_draws_fail_with_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE review_draws
    SET status = 'failed', finished_at = now(),
        failure = left('the draw job was ' || NEW.state || ': '
                       || coalesce(NEW.errors -> -1 ->> 'message', 'no error was recorded'), 2000)
    WHERE round_id = (NEW.args ->> 'round')::bigint AND number = (NEW.args ->> 'number')::integer
      AND status = 'pending';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER review_draws_fail_with_job AFTER UPDATE OF state ON jobs
FOR EACH ROW
WHEN (NEW.kind = 'review.draw' AND NEW.state IN ('discarded', 'cancelled') AND OLD.state IS DISTINCT FROM NEW.state)
EXECUTE FUNCTION review_draws_fail_with_job();
