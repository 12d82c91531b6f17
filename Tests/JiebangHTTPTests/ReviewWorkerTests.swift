import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// The draw job run by real `jiebang work` processes, one of them killed, and `jiebang review verify-draw`.
@Suite("Review draws run by real workers")
struct ReviewWorkerTests {
    @Test("A worker killed with SIGKILL while it holds the draw job loses nothing: a second worker applies the draw once, and verify-draw confirms it or names a tampered seat")
    func killedWorkerAndVerifyDraw() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let world = try await ReviewWorld.make(db, bids: 4, experts: 12)
            let round = try await world.round(panelSize: 3, alternates: 1, q: "1/2")
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"]
            let killedName = "jiebang-killed-\(UInt32.random(in: 0...UInt32.max))"
            let port = try FreePort.next()
            let first = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(port)"],
                environment: environment.merging(["PGAPPNAME": killedName]) { $1 })
            try await BidKillTests.waitUntilReady(port: port, process: first)

            // Hold the pool's rows before the draw is requested, so however fast the worker is, the job solves and samples,
            // then waits for them as it writes the seats, when it is killed.
            try await db.withTransaction { tx in
                try await tx.execute("SELECT 1 FROM experts FOR UPDATE")
                _ = try await db.withTransaction {
                    try await ReviewRoundStore.requestDraw(roundID: round, dryRun: false, by: world.publisher, on: $0)
                }
                let claimed = try await eventually(timeout: .seconds(30)) {
                    try await db.query(
                        """
                        SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = \(killedName) AND wait_event_type = 'Lock'
                        """
                    ).first!.decode(Int.self) == 1
                }
                #expect(claimed, "\(first.output)")
                first.send(SIGKILL)
                #expect(await first.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
            }
            try await BidKillTests.waitForSessionsToEnd(named: killedName, db)
            #expect(try await world.active(round).isEmpty)
            let state = try await db.query("SELECT state::text FROM jobs WHERE kind = 'review.draw'").first!.decode(String.self)
            #expect(state == "running")
            // Time passes: the dead worker's lease runs out.
            try await db.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE kind = 'review.draw'")

            let secondPort = try FreePort.next()
            let second = try ChildProcess(ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(secondPort)"], environment: environment)
            try await BidKillTests.waitUntilReady(port: secondPort, process: second)
            let applied = try await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
                try await db.query("SELECT status FROM review_draws WHERE round_id = \(round)").first!.decode(String.self) == "applied"
            }
            #expect(applied, "\(second.output)")
            second.send(SIGTERM)
            _ = await second.waitForExit(timeout: .seconds(60))
            let applications = try await db.query("SELECT count(*) FROM audit_log WHERE action = 'review_draw.apply'").first!.decode(Int.self)
            #expect(applications == 1)
            #expect(try await world.active(round).count == 16)

            let verified = try CommandLineTests.run(["review", "verify-draw", "\(round)"], environment: environment)
            #expect(verified.status == 0, "\(verified.output)")
            #expect(verified.output.contains("draw 1: reproduced"))
            try await db.withTransaction { tx in
                try await tx.execute("SET LOCAL session_replication_role = replica")
                try await tx.execute(
                    """
                    UPDATE review_assignments SET role = CASE role WHEN 'panel' THEN 'alternate' ELSE 'panel' END
                    WHERE round_id = \(round) AND bid_id = \(world.bidIDs[0])
                    """)
            }
            let tampered = try CommandLineTests.run(["review", "verify-draw", "\(round)", "--draw", "1"], environment: environment)
            #expect(tampered.status == 1)
            #expect(tampered.output.contains("MISMATCH: the applied assignments differ"))
            let missing = try CommandLineTests.run(["review", "verify-draw", "\(round + 1)"], environment: environment)
            #expect(missing.status != 0)
            #expect(missing.output.contains("has no draws"))
        }
    }
}
