import Foundation
import JobQueue
import Logging
import Postgres
import ServiceLifecycle

/// A job whose handler writes one row into `effects`, in the job's transaction.
struct RecordEffect: JobArguments {
    static let kind = "test.record_effect"
    var label: String
}

/// A job whose handler does what its arguments say.
struct Scripted: JobArguments {
    static let kind = "test.scripted"
    enum Action: String, Codable, Sendable { case succeed, fail, snooze, cancel, sleep }
    var action: Action
    var sleepMilliseconds: Int = 0
}

/// Creates the table that `RecordEffect` writes to.
func createEffectsTable(_ db: PostgresClient) async throws {
    try await db.execute("CREATE TABLE effects (job_id bigint PRIMARY KEY, label text NOT NULL)")
}

/// A registry with the test handlers.
func testRegistry() -> JobRegistry {
    var registry = JobRegistry()
    registry.registerTransactional(RecordEffect.self, retry: .fixed(.zero)) { job, arguments, db in
        try await db.execute("INSERT INTO effects (job_id, label) VALUES (\(job.id), \(arguments.label))")
    }
    registry.register(Scripted.self, retry: .fixed(.seconds(60))) { job, arguments in
        switch arguments.action {
        case .succeed: return
        case .fail: throw ScriptedFailure(attempt: job.attempt)
        case .snooze: throw JobSnooze(.seconds(120))
        case .cancel: throw JobCancel("not needed any more")
        case .sleep: try await Task.sleep(for: .milliseconds(arguments.sleepMilliseconds))
        }
    }
    return registry
}

struct ScriptedFailure: Error, CustomStringConvertible {
    var attempt: Int
    var description: String { "scripted failure on attempt \(attempt)" }
}

/// Runs `worker` (and any other services) in a service group for the duration of `body`,
/// then shuts it down gracefully.
func withRunning<Result: Sendable>(
    _ services: [any Service], _ body: () async throws -> Result
) async throws -> Result {
    let group = ServiceGroup(
        configuration: .init(services: services.map { .init(service: $0) }, logger: Logger(label: "test")))
    let running = Task { try await group.run() }
    do {
        let result = try await body()
        await group.triggerGracefulShutdown()
        try await running.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

extension PostgresClient {
    /// The state of job `id`.
    func jobState(_ id: Int) async throws -> JobState? {
        try await query("SELECT state::text FROM jobs WHERE id = \(id)").first
            .map { JobState(rawValue: try $0.decode(String.self))! }
    }

    /// An integer from a one-row, one-column query.
    func count(_ query: PostgresQuery) async throws -> Int {
        try await self.query(query).first!.decode(Int.self)
    }
}

/// A worker configuration for tests: fast polling and short leases.
func testWorkerConfiguration(concurrency: Int = 10) -> JobWorker.Configuration {
    var configuration = JobWorker.Configuration()
    configuration.concurrency = concurrency
    configuration.pollInterval = .milliseconds(100)
    configuration.leaseDuration = .seconds(5)
    configuration.drainTimeout = .seconds(2)
    return configuration
}
