-- The job queue: one table, an explicit state machine, and the indexes that
-- keep claiming an index scan however many finished rows the table holds.
--
--   available  ready to run now            (claimed with FOR UPDATE SKIP LOCKED)
--   scheduled  waits for run_at            (promoted to available when due)
--   running    held by a worker's lease    (renewed while it runs; rescued when it expires)
--   retryable  failed, waits for run_at    (promoted to available when due)
--   completed, discarded, cancelled        final; pruned after a retention period
CREATE TYPE job_state AS ENUM (
    'available', 'scheduled', 'running', 'retryable', 'completed', 'discarded', 'cancelled'
);

CREATE TABLE jobs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue            text        NOT NULL DEFAULT 'default',
    kind             text        NOT NULL,
    args             jsonb       NOT NULL DEFAULT '{}',
    state            job_state   NOT NULL DEFAULT 'available',
    priority         smallint    NOT NULL DEFAULT 5,
    attempt          smallint    NOT NULL DEFAULT 0,
    max_attempts     smallint    NOT NULL DEFAULT 25,
    run_at           timestamptz NOT NULL DEFAULT now(),
    attempted_at     timestamptz,
    finished_at      timestamptz,
    lease_owner      text,
    lease_expires_at timestamptz,
    timeout_ms       integer,
    errors           jsonb       NOT NULL DEFAULT '[]',
    unique_key       text,
    unique_states    job_state[],
    cancel_requested boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT jobs_queue_length CHECK (char_length(queue) BETWEEN 1 AND 128),
    CONSTRAINT jobs_kind_length CHECK (char_length(kind) BETWEEN 1 AND 128),
    CONSTRAINT jobs_args_object CHECK (jsonb_typeof(args) = 'object'),
    CONSTRAINT jobs_errors_array CHECK (jsonb_typeof(errors) = 'array'),
    CONSTRAINT jobs_priority_range CHECK (priority BETWEEN 0 AND 9),
    CONSTRAINT jobs_attempt_range CHECK (attempt >= 0 AND attempt <= max_attempts),
    CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    CONSTRAINT jobs_timeout_positive CHECK (timeout_ms IS NULL OR timeout_ms > 0),
    -- finished_at is set exactly when the job is in a final state.
    CONSTRAINT jobs_finished_at_final CHECK (
        (state IN ('completed', 'discarded', 'cancelled')) = (finished_at IS NOT NULL)),
    -- a running job always holds a lease; no other state does.
    CONSTRAINT jobs_lease_running CHECK (
        (state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CONSTRAINT jobs_running_attempted CHECK (state <> 'running' OR (attempted_at IS NOT NULL AND attempt >= 1)),
    CONSTRAINT jobs_unique_pair CHECK ((unique_key IS NULL) = (unique_states IS NULL))
) WITH (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- The claim: ready jobs of a queue in priority, then run_at order. Partial, so
-- finished rows never enter it.
CREATE INDEX jobs_ready ON jobs (queue, priority, run_at, id) WHERE state = 'available';
-- Promotion of scheduled and retryable jobs when due.
CREATE INDEX jobs_pending ON jobs (run_at) WHERE state IN ('scheduled', 'retryable');
-- Rescue of running jobs whose lease expired.
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running';
-- Pruning of finished jobs.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE state IN ('completed', 'discarded', 'cancelled');
-- Listing by kind for operators.
CREATE INDEX jobs_kind ON jobs (kind, id);
-- Unique jobs: at most one row per (kind, unique_key) among the states the job chose.
CREATE UNIQUE INDEX jobs_unique ON jobs (kind, unique_key)
    WHERE unique_key IS NOT NULL AND state = ANY (unique_states);

-- The last slot enqueued for each cron schedule. Whoever moves last_slot
-- forward enqueues that slot's job in the same transaction, so each slot is
-- enqueued once however many processes run the schedule.
CREATE TABLE cron_schedules (
    name       text PRIMARY KEY,
    last_slot  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cron_schedules_name_length CHECK (char_length(name) BETWEEN 1 AND 128)
);
