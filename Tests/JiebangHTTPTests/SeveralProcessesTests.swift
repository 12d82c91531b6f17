import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// Two `jiebang serve` and three `jiebang work` processes on one database, as a deployment past one machine runs.
@Suite("Several processes on one database")
struct SeveralProcessesTests {
    @Test(
        "Two serve and three work processes on one database keep every rule: one live bid per unit with submissions racing across the servers, each cron slot enqueued once, every e-mail job run once",
        .timeLimit(.minutes(4)))
    func severalProcesses() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            // Ten pairs of bids; the two bids of a pair name the same partner unit, on different challenges.
            let world = try await BidWorld.make(db, leads: 20, partners: 10, challenges: 2)
            var pairs: [(first: Int, second: Int)] = []
            for pair in 0..<10 {
                let first = try await world.consortium(
                    lead: world.leads[2 * pair], partner: world.partners[pair], challenge: world.challenges[0])
                let second = try await world.consortium(
                    lead: world.leads[2 * pair + 1], partner: world.partners[pair], challenge: world.challenges[1])
                pairs.append((first, second))
            }
            // Every schedule's last slot an hour ago: each worker finds the latest slot due as it starts.
            try await db.execute(
                """
                INSERT INTO cron_schedules (name, last_slot)
                SELECT name, date_trunc('minute', now()) - interval '1 hour'
                FROM unnest(ARRAY['challenges.close_expired', 'audit.seal']) AS name
                """)
            let sink = try await SMTPSink()
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = [
                "DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning",
                "SMTP_URL": "smtp://127.0.0.1:\(sink.port)", "MAIL_FROM": "揭榜挂帅平台 <noreply@example.gov.cn>",
                "JIEBANG_DB_POOL_SIZE": "6",
            ]
            var workers: [ChildProcess] = []
            var workerPorts: [Int] = []
            for _ in 0..<3 {
                let port = try FreePort.next()
                workers.append(
                    try ChildProcess(ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(port)"], environment: environment))
                workerPorts.append(port)
            }
            var servers: [RunningServer] = []
            for _ in 0..<2 {
                let port = try FreePort.next()
                let process = try ChildProcess(
                    ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"], environment: environment)
                servers.append(RunningServer(process: process, port: port, sessionName: ""))
            }
            for (worker, port) in zip(workers, workerPorts) { try await BidKillTests.waitUntilReady(port: port, process: worker) }
            for server in servers { try await BidKillTests.waitUntilReady(port: server.port, process: server.process) }

            // Both bids of each pair at once, one through each server.
            let leads = world.leads
            let answers = await withTaskGroup(of: (Int, Int).self) { group in
                for (index, pair) in pairs.enumerated() {
                    for (side, bid) in [pair.first, pair.second].enumerated() {
                        let port = servers[side].port
                        let token = leads[2 * index + side].token
                        group.addTask { (bid, (try? await BidKillTests.submit(bid: bid, token: token, port: port)) ?? 0) }
                    }
                }
                var answers: [Int: Int] = [:]
                for await (bid, status) in group { answers[bid] = status }
                return answers
            }
            for pair in pairs {
                let statuses = [answers[pair.first] ?? 0, answers[pair.second] ?? 0].sorted()
                #expect(statuses == [200, 409], "bids \(pair.first) and \(pair.second) share a partner: \(statuses)")
            }
            let shared = try await db.query(
                "SELECT unit_id FROM bid_live_units GROUP BY unit_id HAVING count(DISTINCT bid_id) > 1"
            ).decode(Int.self)
            #expect(shared.isEmpty, "units in two live bids: \(shared)")
            try await BidKillTests.expectWhole(db)

            // Each slot once, whichever worker moved the schedule forward. Only the two schedules set above are
            // counted: the ten-minute and daily ones insert their row when a slot of theirs falls during the test.
            let slots = try await eventually(timeout: .seconds(30)) {
                try await db.query(
                    """
                    SELECT count(*) FROM cron_schedules
                    WHERE name IN ('challenges.close_expired', 'audit.seal') AND last_slot > now() - interval '30 minutes'
                    """
                ).first!.decode(Int.self) == 2
            }
            #expect(slots)
            let repeated = try await db.query(
                "SELECT unique_key FROM jobs WHERE unique_key IS NOT NULL GROUP BY unique_key HAVING count(*) > 1"
            ).decode(String.self)
            #expect(repeated.isEmpty, "slots enqueued twice: \(repeated)")
            let cronJobs = try await db.query(
                "SELECT count(*) FROM jobs WHERE kind IN ('challenges.close_expired', 'audit.seal')"
            ).first!.decode(Int.self)
            #expect(cronJobs >= 2)

            // Forty e-mails, taken by whichever worker claims them first: each sent once.
            let recipients = leads.map(\.userID)
            try await db.execute(
                "UPDATE users SET email = 'lead' || id || '@example.com' WHERE id = ANY(\(recipients))")
            for round in 0..<2 {
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices(recipients, subject: "bid:\(round)"), on: tx)
                }
            }
            let sent = try await eventually(timeout: .seconds(90), poll: .milliseconds(200)) {
                try await db.query("SELECT count(*) FROM email_messages WHERE status = 'sent'").first!.decode(Int.self) == 40
            }
            #expect(sent, "\(workers.map(\.output))")
            let messages = try sink.messages()
            #expect(messages.count == 40)
            #expect(Set(messages.compactMap { $0.header("Message-ID") }).count == 40)
            let jobs = try await db.query(
                "SELECT count(*) FROM jobs WHERE kind = 'email.send' AND state = 'completed' AND attempt = 1"
            ).first!.decode(Int.self)
            #expect(jobs == 40)

            for server in servers { #expect(await server.stop() == 0) }
            for worker in workers { worker.send(SIGTERM) }
            for worker in workers { #expect(await worker.waitForExit(timeout: .seconds(60)) == 0) }
            await sink.stop()
        }
    }
}
