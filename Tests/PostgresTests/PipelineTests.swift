import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Transactions in fewer round trips: BEGIN with the first statement, COMMIT with the last")
struct PipelineTests {
    struct Rollback: Error {}

    @Test("The first statement runs inside the transaction its BEGIN opened, and commit(after:) commits the last with it")
    func beginAndCommitTravelWithStatements() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 2) { db in
            try await db.execute("CREATE TABLE marks (n int PRIMARY KEY)")
            let seenInside = try await db.withTransaction { tx in
                try await tx.execute("INSERT INTO marks VALUES (1)")
                let inside = try await tx.query("SELECT count(*) FROM marks").first!.decode(Int.self)
                // Another connection does not see the uncommitted row: the BEGIN took effect.
                let outside = try await db.query("SELECT count(*) FROM marks").first!.decode(Int.self)
                let rows = try await tx.commit(after: "INSERT INTO marks VALUES (2) RETURNING n")
                #expect(try rows.first!.decode(Int.self) == 2)
                return (inside, outside)
            }
            #expect(seenInside == (1, 0))
            #expect(try await db.query("SELECT n FROM marks ORDER BY n").decode(Int.self) == [1, 2])
        }
    }

    @Test("A transaction of one statement sends BEGIN, the statement and COMMIT together, and it is committed")
    func singleStatementTransaction() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int PRIMARY KEY)")
            let level = try await db.withTransaction(isolation: .serializable) { tx in
                try await tx.commit(after: "INSERT INTO marks VALUES (7) RETURNING current_setting('transaction_isolation')")
                    .first!.decode(String.self)
            }
            #expect(level == "serializable")
            #expect(try await db.query("SELECT n FROM marks").decode(Int.self) == [7])
            #expect(try await db.query("SELECT pg_current_xact_id_if_assigned() IS NULL").first!.decode(Bool.self))
        }
    }

    @Test("When the last statement fails, commit(after:) commits nothing, names the constraint, and the connection stays usable")
    func failingLastStatementCommitsNothing() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int CONSTRAINT marks_key PRIMARY KEY)")
            try await db.execute("INSERT INTO marks VALUES (1)")
            await #expect {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO marks VALUES (2)")
                    _ = try await tx.commit(after: "INSERT INTO marks VALUES (1)")
                }
            } throws: { ($0 as? PostgresError)?.constraint == "marks_key" }
            #expect(try await db.query("SELECT n FROM marks ORDER BY n").decode(Int.self) == [1])
            // The same (only) connection is out of the failed transaction.
            try await db.execute("INSERT INTO marks VALUES (3)")
            #expect(try await db.query("SELECT n FROM marks ORDER BY n").decode(Int.self) == [1, 3])
        }
    }

    @Test("When the first statement fails with BEGIN, the transaction is rolled back and the connection stays usable")
    func failingFirstStatementRollsBack() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int CONSTRAINT marks_positive CHECK (n > 0))")
            await #expect {
                try await db.withTransaction { tx in try await tx.execute("INSERT INTO marks VALUES (-1)") }
            } throws: { ($0 as? PostgresError)?.constraint == "marks_positive" }
            let open = try await db.query("SELECT count(*) FROM marks").first!.decode(Int.self)
            #expect(open == 0)
            try await db.withTransaction { tx in try await tx.execute("INSERT INTO marks VALUES (4)") }
            #expect(try await db.query("SELECT n FROM marks").decode(Int.self) == [4])
        }
    }

    @Test("A deferred constraint that fails at COMMIT is reported by commit(after:) and nothing is kept")
    func deferredConstraintFailsAtCommit() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute(
                "CREATE TABLE marks (n int CONSTRAINT marks_unique UNIQUE DEFERRABLE INITIALLY DEFERRED)")
            await #expect {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO marks VALUES (1)")
                    _ = try await tx.commit(after: "INSERT INTO marks VALUES (1)")
                }
            } throws: { ($0 as? PostgresError)?.constraint == "marks_unique" }
            #expect(try await db.query("SELECT count(*) FROM marks").first!.decode(Int.self) == 0)
        }
    }

    @Test("commit(after:) outside a transaction, a statement after it, and a nested transaction are refused")
    func misuseIsRefused() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int)")
            await #expect {
                try await db.withConnection { _ = try await $0.commit(after: "INSERT INTO marks VALUES (1)") }
            } throws: { ($0 as? PostgresError)?.code == .transaction }
            await #expect {
                try await db.withTransaction { tx in
                    _ = try await tx.commit(after: "INSERT INTO marks VALUES (2)")
                    try await tx.execute("INSERT INTO marks VALUES (3)")
                }
            } throws: { ($0 as? PostgresError)?.code == .transaction }
            await #expect {
                try await db.withTransaction { tx in
                    try await tx.withTransaction { try await $0.execute("INSERT INTO marks VALUES (4)") }
                }
            } throws: { ($0 as? PostgresError)?.code == .transaction }
            // Only the committed statement before the misuse is kept.
            #expect(try await db.query("SELECT n FROM marks").decode(Int.self) == [2])
        }
    }

    @Test("A body that runs no statement, or throws before one, sends nothing and leaves the connection idle")
    func emptyBody() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            let five = try await db.withTransaction { _ in 5 }
            #expect(five == 5)
            await #expect(throws: Rollback.self) { try await db.withTransaction { _ in throw Rollback() } }
            // No BEGIN was left behind: a savepoint needs a transaction block.
            await #expect { try await db.execute("SAVEPOINT probe") } throws: { ($0 as? PostgresError)?.sqlState?.code == "25P01" }
        }
    }

    @Test("A statement is prepared once per connection, though it travels in pipelines")
    func pipelinesReusePreparedStatements() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE marks (n int)")
            for n in 0..<20 {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO marks VALUES (\(n))")
                    _ = try await tx.commit(after: "SELECT count(*) FROM marks WHERE n <= \(n)")
                }
            }
            let prepared = try await db.query(
                """
                SELECT statement FROM pg_prepared_statements
                WHERE statement LIKE 'INSERT INTO marks%' OR statement LIKE 'SELECT count(*) FROM marks WHERE%'
                   OR statement IN ('BEGIN ISOLATION LEVEL READ COMMITTED', 'COMMIT')
                ORDER BY statement
                """
            ).decode(String.self)
            #expect(prepared.count == 4, "\(prepared)")
            #expect(try await db.query("SELECT count(*) FROM marks").first!.decode(Int.self) == 20)
        }
    }

    @Test("Cancelling a task waiting on commit(after:) cancels the statement on the server; nothing is kept", .timeLimit(.minutes(1)))
    func cancellationInPipeline() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 2) { db in
            try await db.execute("CREATE TABLE marks (n int)")
            let started = ContinuousClock.now
            let sleeper = Task {
                try await db.withTransaction { tx in
                    _ = try await tx.commit(after: "INSERT INTO marks SELECT 1 FROM pg_sleep(30)")
                }
            }
            #expect(await eventually {
                (try? await db.query(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND state = 'active' AND pid <> pg_backend_pid()"
                ).first?.decode(Int.self)) == 1
            })
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await db.query("SELECT count(*) FROM marks").first!.decode(Int.self) == 0)
        }
    }
}
