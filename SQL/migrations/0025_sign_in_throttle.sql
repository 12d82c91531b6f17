-- Sign-in throttling: one row per login (its SHA-256, so no typed text is kept) and per client address.
-- Each attempt counts when it is allowed; a success takes its attempt back. Past a policy's free
-- attempts each attempt sets blocked_until, and an attempt before then is refused (429) without a
-- password check. The rows are locked in key order by the attempt's short transaction, so concurrent
-- attempts queue and none slips past the count; the daily housekeeping job deletes idle rows.
CREATE TABLE sign_in_throttle (
    key             text        PRIMARY KEY,
    attempts        integer     NOT NULL DEFAULT 0,
    last_attempt_at timestamptz NOT NULL DEFAULT now(),
    blocked_until   timestamptz,
    CONSTRAINT sign_in_throttle_key CHECK (key ~ '^(login:[0-9a-f]{64}|address:.{1,80})$'),
    CONSTRAINT sign_in_throttle_attempts CHECK (attempts >= 0)
);

CREATE INDEX sign_in_throttle_idle ON sign_in_throttle (last_attempt_at);
