-- bid_status_is_live() was STRICT, and PostgreSQL does not inline a STRICT SQL function whose
-- body is an IN list: every call from the bid triggers ran the SQL function machinery (parse,
-- plan, execute), a third of a submission's UPDATE. Without STRICT the planner inlines it into
-- `status = ANY ('{submitted,…}')`. A NULL status still gives NULL, as before.
CREATE OR REPLACE FUNCTION bid_status_is_live(status bid_status) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status IN ('submitted', 'returned', 'recommended', 'formal_passed', 'formal_failed')
$$;
