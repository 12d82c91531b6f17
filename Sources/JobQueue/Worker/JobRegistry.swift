import Foundation
public import Postgres

/// The handlers a worker runs, by job kind.
///
/// A handler either runs on its own (its effects must be idempotent, since a
/// job can run again after a crash), or inside a transaction that also marks
/// the job completed: then its database effects and the completion commit
/// together, and a job whose lease was lost meanwhile rolls them back.
public struct JobRegistry: Sendable {
    /// How a handler runs.
    enum Body: Sendable {
        case plain(@Sendable (Job) async throws -> Void)
        case transactional(@Sendable (Job, PostgresConnection) async throws -> Void)
    }

    /// One registered kind.
    struct Entry: Sendable {
        var retry: RetryPolicy
        var timeout: Duration?
        var body: Body
    }

    private(set) var entries: [String: Entry] = [:]

    /// An empty registry.
    public init() {}

    /// The registered kinds.
    public var kinds: [String] { entries.keys.sorted() }

    /// Registers a handler for `Arguments.kind`.
    /// - Parameters:
    ///   - retry: the backoff after a failure. Default: attempt⁴ seconds ± 10%. How many attempts a job
    ///     gets is not the registration's to say: it is the job's stored `max_attempts` (`JobOptions.maxAttempts`).
    ///   - timeout: how long one attempt may run, unless the job sets its own. Default none.
    ///   - handler: the work; throw `JobSnooze` or `JobCancel` to snooze or cancel, anything else to fail.
    public mutating func register<Arguments: JobArguments>(
        _ type: Arguments.Type, retry: RetryPolicy = .default, timeout: Duration? = nil,
        _ handler: @escaping @Sendable (Job, Arguments) async throws -> Void
    ) {
        entries[Arguments.kind] = Entry(
            retry: retry, timeout: timeout,
            body: .plain { job in try await handler(job, try Self.decode(Arguments.self, job)) })
    }

    /// Registers a handler whose database effects commit in one transaction with the job's completion.
    /// `retry` is the backoff only, as for `register`: the job's stored `max_attempts` limits its attempts.
    public mutating func registerTransactional<Arguments: JobArguments>(
        _ type: Arguments.Type, retry: RetryPolicy = .default, timeout: Duration? = nil,
        _ handler: @escaping @Sendable (Job, Arguments, PostgresConnection) async throws -> Void
    ) {
        entries[Arguments.kind] = Entry(
            retry: retry, timeout: timeout,
            body: .transactional { job, db in try await handler(job, try Self.decode(Arguments.self, job), db) })
    }

    func entry(for kind: String) -> Entry? { entries[kind] }

    private static func decode<Arguments: JobArguments>(_ type: Arguments.Type, _ job: Job) throws -> Arguments {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(Arguments.self, from: Data(job.arguments.utf8))
        } catch {
            throw JobCancel("arguments do not decode as \(Arguments.self): \(error)")
        }
    }
}
