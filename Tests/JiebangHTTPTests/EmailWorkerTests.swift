import Foundation
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// An e-mail sent by real `jiebang work` processes configured by SMTP_URL and MAIL_FROM, the first killed
/// while the SMTP server holds its message.
@Suite("E-mail sent by real workers")
struct EmailWorkerTests {
    @Test(
        "A worker killed with SIGKILL after the server took the message and before its answer: a second worker sends it again with the same Message-ID, and the log shows it sent once",
        .timeLimit(.minutes(3)))
    func killedWorkerResends() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            _ = try await APIFixture.make(db)
            try await db.execute("UPDATE users SET email = 'sun@example.com' WHERE login = 'admina'")
            let admin = try await WebhookTests.userID("admina", db)
            let hold = FileManager.default.temporaryDirectory.appending(path: "smtp-hold-\(UUID().uuidString.prefix(8))")
            FileManager.default.createFile(atPath: hold.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: hold) }
            let sink = try await SMTPSink(hold: hold)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = [
                "DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning",
                "SMTP_URL": "smtp://127.0.0.1:\(sink.port)", "MAIL_FROM": "揭榜挂帅平台 <noreply@example.gov.cn>",
            ]
            let killedName = "jiebang-killed-\(UInt32.random(in: 0...UInt32.max))"
            let port = try FreePort.next()
            let first = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(port)"],
                environment: environment.merging(["PGAPPNAME": killedName]) { $1 })
            try await BidKillTests.waitUntilReady(port: port, process: first)
            try await db.withTransaction { tx in
                try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:8"), on: tx)
            }
            #expect(try await eventually(timeout: .seconds(30)) { sink.output.contains("holding") }, "\(first.output)")
            first.send(SIGKILL)
            #expect(await first.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
            try await BidKillTests.waitForSessionsToEnd(named: killedName, db)
            #expect(try await EmailTests.row(db).status == "pending")
            // The server has the message; its answer is lost with the client.
            #expect(try sink.messages().count == 1)
            try FileManager.default.removeItem(at: hold)
            // Time passes: the dead worker's lease runs out.
            try await db.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE kind = 'email.send'")

            let secondPort = try FreePort.next()
            let second = try ChildProcess(
                ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(secondPort)"], environment: environment)
            try await BidKillTests.waitUntilReady(port: secondPort, process: second)
            let sent = try await eventually(timeout: .seconds(90), poll: .milliseconds(200)) {
                // The backoff after the rescue passes at once.
                try await db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'email.send' AND state = 'retryable'")
                return try await EmailTests.row(db).status == "sent"
            }
            #expect(sent, "\(second.output)")
            second.send(SIGTERM)
            _ = await second.waitForExit(timeout: .seconds(60))

            let messages = try sink.messages()
            #expect(messages.count == 2)
            #expect(Set(messages.compactMap { $0.header("Message-ID") }).count == 1)
            #expect(messages.allSatisfy { $0.subject == "申请被退回修改" && $0.rcptTos == ["sun@example.com"] })
            let row = try await EmailTests.row(db)
            #expect(row.attempts == 2)
            #expect(row.error == nil)
            #expect(try await WebhookTests.count(db, "SELECT count(*) FROM email_messages") == 1)
            #expect(try await WebhookTests.count(db, "SELECT count(*) FROM jobs WHERE kind = 'email.send' AND state = 'completed'") == 1)
            await sink.stop()
        }
    }
}
