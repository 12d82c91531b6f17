public import Foundation
import Jiebang
public import Postgres

/// Databases for tests: each test gets its own, cloned from a migrated template.
///
/// The server is `JIEBANG_TEST_DATABASE_URL` (a connection string to a role
/// that may create databases) when set; otherwise a private cluster in
/// `.build/test-postgres`, started once and left running for later runs.
/// The template is migrated once per schema version; cloning it takes a few
/// milliseconds, so tests run in parallel and never see each other's rows.
public enum TestDatabase {
    /// The server's maintenance connection string (to its `postgres` database).
    public static func serverConnectionString() async throws -> String {
        try await server.value
    }

    private static let server = Task<String, any Error> {
        if let url = ProcessInfo.processInfo.environment["JIEBANG_TEST_DATABASE_URL"], !url.isEmpty {
            return url
        }
        let cluster = try testCluster()
        try await cluster.start()
        return cluster.connectionString(database: "postgres")
    }

    /// PgBouncer's connection string (no database name) when the pools go through it (`JIEBANG_TEST_PGBOUNCER=1`):
    /// in transaction pooling mode, in front of the private cluster. Databases are still created directly.
    private static let pooler = Task<String?, any Error> {
        guard TestPgBouncer.isEnabled else { return nil }
        guard (ProcessInfo.processInfo.environment["JIEBANG_TEST_DATABASE_URL"] ?? "").isEmpty else {
            throw TestPgBouncerError("JIEBANG_TEST_PGBOUNCER needs the private test cluster, not JIEBANG_TEST_DATABASE_URL")
        }
        _ = try await server.value
        return try await TestPgBouncer.start(inFrontOf: try testCluster())
    }

    /// Whether the pools run through PgBouncer in transaction mode (`JIEBANG_TEST_PGBOUNCER=1`).
    public static var runsBehindPooler: Bool { TestPgBouncer.isEnabled }

    /// PgBouncer's connection string (no database name) when the tests run behind it, else nil.
    public static func poolerConnectionString() async throws -> String? {
        try await pooler.value
    }

    /// A pool's configuration for database `name`: on the server, or through PgBouncer when the tests run behind it.
    private static func poolConfiguration(database name: String, maximumConnections: Int) async throws -> PostgresConfiguration {
        var configuration = PostgresConfiguration(
            connectionString: try await server.value, minimumConnections: 0, maximumConnections: maximumConnections)
        if let pooler = try await pooler.value {
            configuration.connectionString = pooler
            configuration.transactionPooling = true
        }
        configuration.databaseName = name
        return configuration
    }

    /// The private test cluster (fast, not durable).
    public static func testCluster() throws -> PostgresCluster {
        var configuration = PostgresCluster.Configuration(directory: packageRoot.appending(path: ".build/test-postgres"))
        configuration.durable = false
        // Swift Testing runs the suites' tests at once, each with pools of its own.
        configuration.maximumConnections = 600
        return try PostgresCluster(configuration: configuration)
    }

    /// The package's root folder.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let template = Task<String, any Error> {
        let server = try await TestDatabase.server.value
        let name = "jiebang_template_" + (try JiebangSchema.fingerprint()).prefix(12)
        let admin = PostgresClient(
            configuration: PostgresConfiguration(connectionString: server, minimumConnections: 0, maximumConnections: 1))
        do {
            try await admin.withConnection { connection in
                try await connection.execute("SELECT pg_advisory_lock(\(Int64(0x7465_7374)))")
                let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(name)").count > 0
                if !exists {
                    let building = name + "_building"
                    try await connection.execute(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(building) WITH (FORCE)"))
                    try await connection.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(building)"))
                    var configuration = PostgresConfiguration(connectionString: server, minimumConnections: 0, maximumConnections: 1)
                    configuration.databaseName = building
                    let client = PostgresClient(configuration: configuration)
                    do {
                        try await JiebangSchema.migrator(client: client).migrate()
                    } catch {
                        await client.close()
                        throw error
                    }
                    await client.close()
                    try await connection.execute(PostgresQuery(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(name)"))
                }
                try await connection.execute("SELECT pg_advisory_unlock(\(Int64(0x7465_7374)))")
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        return name
    }

    /// Runs `body` with a pool on a new database holding the migrated schema; drops it afterwards.
    /// - Parameters:
    ///   - maximumConnections: the pool's size. Default 8.
    public static func withFreshDatabase<Result: Sendable>(
        maximumConnections: Int = 8,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        try await withEmptyDatabase(template: try await template.value, maximumConnections: maximumConnections, body)
    }

    /// Runs `body` with a pool on a new database cloned from `template` (default: an empty one).
    ///   - poller: how the pool's event loop waits; nil is the standard one (`JIEBANG_POSTGRES_POLLER` or the platform's).
    public static func withEmptyDatabase<Result: Sendable>(
        template: String = "template1",
        maximumConnections: Int = 8,
        poller: PostgresPoller? = nil,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let server = try await TestDatabase.server.value
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let admin = PostgresClient(
            configuration: PostgresConfiguration(connectionString: server, minimumConnections: 0, maximumConnections: 1))
        defer { Task { await admin.close() } }
        try await admin.execute(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"))
        var configuration = try await poolConfiguration(database: String(name), maximumConnections: maximumConnections)
        // The whole suite runs at once on two CPUs: a test's own tasks may wait long for its small pool.
        configuration.acquireTimeout = .seconds(60)
        if let poller { configuration.poller = poller }
        let client = PostgresClient(configuration: configuration)
        let result: Result
        do {
            result = try await body(client)
        } catch {
            await client.close()
            _ = try? await admin.execute(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"))
            throw error
        }
        await client.close()
        try await admin.execute(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"))
        return result
    }

    /// The configuration for database `name` (through PgBouncer when the tests run behind it), for clients a test makes itself.
    public static func configuration(database name: String, maximumConnections: Int = 4) async throws -> PostgresConfiguration {
        try await poolConfiguration(database: name, maximumConnections: maximumConnections)
    }
}
