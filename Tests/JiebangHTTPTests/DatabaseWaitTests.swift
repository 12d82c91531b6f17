import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Requests that wait on the database: timeouts answer 503, shutdown cancels")
struct DatabaseWaitTests {
    @Test("A request whose statement waits past the lock timeout answers 503 problem+json with Retry-After and frees its connection", .timeLimit(.minutes(2)))
    func lockTimeoutAnswers503() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            // One pooled connection: if the timed-out request kept it, the next request could not run.
            let server = try await RunningServer.start(
                on: db, arguments: ["--pool-size", "1"], environment: ["JIEBANG_DB_LOCK_TIMEOUT": "0.5"])
            let token = world.leads[0].token
            try await db.withTransaction { holder in
                try await holder.execute("SELECT 1 FROM bids WHERE id = \(bid) FOR UPDATE")
                let started = ContinuousClock.now
                let blocked = try await server.send("POST", "/v1/bids/\(bid)/submit", token: token, timeout: 60)
                // Without the lock timeout it would wait as long as the lock is held (the whole test).
                #expect(ContinuousClock.now - started < .seconds(30))
                #expect(blocked.status == 503)
                #expect(blocked.headers["content-type"]?.hasPrefix("application/problem+json") == true)
                #expect(blocked.headers["retry-after"] == "1")
                let problem = try JSONSerialization.jsonObject(with: blocked.body) as? [String: Any]
                #expect(problem?["status"] as? Int == 503)
                let board = try await server.send("GET", "/v1/board/challenges", timeout: 10)
                #expect(board.status == 200)
            }
            let submit = try await server.send("POST", "/v1/bids/\(bid)/submit", token: token, timeout: 20)
            #expect(submit.status == 200)
            #expect(await server.stop() == 0)
        }
    }

    @Test("SIGTERM during a request stuck on a lock, with no timeouts, cancels it after the shutdown grace and the server exits", .timeLimit(.minutes(2)))
    func shutdownCancelsWhatStillRuns() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 1, partners: 1)
            let bid = try await world.consortium(lead: world.leads[0], partner: world.partners[0], challenge: world.challenges[0])
            let server = try await RunningServer.start(
                on: db,
                environment: [
                    "JIEBANG_DB_LOCK_TIMEOUT": "0", "JIEBANG_DB_STATEMENT_TIMEOUT": "0", "JIEBANG_SHUTDOWN_GRACE": "1",
                ])
            let token = world.leads[0].token
            try await db.withTransaction { holder in
                try await holder.execute("SELECT 1 FROM bids WHERE id = \(bid) FOR UPDATE")
                let stuck = Task { try? await server.send("POST", "/v1/bids/\(bid)/submit", token: token, timeout: 60) }
                try await Self.waitForLockWait(of: server.sessionName, db)
                let started = ContinuousClock.now
                let status = await server.stop(timeout: .seconds(40))
                #expect(status == 0, "\(server.process.output.suffix(2000))")
                #expect(ContinuousClock.now - started < .seconds(30))
                _ = await stuck.value
            }
            try await BidKillTests.waitForSessionsToEnd(named: server.sessionName, db)
            let status = try await db.query("SELECT status::text FROM bids WHERE id = \(bid)").first!.decode(String.self)
            #expect(status == "draft")
        }
    }

    /// Waits until a session named `name` waits for a lock.
    static func waitForLockWait(of name: String, _ db: PostgresClient) async throws {
        for _ in 0..<200 {
            let waiting = try await db.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = \(name) AND wait_event_type = 'Lock'"
            ).first!.decode(Int.self)
            if waiting > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no session of the server waited for the lock")
        throw CancellationError()
    }
}
