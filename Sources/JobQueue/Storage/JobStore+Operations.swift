public import Foundation
public import Postgres

/// The operator's statements: list, inspect, retry and cancel jobs, and summarise the queue.
///
/// Retry and cancel are each one conditional `UPDATE`, so they are safe against workers and
/// maintenance changing the same row: a job that moved on in between is refused, never clobbered.
/// The job's state is looked up afterwards only to explain a refusal.
extension JobStore {
    /// One job as a line of a listing.
    public struct Summary: Sendable, Hashable {
        /// The job's id.
        public var id: Int
        /// The queue it runs on.
        public var queue: String
        /// The kind, which selects the handler.
        public var kind: String
        /// Its state.
        public var state: JobState
        /// 0 (first) to 9 (last).
        public var priority: Int
        /// Attempts started so far.
        public var attempt: Int
        /// Attempts allowed in all.
        public var maxAttempts: Int
        /// When it is (or was) due.
        public var runAt: Date
        /// When it was enqueued.
        public var createdAt: Date
        /// When it reached a final state, if it has.
        public var finishedAt: Date?
        /// The message of its latest recorded error, if any.
        public var lastError: String?
    }

    /// Lists jobs, newest first, optionally filtered.
    /// - Parameters:
    ///   - state: only jobs in this state; nil for all.
    ///   - kind: only jobs of this kind; nil for all.
    ///   - queue: only jobs on this queue; nil for all.
    ///   - afterID: the cursor: only jobs whose id is lower (pass the last id of the previous page).
    ///   - limit: the page size.
    public static func list(
        state: JobState?, kind: String?, queue: String?, afterID: Int?, limit: Int, on db: PostgresConnection
    ) async throws -> [Summary] {
        let stateName = state?.rawValue
        let rows = try await db.query(
            """
            SELECT id, queue, kind, state::text, priority, attempt, max_attempts, run_at, created_at, finished_at,
                   errors -> -1 ->> 'message'
            FROM jobs
            WHERE (\(stateName)::text IS NULL OR state::text = \(stateName))
              AND (\(kind)::text IS NULL OR kind = \(kind))
              AND (\(queue)::text IS NULL OR queue = \(queue))
              AND (\(afterID)::bigint IS NULL OR id < \(afterID))
            ORDER BY id DESC
            LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, queue, kind, stateText, priority, attempt, maxAttempts, runAt, createdAt, finishedAt, lastError) =
                try row.decode((Int, String, String, String, Int, Int, Int, Date, Date, Date?, String?).self)
            return Summary(
                id: id, queue: queue, kind: kind, state: try jobState(stateText, of: id), priority: priority,
                attempt: attempt, maxAttempts: maxAttempts, runAt: runAt, createdAt: createdAt, finishedAt: finishedAt,
                lastError: lastError)
        }
    }

    /// Everything stored about one job.
    public struct Detail: Sendable, Hashable {
        /// One failed (or rescued, or cancelled) attempt recorded in the job's `errors`.
        public struct ErrorEntry: Sendable, Hashable, Codable {
            /// The attempt it happened on (0 when the job never started).
            public var attempt: Int
            /// When it was recorded; nil if the entry has no readable time.
            public var at: Date?
            /// What happened.
            public var message: String
        }

        /// The job's id.
        public var id: Int
        /// The queue it runs on.
        public var queue: String
        /// The kind, which selects the handler.
        public var kind: String
        /// The arguments as JSON text.
        public var arguments: String
        /// Its state.
        public var state: JobState
        /// 0 (first) to 9 (last).
        public var priority: Int
        /// Attempts started so far.
        public var attempt: Int
        /// Attempts allowed in all.
        public var maxAttempts: Int
        /// When it is (or was) due.
        public var runAt: Date
        /// When it was enqueued.
        public var createdAt: Date
        /// When its latest attempt started, if one has.
        public var attemptedAt: Date?
        /// When it reached a final state, if it has.
        public var finishedAt: Date?
        /// The worker holding it (only while running).
        public var leaseOwner: String?
        /// When that worker's lease runs out (only while running).
        public var leaseExpiresAt: Date?
        /// The per-attempt timeout, if any.
        public var timeout: Duration?
        /// The key that makes it unique among jobs of its kind, if any.
        public var uniqueKey: String?
        /// The states in which the unique key is held (empty without a key).
        public var uniqueStates: [JobState]
        /// Whether an operator asked to stop it while running.
        public var cancelRequested: Bool
        /// Its recorded errors, oldest first.
        public var errors: [ErrorEntry]
    }

    /// Everything stored about job `id`, or nil if no job has that id.
    public static func detail(id: Int, on db: PostgresConnection) async throws -> Detail? {
        let rows = try await db.query(
            """
            SELECT id, queue, kind, args::text AS arguments, state::text AS state, priority, attempt, max_attempts,
                   run_at, created_at, attempted_at, finished_at, lease_owner, lease_expires_at, timeout_ms,
                   unique_key, COALESCE(unique_states::text[], '{}') AS unique_states, cancel_requested,
                   ARRAY(SELECT COALESCE((e.entry ->> 'attempt')::integer, 0)
                         FROM jsonb_array_elements(errors) WITH ORDINALITY AS e(entry, n) ORDER BY e.n) AS error_attempts,
                   ARRAY(SELECT (e.entry ->> 'at')::timestamptz
                         FROM jsonb_array_elements(errors) WITH ORDINALITY AS e(entry, n) ORDER BY e.n) AS error_times,
                   ARRAY(SELECT COALESCE(e.entry ->> 'message', e.entry::text)
                         FROM jsonb_array_elements(errors) WITH ORDINALITY AS e(entry, n) ORDER BY e.n) AS error_messages
            FROM jobs WHERE id = \(id)
            """)
        guard let row = rows.first else { return nil }
        let attempts = try row.decode([Int].self, column: "error_attempts")
        let times = try row.decode([Date?].self, column: "error_times")
        let messages = try row.decode([String].self, column: "error_messages")
        let errors = zip(attempts, zip(times, messages)).map { attempt, entry in
            Detail.ErrorEntry(attempt: attempt, at: entry.0, message: entry.1)
        }
        let uniqueStates = try row.decode([String].self, column: "unique_states").map { try jobState($0, of: id) }
        return Detail(
            id: id,
            queue: try row.decode(String.self, column: "queue"),
            kind: try row.decode(String.self, column: "kind"),
            arguments: try row.decode(String.self, column: "arguments"),
            state: try jobState(try row.decode(String.self, column: "state"), of: id),
            priority: try row.decode(Int.self, column: "priority"),
            attempt: try row.decode(Int.self, column: "attempt"),
            maxAttempts: try row.decode(Int.self, column: "max_attempts"),
            runAt: try row.decode(Date.self, column: "run_at"),
            createdAt: try row.decode(Date.self, column: "created_at"),
            attemptedAt: try row.decode(Date?.self, column: "attempted_at"),
            finishedAt: try row.decode(Date?.self, column: "finished_at"),
            leaseOwner: try row.decode(String?.self, column: "lease_owner"),
            leaseExpiresAt: try row.decode(Date?.self, column: "lease_expires_at"),
            timeout: try row.decode(Int?.self, column: "timeout_ms").map { .milliseconds($0) },
            uniqueKey: try row.decode(String?.self, column: "unique_key"),
            uniqueStates: uniqueStates,
            cancelRequested: try row.decode(Bool.self, column: "cancel_requested"),
            errors: errors)
    }

    /// The states ``retry(id:on:)`` accepts.
    private static let retriableStates = ["discarded", "cancelled", "retryable", "scheduled", "completed"]

    /// Makes a discarded, cancelled, retryable, scheduled or completed job available now.
    ///
    /// Its `run_at` becomes now, `finished_at` and `cancel_requested` are cleared, and if it has used
    /// all its attempts `max_attempts` is raised by one so it may run once more. Workers of its queue
    /// are notified.
    /// - Returns: the state the job was in before.
    /// - Throws: `JobQueueError` `.notFound` for an unknown id; `.invalidState` for a running or
    ///   available job, or a unique job whose key another live job holds.
    @discardableResult
    public static func retry(id: Int, on db: PostgresConnection) async throws -> JobState {
        let rows: PostgresRows
        do {
            // The CTE locks the row, so `target.state` is the state this UPDATE replaced.
            rows = try await db.query(
                """
                WITH target AS (SELECT id, state FROM jobs WHERE id = \(id) FOR UPDATE)
                UPDATE jobs SET state = 'available', run_at = now(), finished_at = NULL, cancel_requested = false,
                       max_attempts = GREATEST(jobs.max_attempts, jobs.attempt + 1)
                FROM target
                WHERE jobs.id = target.id AND jobs.state::text = ANY (\(retriableStates))
                RETURNING target.state::text, jobs.queue
                """)
        } catch let error as PostgresError where error.constraint == "jobs_unique" {
            throw JobQueueError(
                .invalidState, "job \(id) cannot be retried: another job of its kind holds its unique key")
        }
        guard let row = rows.first else {
            let state = try await currentState(of: id, on: db)
            if retriableStates.contains(state.rawValue) {
                throw JobQueueError(.invalidState, "job \(id) changed state while being retried (now \(state)); try again")
            }
            throw JobQueueError(.invalidState, "job \(id) is \(state); it cannot be retried")
        }
        let (previous, queue) = try row.decode((String, String).self)
        try await db.execute("SELECT pg_notify(\(JobClient.channel), \(queue))")
        return try jobState(previous, of: id)
    }

    /// What ``cancel(id:on:)`` did.
    public enum CancelResult: Sendable, Hashable {
        /// The job was waiting (available, scheduled or retryable) and is now cancelled for good.
        case cancelled
        /// The job is running: it is flagged, and its worker stops it at its next lease renewal.
        case requested
    }

    /// Cancels a job that has not finished.
    ///
    /// A waiting job (available, scheduled, retryable) becomes cancelled at once, with the error
    /// "cancelled by an operator". A running job gets `cancel_requested`; its worker stops it and
    /// records the cancellation when it next renews its lease.
    /// - Throws: `JobQueueError` `.notFound` for an unknown id; `.invalidState` for a job already
    ///   completed, discarded or cancelled.
    @discardableResult
    public static func cancel(id: Int, on db: PostgresConnection) async throws -> CancelResult {
        let rows = try await db.query(
            """
            UPDATE jobs SET
                state = CASE WHEN state = 'running' THEN state ELSE 'cancelled' END,
                finished_at = CASE WHEN state = 'running' THEN NULL ELSE now() END,
                cancel_requested = cancel_requested OR state = 'running',
                errors = CASE WHEN state = 'running' THEN errors
                              ELSE errors || jsonb_build_array(jsonb_build_object(
                                  'attempt', attempt, 'at', now(), 'message', 'cancelled by an operator')) END
            WHERE id = \(id) AND state IN ('available', 'scheduled', 'retryable', 'running')
            RETURNING state::text
            """)
        guard let row = rows.first else {
            let state = try await currentState(of: id, on: db)
            if state.isFinal {
                throw JobQueueError(.invalidState, "job \(id) is already \(state)")
            }
            throw JobQueueError(.invalidState, "job \(id) changed state while being cancelled (now \(state)); try again")
        }
        return try jobState(try row.decode(String.self), of: id) == .running ? .requested : .cancelled
    }

    /// Gives up a waiting job (available, scheduled or retryable): it becomes discarded, as a job that used
    /// all its attempts does, with the error "discarded by an operator", and no worker runs it again unless it
    /// is retried. A running job is not discarded: cancel it.
    /// - Throws: `JobQueueError` `.notFound` for an unknown id; `.invalidState` for a running or finished job.
    public static func discard(id: Int, on db: PostgresConnection) async throws {
        let rows = try await db.query(
            """
            UPDATE jobs SET state = 'discarded', finished_at = now(),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'message', 'discarded by an operator'))
            WHERE id = \(id) AND state IN ('available', 'scheduled', 'retryable')
            RETURNING id
            """)
        guard rows.first == nil else { return }
        let state = try await currentState(of: id, on: db)
        if state == .running { throw JobQueueError(.invalidState, "job \(id) is running; cancel it to stop it") }
        if state.isFinal { throw JobQueueError(.invalidState, "job \(id) is already \(state)") }
        throw JobQueueError(.invalidState, "job \(id) changed state while being discarded (now \(state)); try again")
    }

    /// A summary of the queue for operators.
    public struct Statistics: Sendable {
        /// The number of jobs of each kind in each state (only pairs that have jobs), by kind then state.
        public var counts: [(kind: String, state: JobState, count: Int)]
        /// How long the oldest available job has been due, in seconds: the queue's latency.
        /// Nil when no job is available.
        public var oldestAvailableAge: Double?
        /// The table's live rows, as estimated by PostgreSQL's statistics collector.
        public var liveRows: Int
        /// The table's dead rows not yet vacuumed, from the same statistics.
        public var deadRows: Int

        /// The number of jobs in `state`, of every kind.
        public func total(_ state: JobState) -> Int {
            counts.filter { $0.state == state }.reduce(0) { $0 + $1.count }
        }
    }

    /// Counts jobs by kind and state, and reads the queue's latency and the table's dead rows.
    ///
    /// Counting reads the whole table; meant for operators, not for frequent polling.
    public static func statistics(on db: PostgresConnection) async throws -> Statistics {
        let countRows = try await db.query(
            "SELECT kind, state::text AS state_name, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state")
        let counts = try countRows.map { row in
            let (kind, stateText, count) = try row.decode((String, String, Int).self)
            guard let state = JobState(rawValue: stateText) else {
                throw JobQueueError(.invalidState, "jobs of kind \(kind) have unknown state \(stateText)")
            }
            return (kind: kind, state: state, count: count)
        }
        let age = try await db.query(
            """
            SELECT EXTRACT(EPOCH FROM now() - min(run_at))::float8 FROM jobs WHERE state = 'available'
            """
        ).first?.decode(Double?.self)
        let table = try await db.query(
            "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relid = 'jobs'::regclass"
        ).first?.decode((Int, Int).self)
        return Statistics(
            counts: counts, oldestAvailableAge: (age ?? nil).map { max(0, $0) }, liveRows: table?.0 ?? 0, deadRows: table?.1 ?? 0)
    }

    /// A cron schedule's record: the last slot enqueued, and when.
    public struct CronSlot: Sendable, Hashable {
        /// The schedule's name.
        public var name: String
        /// The last slot whose job was enqueued.
        public var lastSlot: Date
        /// When that slot was enqueued.
        public var enqueuedAt: Date
    }

    /// Every cron schedule that has enqueued a slot, by name.
    public static func cronSlots(on db: PostgresConnection) async throws -> [CronSlot] {
        try await db.query("SELECT name, last_slot, updated_at FROM cron_schedules ORDER BY name").map { row in
            let (name, slot, at) = try row.decode((String, Date, Date).self)
            return CronSlot(name: name, lastSlot: slot, enqueuedAt: at)
        }
    }

    /// One minute of the queue's recent work.
    public struct ActivityMinute: Sendable, Hashable {
        /// How many whole minutes before now the minute began: 0 is the current minute.
        public var minutesAgo: Int
        /// Jobs that completed in it.
        public var completed: Int
        /// Attempts that started in it.
        public var started: Int
        /// The mean wait of those attempts from when they were due to when they started, in seconds (0 when none
        /// started): the enqueue-to-start latency.
        public var meanWaitSeconds: Double
    }

    /// The queue's last `minutes` minutes, oldest first: completions and attempts started per minute, and how long
    /// the attempts waited after they were due. A job's latest attempt counts (an earlier one's start is not kept).
    ///
    /// It scans the recently finished jobs by their index and the table for recent attempts; meant for the
    /// operators' page, not for frequent polling.
    public static func activity(minutes: Int = 60, on db: PostgresConnection) async throws -> [ActivityMinute] {
        let minutes = min(max(minutes, 1), 24 * 60)
        let rows = try await db.query(
            """
            WITH span AS (SELECT generate_series(0, \(minutes - 1)) AS m),
            done AS (
                SELECT floor(extract(epoch FROM now() - finished_at) / 60)::int AS m, count(*) AS n
                FROM jobs
                WHERE state = 'completed' AND finished_at > now() - make_interval(mins => \(minutes)::int)
                GROUP BY 1
            ), began AS (
                SELECT floor(extract(epoch FROM now() - attempted_at) / 60)::int AS m, count(*) AS n,
                       avg(greatest(extract(epoch FROM attempted_at - run_at), 0))::float8 AS wait
                FROM jobs
                WHERE attempted_at > now() - make_interval(mins => \(minutes)::int)
                GROUP BY 1
            )
            SELECT span.m, coalesce(done.n, 0)::int8, coalesce(began.n, 0)::int8, coalesce(began.wait, 0)::float8
            FROM span LEFT JOIN done USING (m) LEFT JOIN began USING (m)
            ORDER BY span.m DESC
            """)
        return try rows.map { row in
            let (ago, completed, started, wait) = try row.decode((Int, Int, Int, Double).self)
            return ActivityMinute(minutesAgo: ago, completed: completed, started: started, meanWaitSeconds: wait)
        }
    }

    /// The state of job `id`, to explain a refused operation.
    /// - Throws: `JobQueueError.notFound` when no job has that id.
    private static func currentState(of id: Int, on db: PostgresConnection) async throws -> JobState {
        guard let text = try await db.query("SELECT state::text FROM jobs WHERE id = \(id)").first?.decode(String.self)
        else {
            throw JobQueueError(.notFound, "no job has id \(id)")
        }
        return try jobState(text, of: id)
    }

    /// Reads a state name the database returned.
    private static func jobState(_ text: String, of id: Int) throws -> JobState {
        guard let state = JobState(rawValue: text) else {
            throw JobQueueError(.invalidState, "job \(id) has unknown state \(text)")
        }
        return state
    }
}
