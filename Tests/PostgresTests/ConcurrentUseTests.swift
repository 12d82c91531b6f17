import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("One connection used by several tasks at once")
struct ConcurrentUseTests {
    @Test("Statements sent at once on one connection run one after the other and each gets its own rows", .timeLimit(.minutes(1)))
    func concurrentStatementsQueue() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.withConnection { connection in
                async let first = connection.query("SELECT 1, pg_sleep(0.2)::text").first!.decode((Int, String).self).0
                async let second = connection.query("SELECT 2, pg_sleep(0.1)::text").first!.decode((Int, String).self).0
                async let third = connection.query("SELECT 3").first!.decode(Int.self)
                let values = try await [first, second, third]
                #expect(values == [1, 2, 3])
            }
        }
    }

    @Test("Two async let statements in one transaction both run inside it and commit together", .timeLimit(.minutes(1)))
    func concurrentStatementsInTransaction() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.execute("CREATE TABLE bids (id bigint PRIMARY KEY)")
            let transactions = try await db.withTransaction { tx in
                async let first = tx.query("INSERT INTO bids SELECT 1 FROM pg_sleep(0.2) RETURNING txid_current()")
                    .first!.decode(Int64.self)
                async let second = tx.query("INSERT INTO bids VALUES (2) RETURNING txid_current()").first!.decode(Int64.self)
                return try await [first, second]
            }
            #expect(transactions[0] == transactions[1])
            #expect(try await db.query("SELECT id FROM bids ORDER BY id").decode(Int.self) == [1, 2])
        }
    }

    @Test("Twenty tasks sharing one connection all finish, in the order they queued, with none lost", .timeLimit(.minutes(1)))
    func manyTasksShareOneConnection() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { db in
            try await db.withConnection { connection in
                let values = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<20 {
                        group.addTask { try await connection.query("SELECT \(index)::int").first!.decode(Int.self) }
                    }
                    var values: [Int] = []
                    for try await value in group { values.append(value) }
                    return values
                }
                #expect(values.sorted() == Array(0..<20))
            }
        }
    }

    @Test("A task cancelled while it waits for the connection stops waiting and the others go on", .timeLimit(.minutes(1)))
    func cancelledWaiterLeaves() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 2) { db in
            try await db.withConnection { holder in
                // The slow statement waits for a lock the other connection holds, however loaded the machine.
                try await holder.execute("SELECT pg_advisory_lock(4242)")
                try await db.withConnection { connection in
                    async let slow = connection.query("SELECT pg_advisory_lock(4242)::text")
                    #expect(
                        await eventually(timeout: .seconds(50)) {
                            (try? await holder.query(
                                """
                                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                """
                            ).first?.decode(Int.self)) == 1
                        })
                    let waiter = Task { try await connection.query("SELECT 2").first!.decode(Int.self) }
                    try await Task.sleep(for: .milliseconds(50))
                    waiter.cancel()
                    await #expect(throws: CancellationError.self) { try await waiter.value }
                    try await holder.execute("SELECT pg_advisory_unlock(4242)")
                    _ = try await slow
                    #expect(try await connection.query("SELECT 3").first!.decode(Int.self) == 3)
                }
            }
        }
    }
}
