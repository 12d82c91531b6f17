import Foundation
import Glibc
import JiebangTesting
import Testing

@testable import Postgres

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

    @Test("The wake pipe, once closed, never writes again: a file that gets its descriptor numbers reads nothing")
    func wakePipeAfterClose() throws {
        // Other tests open files meanwhile: try until the new pipe gets the closed one's numbers (nearly always at once).
        var checked = 0
        for _ in 0..<100 where checked == 0 {
            let pipe = WakePipe()
            let (oldRead, oldWrite) = (pipe.readDescriptor, pipe.writeDescriptor)
            pipe.close()
            var fds: [Int32] = [-1, -1]
            #expect(Glibc.pipe(&fds) == 0)
            defer {
                Glibc.close(fds[0])
                Glibc.close(fds[1])
            }
            guard fds == [oldRead, oldWrite] else { continue }
            pipe.signal()
            pipe.signal()
            // A write to the old write end's number would land in the new pipe.
            var readEnd = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            #expect(Glibc.poll(&readEnd, 1, 50) == 0)
            checked += 1
        }
        #expect(checked == 1)
        let open = WakePipe()
        open.signal()
        open.signal()
        var signalled = pollfd(fd: open.readDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(Glibc.poll(&signalled, 1, 50) == 1)
        var bytes = [UInt8](repeating: 0, count: 4)
        #expect(Glibc.read(open.readDescriptor, &bytes, 4) == 1)
    }

    @Test("A listener whose backend is terminated again and again ends each time with an error and closes its pipe", .timeLimit(.minutes(1)))
    func terminatedRepeatedly() async throws {
        try await TestDatabase.withEmptyDatabase { db in
            for _ in 0..<20 {
                let notifications = try await db.listen(on: "jobs_ready")
                try await db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
                await #expect(throws: PostgresError.self) {
                    for try await _ in notifications {}
                }
            }
            #expect(await eventually {
                (try? await db.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").first?.decode(Int.self)) == 0
            })
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
