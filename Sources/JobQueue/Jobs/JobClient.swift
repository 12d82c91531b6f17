import Foundation
public import Postgres
import Synchronization

/// Enqueues jobs, inside the caller's transaction.
///
/// The domain writes its rows and enqueues the follow-up job on the same
/// connection, in one transaction: a rollback enqueues nothing. Workers are
/// woken by a `NOTIFY` sent in that transaction (delivered at commit),
/// at most one per queue per `notifyInterval` from this process.
public final class JobClient: Sendable {
    /// The channel workers listen on; the payload is the queue's name.
    public static let channel = "jiebang_jobs"

    /// The shortest time between two notifications for one queue. Default 100 ms.
    public let notifyInterval: Duration
    private let lastNotified = Mutex<[String: ContinuousClock.Instant]>([:])
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Creates a client.
    public init(notifyInterval: Duration = .milliseconds(100)) {
        self.notifyInterval = notifyInterval
    }

    /// Enqueues one job on `db` (a connection inside the caller's transaction, or not).
    /// - Parameters:
    ///   - arguments: the job's typed arguments.
    ///   - options: queue, priority, schedule, uniqueness; nil uses the kind's defaults.
    /// - Returns: the job's id, and whether it was a duplicate of a unique job (then nothing was inserted).
    /// - Throws: `JobQueueError` for invalid options; `PostgresError` from the database.
    @discardableResult
    public func enqueue<Arguments: JobArguments>(
        _ arguments: Arguments, options: JobOptions? = nil, on db: PostgresConnection
    ) async throws -> JobStore.Inserted {
        let options = options ?? Arguments.defaultOptions
        try options.validate()
        let inserted = try await JobStore.insert(
            .init(kind: Arguments.kind, arguments: try encode(arguments), options: options), on: db)
        if !inserted.duplicate {
            JobMetrics.enqueued(kind: Arguments.kind, count: 1)
            if options.runAt.map({ $0 <= Date() }) ?? true { try await notify(queues: [options.queue], on: db) }
        }
        return inserted
    }

    /// Enqueues many jobs of one kind in one statement; unique ones whose key is taken are skipped.
    /// - Returns: the ids inserted.
    @discardableResult
    public func enqueue<Arguments: JobArguments>(
        batch: [Arguments], options: JobOptions? = nil, on db: PostgresConnection
    ) async throws -> [Int] {
        let options = options ?? Arguments.defaultOptions
        try options.validate()
        var seen = Set<String>()
        var jobs: [JobStore.NewJob] = []
        jobs.reserveCapacity(batch.count)
        for arguments in batch {
            var jobOptions = options
            if let key = options.uniqueKey {
                // One batch cannot hold the same unique key twice.
                guard seen.insert(key).inserted else { continue }
                jobOptions.uniqueKey = key
            }
            jobs.append(.init(kind: Arguments.kind, arguments: try encode(arguments), options: jobOptions))
        }
        let ids = try await JobStore.insertBatch(jobs, on: db)
        JobMetrics.enqueued(kind: Arguments.kind, count: ids.count)
        if !ids.isEmpty && (options.runAt.map { $0 <= Date() } ?? true) {
            try await notify(queues: [options.queue], on: db)
        }
        return ids
    }

    /// Enqueues one job in a transaction of its own.
    @discardableResult
    public func enqueue<Arguments: JobArguments>(
        _ arguments: Arguments, options: JobOptions? = nil, using client: PostgresClient
    ) async throws -> JobStore.Inserted {
        try await client.withTransaction { try await self.enqueue(arguments, options: options, on: $0) }
    }

    /// Sends one notification per queue unless one was sent for it within `notifyInterval`.
    func notify(queues: [String], on db: PostgresConnection) async throws {
        let now = ContinuousClock.now
        let due = lastNotified.withLock { last in
            queues.filter { queue in
                if let previous = last[queue], now - previous < notifyInterval { return false }
                last[queue] = now
                return true
            }
        }
        for queue in due {
            try await db.execute("SELECT pg_notify(\(Self.channel), \(queue))")
        }
    }

    private func encode(_ arguments: some JobArguments) throws -> String {
        do {
            return String(decoding: try Self.encoder.encode(arguments), as: UTF8.self)
        } catch {
            throw JobQueueError(.invalidArguments, "arguments of \(type(of: arguments).kind) do not encode as JSON: \(error)")
        }
    }
}
