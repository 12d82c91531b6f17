import Foundation
import JiebangTesting
import JobQueue
import Logging
import Postgres
import Testing

/// The queue behind a pooler in transaction mode (PgBouncer's `pool_mode = transaction`), where no session outlives
/// its transaction. `scripts/test` runs every queue test once more through a real PgBouncer; these run in both passes.
@Suite("The queue behind a transaction pooler")
struct PoolerTests {
    /// `db`'s configuration as a pool behind a transaction pooler: PgBouncer's own in the PgBouncer pass, the
    /// server treated as one otherwise (unnamed statements, no startup options, no LISTEN).
    static func pooled(_ db: PostgresClient, direct: Bool, maximumConnections: Int = 12) async throws -> PostgresClient {
        var configuration = db.configuration
        configuration.transactionPooling = true
        configuration.maximumConnections = maximumConnections
        if direct {
            configuration.directConnectionString = try await TestDatabase.serverConnectionString()
        }
        return PostgresClient(configuration: configuration)
    }

    static let listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"

    @Test(
        "Without a direct connection the workers hold no LISTEN connection and still run each job once, by polling",
        .timeLimit(.minutes(2)))
    func pollsOnly() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await createEffectsTable(db)
            let pooled = try await Self.pooled(db, direct: false)
            var configuration = WorkerConfiguration()
            configuration.queues = ["default": 10]
            configuration.worker = testWorkerConfiguration()
            configuration.worker.pollInterval = .milliseconds(200)
            let services = buildWorkerServices(
                configuration: configuration, database: pooled, jobs: JobClient(), registry: testRegistry(), logger: Logger(label: "test"))
            #expect(services.compactMap { $0 as? JobWakeups }.isEmpty)
            try await withRunning(services) {
                _ = try await db.withTransaction { tx in
                    try await JobClient().enqueue(batch: (0..<100).map { RecordEffect(label: "\($0)") }, on: tx)
                }
                #expect(await eventually(timeout: .seconds(60)) { (try? await db.count("SELECT count(*) FROM effects")) == 100 })
                #expect(try await db.count(PostgresQuery(unsafeSQL: Self.listening)) == 0)
            }
            await pooled.close()
            #expect(try await db.count("SELECT count(*) FROM jobs WHERE state = 'completed' AND attempt = 1") == 100)
            #expect(try await db.count("SELECT count(*) FROM effects") == 100)
        }
    }

    @Test(
        "With a direct connection the workers listen on it and a job on an idle queue is picked up at once",
        .timeLimit(.minutes(1)))
    func listensOnTheDirectConnection() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await createEffectsTable(db)
            let pooled = try await Self.pooled(db, direct: true)
            var configuration = WorkerConfiguration()
            configuration.queues = ["default": 2]
            configuration.worker = testWorkerConfiguration()
            // A minute between polls: only a notification can wake the worker within the test's seconds.
            configuration.worker.pollInterval = .seconds(60)
            configuration.maintenance.promoteInterval = .seconds(60)
            let services = buildWorkerServices(
                configuration: configuration, database: pooled, jobs: JobClient(), registry: testRegistry(), logger: Logger(label: "test"))
            #expect(services.compactMap { $0 as? JobWakeups }.count == 1)
            try await withRunning(services) {
                #expect(await eventually { (try? await db.count(PostgresQuery(unsafeSQL: Self.listening))) == 1 })
                try await Task.sleep(for: .milliseconds(300))
                let job = try await JobClient().enqueue(RecordEffect(label: "now"), using: db)
                #expect(await eventually(timeout: .seconds(10)) { (try? await db.jobState(job.id)) == .completed })
            }
            await pooled.close()
        }
    }

    @Test("Without a direct connection LISTEN is refused with the reason; with one it listens there")
    func listenNeedsASession() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let pooled = try await Self.pooled(db, direct: false)
            await #expect {
                _ = try await pooled.listen(on: JobClient.channel)
            } throws: { error in
                "\(error)".contains("LISTEN needs a session of its own")
            }
            await pooled.close()
            let direct = try await Self.pooled(db, direct: true)
            let notifications = try await direct.listen(on: "pooler_test")
            try await db.notify("pooler_test", payload: "hello")
            var received: String?
            for try await notification in notifications {
                received = notification.payload
                break
            }
            #expect(received == "hello")
            await direct.close()
        }
    }

    @Test("The migrator migrates over the direct connection, and without one refuses what is due but passes when nothing is")
    func migratesOverTheDirectConnection() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let migrations = [
                Migration(version: 1, name: "units", sql: "CREATE TABLE units (id bigint PRIMARY KEY);"),
                Migration(version: 2, name: "bids", sql: "CREATE TABLE bids (id bigint PRIMARY KEY, unit_id bigint REFERENCES units);"),
            ]
            let pooled = try await Self.pooled(db, direct: false)
            await #expect {
                try await Migrator(client: pooled, migrations: migrations).migrate()
            } throws: { error in
                "\(error)".contains("2 migration(s)") && "\(error)".contains("direct connection")
            }
            #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename IN ('units', 'bids')") == 0)
            let direct = try await Self.pooled(db, direct: true)
            #expect(try await Migrator(client: direct, migrations: migrations).migrate().map(\.version) == [1, 2])
            #expect(try await Migrator(client: pooled, migrations: migrations).migrate().isEmpty)
            #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename IN ('units', 'bids')") == 2)
            await pooled.close()
            await direct.close()
        }
    }
}
