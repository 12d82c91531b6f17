public import Foundation
public import Logging
public import Postgres
public import ServiceLifecycle

/// The queue's housekeeping, safe to run in every worker process at once:
/// promotes due scheduled and retryable jobs, rescues running jobs whose
/// lease expired, and prunes finished jobs after a retention period, each in
/// small batches under `FOR UPDATE SKIP LOCKED`.
public struct JobMaintenance: Service {
    /// Intervals, batch sizes and retention.
    public struct Configuration: Sendable {
        /// How often due jobs are promoted. Default 1 second.
        public var promoteInterval: Duration = .seconds(1)
        /// How often expired leases are looked for. Default 10 seconds.
        public var rescueInterval: Duration = .seconds(10)
        /// How often finished jobs are pruned. Default 1 minute.
        public var pruneInterval: Duration = .seconds(60)
        /// How often the counts of unfinished jobs by state and kind are measured. Default 15 seconds.
        public var statisticsInterval: Duration = .seconds(15)
        /// How long finished jobs are kept. Default 7 days.
        public var retention: Duration = .seconds(7 * 86_400)
        /// Rows per statement. Default 1,000.
        public var batchSize = 1_000
        /// The backoff for rescued jobs. Default attempt⁴ seconds ± 10%.
        public var retry: RetryPolicy = .default

        /// The defaults.
        public init() {}
    }

    let client: PostgresClient
    let jobs: JobClient
    let configuration: Configuration
    let logger: Logger
    /// Maintenance runs failing in a row: logged when they start and when they end.
    let failures = FailureStreak("queue maintenance")
    let now: @Sendable () -> Date

    /// Creates the service.
    public init(
        client: PostgresClient, jobs: JobClient, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "jiebang.jobs.maintenance"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.jobs = jobs
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await every(configuration.promoteInterval) { _ = try await promoteOnce() } }
                group.addTask { await every(configuration.rescueInterval) { _ = try await rescueOnce() } }
                group.addTask { await every(configuration.pruneInterval) { _ = try await pruneOnce() } }
                group.addTask {
                    var reported = Set<[String]>()
                    await every(configuration.statisticsInterval) { reported = try await measureOnce(previously: reported) }
                }
                await group.waitForAll()
            }
        }
    }

    /// Promotes due jobs until none is left, notifying each queue that received some.
    /// - Parameters:
    ///   - asOf: the time to promote against; nil means the database's clock.
    /// - Returns: how many queues were notified.
    public func promoteOnce(asOf: Date? = nil) async throws -> Int {
        var queues = Set<String>()
        while true {
            let promoted = try await client.withTransaction { db in
                let queues = try await JobStore.promoteDue(limit: configuration.batchSize, asOf: asOf, on: db)
                try await jobs.notify(queues: queues, on: db)
                return queues
            }
            queues.formUnion(promoted)
            if promoted.isEmpty { return queues.count }
            if promoted.count < configuration.batchSize { return queues.count }
        }
    }

    /// Rescues running jobs whose lease expired: retryable with backoff, or discarded after the last attempt.
    /// - Parameters:
    ///   - asOf: the time leases are compared with; nil means the database's clock.
    /// - Returns: how many jobs were rescued.
    public func rescueOnce(asOf: Date? = nil) async throws -> Int {
        var total = 0
        while true {
            let rescued = try await client.withTransaction { db in
                let expired = try await JobStore.lockExpired(limit: configuration.batchSize, asOf: asOf, on: db)
                let now = asOf ?? self.now()
                var random = SystemRandomNumberGenerator()
                let completions = expired.map { job in
                    JobStore.Completion(
                        claim: JobClaim(jobID: job.id, attempt: job.attempt),
                        transition: JobTransition.rescue(
                            attempt: job.attempt, maxAttempts: job.maxAttempts, now: now, policy: configuration.retry,
                            random: &random),
                        now: now)
                }
                return try await JobStore.rescue(completions, asOf: asOf, on: db)
            }
            if rescued > 0 { logger.notice("rescued jobs whose lease expired", metadata: ["count": "\(rescued)"]) }
            total += rescued
            if rescued < configuration.batchSize { return total }
        }
    }

    /// Reports the number of unfinished jobs by state and kind; pairs that vanished are reported as 0.
    /// - Returns: the (state, kind) pairs reported.
    func measureOnce(previously: Set<[String]>) async throws -> Set<[String]> {
        let rows = try await client.query(
            "SELECT state::text, kind, count(*) FROM jobs WHERE state IN ('available', 'scheduled', 'running', 'retryable') GROUP BY 1, 2")
        var reported = Set<[String]>()
        for row in rows {
            let (state, kind, count) = try row.decode((String, String, Int).self)
            JobMetrics.count(state: state, kind: kind, count)
            reported.insert([state, kind])
        }
        for pair in previously.subtracting(reported) { JobMetrics.count(state: pair[0], kind: pair[1], 0) }
        return reported
    }

    /// Deletes finished jobs older than the retention period, in batches.
    /// - Returns: how many were deleted.
    public func pruneOnce() async throws -> Int {
        var total = 0
        while true {
            let deleted = try await client.withConnection { db in
                try await JobStore.prune(olderThan: configuration.retention, limit: configuration.batchSize, on: db)
            }
            total += deleted
            if deleted < configuration.batchSize { return total }
        }
    }

    private func every(_ interval: Duration, _ body: () async throws -> Void) async {
        while !Task.isCancelled {
            do {
                try await body()
                failures.succeeded(logger: logger)
            } catch {
                if Task.isCancelled { return }
                failures.failed(error, logger: logger)
            }
            try? await Task.sleep(for: interval * Double.random(in: 0.9...1.1))
        }
    }
}
