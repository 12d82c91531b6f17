import Foundation
import JobQueue
import Postgres

/// A job that does nothing: the queue's own cost.
struct NoopJob: JobArguments {
    static let kind = "bench.noop"
    var slot: Date?
}

/// A job whose effect is one row in `bench_effects`, committed with the job's completion.
/// It sleeps first, so that tests can kill its worker in the middle.
struct EffectJob: JobArguments {
    static let kind = "bench.effect"
    var label: String
    var sleepMilliseconds: Int = 0
}

/// The handlers of the benchmark and test worker.
func benchRegistry(onNoop: @escaping @Sendable () -> Void = {}) -> JobRegistry {
    var registry = JobRegistry()
    registry.register(NoopJob.self) { _, _ in onNoop() }
    registry.registerTransactional(EffectJob.self, retry: .fixed(.milliseconds(200))) { job, arguments, db in
        if arguments.sleepMilliseconds > 0 {
            try await Task.sleep(for: .milliseconds(arguments.sleepMilliseconds))
        }
        try await db.execute("INSERT INTO bench_effects (job_id, label) VALUES (\(job.id), \(arguments.label))")
    }
    return registry
}

/// Creates `bench_effects` unless it exists.
func createEffectsTable(_ db: PostgresClient) async throws {
    do {
        try await db.execute(
            "CREATE TABLE IF NOT EXISTS bench_effects (job_id bigint PRIMARY KEY, label text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
    } catch let error as PostgresError where error.sqlState == .uniqueViolation || error.sqlState == "42P07" {
        // Another process created it at the same moment.
    }
}

/// Reads `--name value` pairs.
struct Arguments {
    private var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            values[name] = iterator.next() ?? ""
        }
    }

    func string(_ name: String, default value: String) -> String { values[name] ?? value }
    func int(_ name: String, default value: Int) -> Int { values[name].flatMap { Int($0) } ?? value }
    func optional(_ name: String) -> String? { values[name] }
}

/// A pool for `--connection` (a libpq string), `--database` and `--pooling` (`session` or `transaction`).
func makeClient(_ arguments: Arguments, maximumConnections: Int) -> PostgresClient {
    var configuration = PostgresConfiguration(
        connectionString: arguments.string("--connection", default: ""), minimumConnections: 0,
        maximumConnections: maximumConnections)
    configuration.databaseName = arguments.optional("--database")
    // `--pooling transaction`: the connection string is PgBouncer in transaction mode.
    configuration.transactionPooling = arguments.optional("--pooling") == "transaction"
    return PostgresClient(configuration: configuration)
}
