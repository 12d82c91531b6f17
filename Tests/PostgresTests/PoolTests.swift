import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Connection pool")
struct PoolTests {
    @Test("100 concurrent tasks on a pool of 4 all complete", .timeLimit(.minutes(1)))
    func hundredTasksOnFour() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4) { pool in
            // The same pool with a longer acquire timeout: in a full parallel run on 2 CPUs the last of the
            // 100 waits behind 99 others on a starved machine, which is not what this test is about.
            var configuration = pool.configuration
            configuration.acquireTimeout = .seconds(50)
            let db = PostgresClient(configuration: configuration)
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        try await db.query("SELECT \(index) + 0 FROM pg_sleep(0.01)").first!.decode(Int.self)
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(results.sorted() == Array(0..<100))
            #expect(db.statistics.open <= 4)
            await db.close()
        }
    }

    @Test("Waiting longer than the acquire timeout fails with a clear error")
    func acquireTimeout() async throws {
        var configuration = try await TestDatabase.configuration(database: "postgres", maximumConnections: 1)
        configuration.acquireTimeout = .milliseconds(200)
        let db = PostgresClient(configuration: configuration)
        try await db.withConnection { _ in
            await #expect {
                _ = try await db.query("SELECT 1")
            } throws: { error in
                guard let error = error as? PostgresError else { return false }
                return error.code == .acquireTimeout && error.message.contains("in use")
            }
        }
        let one = try await db.query("SELECT 1").first?.decode(Int.self)
        #expect(one == 1)
        await db.close()
    }

    @Test("A connection whose backend was terminated is replaced without an error")
    func terminatedBackendIsReplaced() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            let first = try await db.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
            let killer = PostgresClient(configuration: db.configuration)
            _ = try await killer.query("SELECT pg_terminate_backend(\(first))")
            #expect(await eventually { (try? await killer.isGone(first)) == true })
            await killer.close()
            let second = try await db.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
            #expect(second != first)
        }
    }

    @Test("Cancelling the task cancels a long pg_sleep on the server", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 2) { db in
            let started = ContinuousClock.now
            let sleeper = Task { try await db.execute("SELECT pg_sleep(30)") }
            #expect(
                await eventually {
                    (try? await db.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)' AND state = 'active'"
                    ).first?.decode(Int.self)) == 1
                })
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(ContinuousClock.now - started < .seconds(10))
            let stillRunning = try await db.query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(30)' AND state = 'active'"
            ).first?.decode(Int.self)
            let five = try await db.query("SELECT 5").first?.decode(Int.self)
            #expect(stillRunning == 0)
            #expect(five == 5)
        }
    }

    @Test("A task cancelled before its query starts never runs it")
    func cancelledBeforeStart() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE marks (n int)")
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                try await db.execute("INSERT INTO marks VALUES (1)")
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            let marks = try await db.query("SELECT count(*) FROM marks").first?.decode(Int.self)
            #expect(marks == 0)
        }
    }

    @Test("A connection whose server refuses writes (25006, a demoted primary) is dropped and the next write gets a new one")
    func readOnlyConnectionIsReplaced() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int)")
            // The pool's one connection turns read-only, as every session of a primary demoted to a standby is.
            let first = try await db.withConnection { connection in
                try await connection.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                return try await connection.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
            }
            await #expect {
                try await db.execute("INSERT INTO marks VALUES (1)")
            } throws: { error in
                guard let error = error as? PostgresError else { return false }
                return error.sqlState?.code == "25006" && error.dropsConnection && error.isUnavailable
            }
            #expect(db.statistics.open == 0)
            try await db.withTransaction { try await $0.execute("INSERT INTO marks VALUES (2)") }
            let second = try await db.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
            let marks = try await db.query("SELECT array_agg(n)::text FROM marks").first?.decode(String.self)
            #expect(second != first)
            #expect(marks == "{2}")
        }
    }
}

extension PostgresClient {
    /// Whether the backend `pid` no longer appears in pg_stat_activity.
    func isGone(_ pid: Int32) async throws -> Bool {
        try await query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").first!.decode(Int.self) == 0
    }
}
