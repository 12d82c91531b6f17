public import Foundation
public import Postgres

/// Every statement the queue runs against the `jobs` table. Stateless: each
/// function takes the connection (or transaction) to run on.
public enum JobStore {
    /// The result of one enqueue.
    public struct Inserted: Sendable, Hashable {
        /// The new job's id, or the id of the job that made this one a duplicate.
        public var id: Int
        /// Whether a unique job of the same kind and key already existed (nothing was inserted).
        public var duplicate: Bool
    }

    /// One row waiting to be written by ``insert(_:on:)``.
    public struct NewJob: Sendable, Hashable {
        public var kind: String
        public var arguments: String
        public var options: JobOptions
    }

    /// Inserts one job. A unique job whose key is taken inserts nothing and returns the existing id.
    public static func insert(_ job: NewJob, on db: PostgresConnection) async throws -> Inserted {
        let options = job.options
        let states = options.uniqueKey == nil ? nil : options.uniqueStates.map(\.rawValue).sorted()
        let timeout = options.timeoutMilliseconds == 0 ? nil : options.timeoutMilliseconds
        let rows = try await db.query(
            """
            INSERT INTO jobs (queue, kind, args, state, priority, max_attempts, run_at, timeout_ms, unique_key, unique_states)
            VALUES (\(options.queue), \(job.kind), \(job.arguments)::jsonb,
                    CASE WHEN \(options.runAt)::timestamptz > now() THEN 'scheduled' ELSE 'available' END::job_state,
                    \(options.priority), \(options.maxAttempts), GREATEST(COALESCE(\(options.runAt), now()), now()),
                    \(timeout), \(options.uniqueKey), \(states)::job_state[])
            ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state = ANY (unique_states)
            DO UPDATE SET unique_key = EXCLUDED.unique_key
            RETURNING id, xmax::text <> '0'
            """)
        let (id, duplicate) = try rows.first!.decode((Int, Bool).self)
        return Inserted(id: id, duplicate: duplicate)
    }

    /// Inserts many jobs in one statement. Unique jobs whose key is taken are skipped.
    /// - Returns: the ids of the jobs inserted.
    public static func insertBatch(_ jobs: [NewJob], on db: PostgresConnection) async throws -> [Int] {
        guard !jobs.isEmpty else { return [] }
        let epoch = Date(timeIntervalSince1970: 0)
        let rows = try await db.query(
            """
            INSERT INTO jobs (queue, kind, args, state, priority, max_attempts, run_at, timeout_ms, unique_key, unique_states)
            SELECT queue, kind, args::jsonb,
                   CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END::job_state,
                   priority, max_attempts, GREATEST(run_at, now()), NULLIF(timeout_ms, 0),
                   NULLIF(unique_key, ''), CASE WHEN unique_key = '' THEN NULL ELSE string_to_array(unique_states, ',')::job_state[] END
            FROM unnest(\(jobs.map(\.options.queue)), \(jobs.map(\.kind)), \(jobs.map(\.arguments)),
                        \(jobs.map { $0.options.runAt ?? epoch }), \(jobs.map(\.options.priority)),
                        \(jobs.map(\.options.maxAttempts)), \(jobs.map(\.options.timeoutMilliseconds)),
                        \(jobs.map { $0.options.uniqueKey ?? "" }),
                        \(jobs.map { $0.options.uniqueStates.map(\.rawValue).sorted().joined(separator: ",") }))
                 AS j(queue, kind, args, run_at, priority, max_attempts, timeout_ms, unique_key, unique_states)
            ON CONFLICT (kind, unique_key) WHERE unique_key IS NOT NULL AND state = ANY (unique_states) DO NOTHING
            RETURNING id
            """)
        return try rows.decode(Int.self)
    }

    /// Claims up to `limit` available jobs of `queue` for `owner`, in priority then run_at order,
    /// skipping rows other workers hold.
    public static func claim(
        queue: String, limit: Int, owner: String, lease: Duration, on db: PostgresConnection
    ) async throws -> [Job] {
        let rows = try await db.query(
            """
            WITH ready AS (
                SELECT id FROM jobs
                WHERE state = 'available' AND queue = \(queue)
                ORDER BY priority, run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET state = 'running', attempt = jobs.attempt + 1, attempted_at = now(),
                   lease_owner = \(owner), lease_expires_at = now() + \(lease.milliseconds) * interval '1 millisecond'
            FROM ready WHERE jobs.id = ready.id
            RETURNING jobs.id, jobs.kind, jobs.queue, jobs.args::text, jobs.attempt, jobs.max_attempts, jobs.priority,
                      jobs.timeout_ms, jobs.created_at, jobs.run_at, jobs.attempted_at
            """)
        return try rows.map { row in
            let (id, kind, queue, arguments, attempt, maxAttempts, priority, timeout, createdAt, runAt, attemptedAt) =
                try row.decode((Int, String, String, String, Int, Int, Int, Int?, Date, Date, Date).self)
            return Job(
                id: id, kind: kind, queue: queue, arguments: arguments, attempt: attempt, maxAttempts: maxAttempts,
                priority: priority, timeout: timeout.map { .milliseconds($0) }, createdAt: createdAt, runAt: runAt,
                attemptedAt: attemptedAt)
        }
    }

    /// A finished attempt to record.
    public struct Completion: Sendable, Hashable {
        /// The claim whose run finished.
        public var claim: JobClaim
        public var transition: JobTransition
        /// The time `transition` was computed against; `runAt` is taken relative to it.
        public var now: Date

        public init(claim: JobClaim, transition: JobTransition, now: Date) {
            self.claim = claim
            self.transition = transition
            self.now = now
        }

        /// The job's id.
        public var jobID: Int { claim.jobID }
    }

    /// Records finished attempts in one statement. Only jobs still running under `owner` in the
    /// attempt of the completion's claim change, so a job rescued meanwhile and claimed again (by
    /// another worker or by this one) is left alone.
    /// - Returns: the ids that were updated.
    @discardableResult
    public static func complete(_ completions: [Completion], owner: String, on db: PostgresConnection) async throws -> [Int] {
        guard !completions.isEmpty else { return [] }
        let rows = try await db.query(
            """
            UPDATE jobs SET
                state = u.state::job_state,
                finished_at = CASE WHEN u.state IN ('completed', 'discarded', 'cancelled') THEN now() END,
                run_at = CASE WHEN u.delay_ms >= 0 THEN now() + u.delay_ms * interval '1 millisecond' ELSE jobs.run_at END,
                attempt = jobs.attempt + u.attempt_adjustment,
                errors = CASE WHEN u.message = '' THEN jobs.errors
                              ELSE jobs.errors || jsonb_build_array(jsonb_build_object(
                                  'attempt', jobs.attempt, 'at', now(), 'message', u.message)) END,
                lease_owner = NULL, lease_expires_at = NULL
            FROM unnest(\(completions.map(\.jobID)), \(completions.map(\.claim.attempt)),
                        \(completions.map(\.transition.state.rawValue)),
                        \(completions.map(delayMilliseconds)), \(completions.map(\.transition.attemptAdjustment)),
                        \(completions.map { $0.transition.errorMessage ?? "" }))
                 AS u(id, claimed_attempt, state, delay_ms, attempt_adjustment, message)
            WHERE jobs.id = u.id AND jobs.attempt = u.claimed_attempt AND jobs.state = 'running'
              AND jobs.lease_owner = \(owner)
            RETURNING jobs.id
            """)
        return try rows.decode(Int.self)
    }

    private static func delayMilliseconds(_ completion: Completion) -> Int {
        guard let runAt = completion.transition.runAt else { return -1 }
        return max(0, Int((runAt.timeIntervalSince(completion.now) * 1000).rounded()))
    }

    /// Renews the leases of the `claims` that `owner` still holds.
    /// - Returns: each claim still held, and whether an operator asked to cancel its job.
    public static func renewLeases(
        _ claims: [JobClaim], owner: String, lease: Duration, on db: PostgresConnection
    ) async throws -> [(claim: JobClaim, cancelRequested: Bool)] {
        guard !claims.isEmpty else { return [] }
        let rows = try await db.query(
            """
            UPDATE jobs SET lease_expires_at = now() + \(lease.milliseconds) * interval '1 millisecond'
            FROM unnest(\(claims.map(\.jobID)), \(claims.map(\.attempt))) AS c(id, attempt)
            WHERE jobs.id = c.id AND jobs.attempt = c.attempt AND jobs.state = 'running' AND jobs.lease_owner = \(owner)
            RETURNING jobs.id, jobs.attempt, jobs.cancel_requested
            """)
        return try rows.map { try $0.decode((Int, Int, Bool).self) }.map {
            (claim: JobClaim(jobID: $0.0, attempt: $0.1), cancelRequested: $0.2)
        }
    }

    /// Gives claimed jobs back without spending their attempt (used at shutdown).
    @discardableResult
    public static func release(_ claims: [JobClaim], owner: String, on db: PostgresConnection) async throws -> Int {
        guard !claims.isEmpty else { return 0 }
        return try await db.execute(
            """
            UPDATE jobs SET state = 'available', attempt = GREATEST(jobs.attempt - 1, 0), run_at = now(),
                   lease_owner = NULL, lease_expires_at = NULL, attempted_at = NULL
            FROM unnest(\(claims.map(\.jobID)), \(claims.map(\.attempt))) AS c(id, attempt)
            WHERE jobs.id = c.id AND jobs.attempt = c.attempt AND jobs.state = 'running' AND jobs.lease_owner = \(owner)
            """)
    }

    /// Moves scheduled and retryable jobs that are due to available.
    /// - Returns: the queues that received jobs (to notify their workers).
    /// - Parameters:
    ///   - asOf: the time to compare `run_at` with; nil means the database's `now()`.
    public static func promoteDue(limit: Int, asOf: Date? = nil, on db: PostgresConnection) async throws -> [String] {
        let rows = try await db.query(
            """
            WITH due AS (
                SELECT id FROM jobs WHERE state IN ('scheduled', 'retryable') AND run_at <= COALESCE(\(asOf), now())
                ORDER BY run_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET state = 'available' FROM due WHERE jobs.id = due.id
            RETURNING jobs.queue
            """)
        return Array(Set(try rows.decode(String.self)))
    }

    /// A running job whose lease expired.
    public struct Expired: Sendable, Hashable {
        public var id: Int
        public var attempt: Int
        public var maxAttempts: Int
    }

    /// Locks up to `limit` running jobs whose lease expired (call inside a transaction).
    /// - Parameters:
    ///   - asOf: the time leases are compared with; nil means the database's `now()`.
    public static func lockExpired(limit: Int, asOf: Date? = nil, on db: PostgresConnection) async throws -> [Expired] {
        let rows = try await db.query(
            """
            SELECT id, attempt, max_attempts FROM jobs
            WHERE state = 'running' AND lease_expires_at < COALESCE(\(asOf), now())
            ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """)
        return try rows.map { row in
            let (id, attempt, maxAttempts) = try row.decode((Int, Int, Int).self)
            return Expired(id: id, attempt: attempt, maxAttempts: maxAttempts)
        }
    }

    /// Writes rescue transitions for jobs locked by ``lockExpired(limit:on:)``, re-checking that
    /// each is still running with an expired lease (a job that finished meanwhile is left alone).
    /// A job an operator asked to cancel is cancelled rather than retried.
    @discardableResult
    public static func rescue(_ completions: [Completion], asOf: Date? = nil, on db: PostgresConnection) async throws -> Int {
        guard !completions.isEmpty else { return 0 }
        return try await db.execute(
            """
            UPDATE jobs SET
                state = CASE WHEN jobs.cancel_requested THEN 'cancelled' ELSE u.state::job_state END,
                finished_at = CASE WHEN jobs.cancel_requested OR u.state IN ('completed', 'discarded', 'cancelled')
                                   THEN now() END,
                run_at = CASE WHEN u.delay_ms >= 0 THEN now() + u.delay_ms * interval '1 millisecond' ELSE jobs.run_at END,
                errors = jobs.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', jobs.attempt, 'at', now(),
                    'message', CASE WHEN jobs.cancel_requested THEN 'cancelled by an operator; its worker stopped answering'
                                    ELSE u.message END)),
                lease_owner = NULL, lease_expires_at = NULL
            FROM unnest(\(completions.map(\.jobID)), \(completions.map(\.transition.state.rawValue)),
                        \(completions.map(delayMilliseconds)), \(completions.map { $0.transition.errorMessage ?? "lease expired" }))
                 AS u(id, state, delay_ms, message)
            WHERE jobs.id = u.id AND jobs.state = 'running' AND jobs.lease_expires_at < COALESCE(\(asOf), now())
            """)
    }

    /// Deletes up to `limit` finished jobs that finished more than `retention` ago.
    public static func prune(olderThan retention: Duration, limit: Int, on db: PostgresConnection) async throws -> Int {
        try await db.execute(
            """
            DELETE FROM jobs WHERE id IN (
                SELECT id FROM jobs
                WHERE state IN ('completed', 'discarded', 'cancelled')
                  AND finished_at < now() - \(retention.milliseconds) * interval '1 millisecond'
                LIMIT \(limit))
            """)
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int {
        Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }
}
