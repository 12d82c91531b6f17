import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Jiebang
import JiebangTesting
import Postgres
import Testing

@Suite("Killing the server in the middle of a submission burst")
struct BidKillTests {
    @Test("A jiebang serve killed with SIGKILL mid-burst leaves every bid whole: submitted with its receipt and audit row, or untouched")
    func killMidBurst() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let world = try await BidWorld.make(db, leads: 40, partners: 40, challenges: 1)
            var drafted: [Int] = []
            for (index, lead) in world.leads.enumerated() {
                drafted.append(try await world.consortium(lead: lead, partner: world.partners[index], challenge: world.challenges[0]))
            }
            let bids = drafted
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"]
            // The first server's sessions carry their own name, so the test can wait for their end.
            let killedName = "jiebang-killed-\(UInt32.random(in: 0...UInt32.max))"

            let port = try FreePort.next()
            let first = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"],
                environment: environment.merging(["PGAPPNAME": killedName]) { $1 })
            try await Self.waitUntilReady(port: port, process: first)
            let succeeded = Accepted()
            await withTaskGroup(of: Void.self) { group in
                for (index, bid) in bids.enumerated() {
                    let token = world.leads[index].token
                    group.addTask {
                        if (try? await Self.submit(bid: bid, token: token, port: port)) == 200 {
                            if await succeeded.add(bid) == 3 { first.send(SIGKILL) }
                        }
                    }
                }
            }
            #expect(await first.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
            // What the dead server had sent still runs to its end (a write with its COMMIT commits):
            // read the outcome once its sessions are gone.
            try await Self.waitForSessionsToEnd(named: killedName, db)
            let accepted = await succeeded.bids
            #expect(!accepted.isEmpty)
            try await Self.expectWhole(db)
            let submitted = Set(try await db.query("SELECT id FROM bids WHERE status = 'submitted'").decode(Int.self))
            #expect(Set(accepted).isSubset(of: submitted), "an answered submission was lost")

            let secondPort = try FreePort.next()
            let second = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(secondPort)"],
                environment: environment)
            try await Self.waitUntilReady(port: secondPort, process: second)
            for (index, bid) in bids.enumerated() where !submitted.contains(bid) {
                let status = try await Self.submit(bid: bid, token: world.leads[index].token, port: secondPort)
                #expect(status == 200)
            }
            second.send(SIGTERM)
            _ = await second.waitForExit()
            try await Self.expectWhole(db)
            let total = try await db.query("SELECT count(*) FROM bids WHERE status = 'submitted' AND version = 1").first!.decode(Int.self)
            #expect(total == bids.count)
        }
    }

    /// Every bid is either a draft with nothing written, or submitted with exactly its receipt, its audit row and live members.
    static func expectWhole(_ db: PostgresClient) async throws {
        let broken = try await db.query(
            """
            SELECT b.id FROM bids b
            WHERE (b.status = 'submitted') <> EXISTS (SELECT 1 FROM bid_submissions s WHERE s.bid_id = b.id AND s.version = b.version)
               OR (SELECT count(*) FROM bid_submissions s WHERE s.bid_id = b.id) <> b.version
               OR (SELECT count(*) FROM audit_log a WHERE a.entity = 'bid' AND a.entity_id = b.id::text AND a.action = 'bid.submit') <> b.version
               OR EXISTS (SELECT 1 FROM bid_members m WHERE m.bid_id = b.id
                          AND EXISTS (SELECT 1 FROM bid_live_units l WHERE l.bid_id = b.id AND l.unit_id = m.unit_id)
                              <> (b.status = 'submitted'))
            """
        ).decode(Int.self)
        #expect(broken.isEmpty, "bids half-written: \(broken)")
    }

    /// Waits until PostgreSQL has no session left with this application name.
    static func waitForSessionsToEnd(named name: String, _ db: PostgresClient) async throws {
        for _ in 0..<200 {
            let left = try await db.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = \(name)")
                .first!.decode(Int.self)
            if left == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the killed server's sessions did not end")
    }

    static func submit(bid: Int, token: String, port: Int) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/bids/\(bid)/submit")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 10
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }

    static func waitUntilReady(port: Int, process: ChildProcess) async throws {
        for _ in 0..<300 {
            if let status = await process.waitForExit(timeout: .zero) {
                Issue.record("jiebang serve exited with \(status) before it was ready: \(process.output)")
                throw CancellationError()
            }
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/readyz")!)
            request.timeoutInterval = 1
            if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("jiebang serve did not become ready: \(process.output)")
        throw CancellationError()
    }
}

/// The bids whose submission was answered 200.
actor Accepted {
    private(set) var bids: [Int] = []
    func add(_ bid: Int) -> Int {
        bids.append(bid)
        return bids.count
    }
}
