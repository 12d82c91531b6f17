import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("The event loop's pollers: epoll (Linux) and the portable poll(2)")
struct PollerTests {
    @Test("The standard poller is the one JIEBANG_POSTGRES_POLLER names, else the platform's (epoll on Linux)")
    func standardPoller() throws {
        let named = ProcessInfo.processInfo.environment[PostgresPoller.environmentVariable] ?? ""
        let expected = named.isEmpty ? PostgresPoller.platformDefault : PostgresPoller(rawValue: named)
        #expect(PostgresPoller.standard == expected)
        #if os(Linux)
            #expect(PostgresPoller.platformDefault == .epoll)
        #endif
    }

    @Test("A poller's name is epoll or poll; anything else is refused with the reason, and empty means unset")
    func parsing() throws {
        #expect(try PostgresPoller.parse("poll") == .poll)
        #expect(try PostgresPoller.parse("") == nil)
        #expect(try PostgresPoller.parse(nil) == nil)
        #expect(throws: PostgresPoller.Invalid.self) { try PostgresPoller.parse("kqueue") }
        #expect(throws: PostgresPoller.Invalid.self) { try PostgresPoller.parse("EPOLL") }
    }

    @Test(
        "Each poller runs 64 concurrent statements on a pool of 4, a 6 MiB parameter and result, a pipelined transaction and a cancel",
        .timeLimit(.minutes(1)), arguments: PostgresPoller.allCases)
    func pollerDrivesStatements(poller: PostgresPoller) async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4, poller: poller) { db in
            #expect(db.configuration.poller == poller)
            let sums = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<64 {
                    group.addTask { try await db.query("SELECT \(index)::int + 1").first!.decode(Int.self) }
                }
                return try await group.reduce(0, +)
            }
            #expect(sums == (1...64).reduce(0, +))

            // Larger than the socket's buffers both ways: the loop waits for writability, then reads many times.
            let data = Data((0..<(6 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            #expect(try await db.query("SELECT \(data)::bytea").first!.decode(Data.self) == data)

            try await db.execute("CREATE TABLE bids (id bigint PRIMARY KEY)")
            try await db.withTransaction { tx in
                try await tx.execute("INSERT INTO bids VALUES (1)")
                _ = try await tx.commit(after: "INSERT INTO bids VALUES (2)")
            }
            #expect(try await db.query("SELECT count(*)::int FROM bids").first!.decode(Int.self) == 2)

            let sleeper = Task { try await db.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await db.query("SELECT 7").first!.decode(Int.self) == 7)
        }
    }

    @Test(
        "Each poller reports a backend terminated mid-statement as a lost connection, and the pool goes on",
        .timeLimit(.minutes(1)), arguments: PostgresPoller.allCases)
    func pollerSeesTerminatedBackend(poller: PostgresPoller) async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 2, poller: poller) { db in
            try await db.withConnection { connection in
                let pid = connection.backendPID
                let slow = Task { try await connection.query("SELECT pg_sleep(30)") }
                try await Task.sleep(for: .milliseconds(300))
                try await db.withConnection { other in
                    _ = try await other.query("SELECT pg_terminate_backend(\(pid))")
                }
                await #expect(throws: PostgresError.self) { _ = try await slow.value }
            }
            #expect(try await db.query("SELECT 8").first!.decode(Int.self) == 8)
        }
    }

    @Test(
        "Each poller reopens an idle connection whose backend was terminated while it sat in the pool, with no error",
        .timeLimit(.minutes(1)), arguments: PostgresPoller.allCases)
    func pollerReopensTerminatedIdleConnection(poller: PostgresPoller) async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1, poller: poller) { db in
            for _ in 0..<3 {
                let pid = try await db.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
                let killer = PostgresClient(configuration: db.configuration)
                _ = try await killer.query("SELECT pg_terminate_backend(\(pid))")
                #expect(await eventually { (try? await killer.isGone(pid)) == true })
                await killer.close()
                let next = try await db.query("SELECT pg_backend_pid()").first!.decode(Int32.self)
                #expect(next != pid)
            }
        }
    }

    @Test(
        "Tasks that prefer the client's executor each stay on one of its loop threads, and their statements, large ones too, work",
        .timeLimit(.minutes(1)), arguments: PostgresPoller.allCases)
    func tasksOnTheClientsExecutor(poller: PostgresPoller) async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4, poller: poller) { db in
            let data = Data((0..<(3 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            let outcomes = try await withThrowingTaskGroup(of: (Int, Set<UInt>, Bool).self) { group in
                for index in 0..<32 {
                    group.addTask(executorPreference: db.executor) {
                        var threads: Set<UInt> = [UInt(pthread_self())]
                        var sum = 0
                        for step in 0..<20 {
                            sum += try await db.query("SELECT \(index * 100 + step)::int").first!.decode(Int.self)
                            threads.insert(UInt(pthread_self()))
                        }
                        var large = true
                        if index % 8 == 0 {
                            large = try await db.query("SELECT \(data)::bytea").first!.decode(Data.self) == data
                            threads.insert(UInt(pthread_self()))
                        }
                        return (sum, threads, large)
                    }
                }
                var outcomes: [(Int, Set<UInt>, Bool)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            let expected = (0..<32).map { index in (0..<20).map { index * 100 + $0 }.reduce(0, +) }.reduce(0, +)
            #expect(outcomes.map(\.0).reduce(0, +) == expected)
            let allLarge = outcomes.allSatisfy { $0.2 }
            let threads = outcomes.reduce(into: Set<UInt>()) { $0.formUnion($1.1) }
            #expect(allLarge)
            #expect(outcomes.allSatisfy { $0.1.count == 1 })
            #expect(threads.count == min(db.configuration.eventLoops, 32))
        }
    }
}
