import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Transactions")
struct TransactionTests {
    struct Rollback: Error {}

    @Test("A transaction commits when its body returns and rolls back when it throws")
    func commitAndRollback() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE demands (id bigint PRIMARY KEY)")
            try await db.withTransaction { tx in try await tx.execute("INSERT INTO demands VALUES (1)") }
            await #expect(throws: Rollback.self) {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO demands VALUES (2)")
                    throw Rollback()
                }
            }
            let ids = try await db.query("SELECT id FROM demands ORDER BY id").decode(Int.self)
            #expect(ids == [1])
        }
    }

    @Test("A transaction whose failed statement was swallowed does not report a commit")
    func swallowedFailureDoesNotCommit() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            try await db.execute("CREATE TABLE demands (id bigint PRIMARY KEY)")
            await #expect {
                try await db.withTransaction { tx in
                    try await tx.execute("INSERT INTO demands VALUES (1)")
                    _ = try? await tx.execute("INSERT INTO demands VALUES (1)")
                }
            } throws: { ($0 as? PostgresError)?.code == .transaction }
            let count = try await db.query("SELECT count(*) FROM demands").first?.decode(Int.self)
            #expect(count == 0)
        }
    }

    @Test("The isolation level is the one asked for")
    func isolationLevel() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let level = try await db.withTransaction(isolation: .serializable, readOnly: true) { tx in
                try await tx.query("SHOW transaction_isolation").first!.decode(String.self)
            }
            #expect(level == "serializable")
        }
    }

    @Test("Conflicting serializable transactions are retried until all succeed")
    func serializationFailuresAreRetried() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 8) { db in
            try await db.execute("CREATE TABLE counter (n bigint NOT NULL)")
            try await db.execute("INSERT INTO counter VALUES (0)")
            let attempts = AttemptCounter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await db.withRetryingTransaction(maxAttempts: 50) { tx in
                            attempts.increment()
                            let n = try await tx.query("SELECT n FROM counter").first!.decode(Int.self)
                            try await tx.execute("UPDATE counter SET n = \(n + 1)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.query("SELECT n FROM counter").first?.decode(Int.self) == 8)
            #expect(attempts.value >= 8)
        }
    }

    @Test("A deadlock is reported with SQLSTATE 40P01 and is transient")
    func deadlockIsTransient() {
        var error = PostgresError(code: .server, message: "deadlock detected", sqlState: .deadlockDetected)
        #expect(error.isTransient)
        error.sqlState = .uniqueViolation
        #expect(!error.isTransient)
    }
}

/// A thread-safe counter for tests.
final class AttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
