import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("LISTEN and NOTIFY")
struct ListenTests {
    @Test("A notification sent after listen returns is delivered, with its payload", .timeLimit(.minutes(1)))
    func delivers() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let notifications = try await db.listen(on: "jobs_ready")
            try await db.notify("jobs_ready", payload: "审核")
            var iterator = notifications.makeAsyncIterator()
            let received = try await iterator.next()
            #expect(received?.channel == "jobs_ready")
            #expect(received?.payload == "审核")
        }
    }

    @Test("A notification inside a rolled-back transaction is never delivered", .timeLimit(.minutes(1)))
    func rollbackSendsNothing() async throws {
        struct Abort: Error {}
        try await TestDatabase.withEmptyDatabase { db in
            let notifications = try await db.listen(on: "jobs_ready")
            _ = try? await db.withTransaction { tx in
                try await tx.execute("SELECT pg_notify('jobs_ready', 'rolled back')")
                throw Abort()
            }
            try await db.withTransaction { tx in try await tx.execute("SELECT pg_notify('jobs_ready', 'committed')") }
            var iterator = notifications.makeAsyncIterator()
            #expect(try await iterator.next()?.payload == "committed")
        }
    }

    @Test("The sequence ends with an error when the listening connection is terminated", .timeLimit(.minutes(1)))
    func endsWhenConnectionDies() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let notifications = try await db.listen(on: "jobs_ready")
            #expect(await eventually {
                (try? await db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").first?.decode(Int.self)) == 1
            })
            try await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
            await #expect(throws: PostgresError.self) {
                for try await _ in notifications {}
            }
        }
    }

    @Test("Stopping iteration closes the listening connection", .timeLimit(.minutes(1)))
    func stoppingClosesConnection() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            let task = Task {
                for try await _ in try await db.listen(on: "jobs_ready") {}
            }
            #expect(await eventually {
                (try? await db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").first?.decode(Int.self)) == 1
            })
            task.cancel()
            #expect(await eventually {
                (try? await db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").first?.decode(Int.self)) == 0
            })
        }
    }
}
