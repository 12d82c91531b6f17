-- Unit registrations by people not signed in are counted per client address in the sign-in throttle's
-- table, under keys of their own (register:<address>), with the same rules engine (SignInThrottle).
ALTER TABLE sign_in_throttle DROP CONSTRAINT sign_in_throttle_key;
ALTER TABLE sign_in_throttle ADD CONSTRAINT sign_in_throttle_key
    CHECK (key ~ '^(login:[0-9a-f]{64}|address:.{1,80}|register:.{1,80})$');
