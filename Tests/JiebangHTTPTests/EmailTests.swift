import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import JobQueue
import Logging
import Postgres
import SMTP
import ServiceLifecycle
import Testing
import Workers

/// E-mails of notifications, sent by the product's job handlers through a real SMTP server (aiosmtpd).
@Suite("E-mail notifications")
struct EmailTests {
    static func smtp(_ port: Int) throws -> SMTPConfiguration {
        var configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)", sender: "揭榜挂帅平台 <noreply@example.gov.cn>")
        configuration.timeout = .seconds(10)
        return configuration
    }

    /// Runs the worker services `jiebang work` runs (maintenance, which moves due retries to available, and a
    /// worker) with `registry` while `body` runs.
    static func withWorkers<Value: Sendable>(
        _ db: PostgresClient, registry: JobRegistry, _ body: () async throws -> Value
    ) async throws -> Value {
        let services = buildWorkerServices(
            configuration: WorkerConfiguration(), database: db, jobs: JobClient(), registry: registry, logger: Logger(label: "test.worker"))
        return try await WebhookTests.withServices(services, body)
    }

    static func setEmail(_ address: String, login: String, _ db: PostgresClient) async throws {
        try await db.execute("UPDATE users SET email = \(address) WHERE login = \(login)")
    }

    static func row(_ db: PostgresClient) async throws -> (status: String, attempts: Int, code: Int?, error: String?) {
        try await db.query("SELECT status, attempts, last_reply_code, last_error FROM email_messages").first!
            .decode((String, Int, Int?, String?).self)
    }

    @Test(
        "An address set through the API gets each new notification once, in Chinese with its link and footer, and the log shows it sent",
        .timeLimit(.minutes(2)))
    func sentOnce() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let sink = try await SMTPSink()
            try await fixture.application().test(.router) { client in
                let refused = try await client.call(.put, "/v1/me/email", as: "adminA", fixture: fixture, json: ["email": "张三@example.com"])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.problemFields == ["email"])
                let set = try await client.call(
                    .put, "/v1/me/email", as: "adminA", fixture: fixture, json: ["email": "zhang.san@example.com"])
                #expect(set.status == .ok)
                #expect(set.object["email"] as? String == "zhang.san@example.com")
                let me = try await client.call(.get, "/v1/me", as: "adminA", fixture: fixture)
                #expect(me.object["email"] as? String == "zhang.san@example.com")

                let admin = try await WebhookTests.userID("admina", db)
                try await Self.withWorkers(db, registry: ProductJobs.registry(smtp: try Self.smtp(sink.port))) {
                    for _ in 0..<2 {
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:9"), on: tx)
                        }
                    }
                    #expect(try await eventually(timeout: .seconds(30)) { try await Self.row(db).status == "sent" })
                }
                let messages = try sink.messages()
                #expect(messages.count == 1)
                let message = try #require(messages.first)
                #expect(message.rcptTos == ["zhang.san@example.com"])
                #expect(message.mailFrom == "noreply@example.gov.cn")
                #expect(message.subject == "申请被退回修改")
                #expect(message.text?.contains("请按推荐单位意见修改后重新提交。") == true)
                #expect(message.text?.contains("相关事项：/v1/bids/1") == true)
                #expect(message.text?.contains("此邮件由揭榜挂帅平台自动发送") == true)
                #expect(message.header("Auto-Submitted") == "auto-generated")
                let id = try await db.query("SELECT id FROM email_messages").first!.decode(UUID.self)
                #expect(message.header("Message-ID") == "<\(id.uuidString.lowercased())@example.gov.cn>")

                let log = try await client.call(.get, "/v1/email-messages?status=sent", as: "admin", fixture: fixture)
                #expect(log.status == .ok)
                let item = try #require((log.object["items"] as? [[String: Any]])?.first)
                #expect(item["address"] as? String == "zhang.san@example.com")
                #expect(item["attempts"] as? Int == 1)
                #expect(item["occasion"] as? String == "bid.returned")
                #expect(try await client.call(.get, "/v1/email-messages", as: "adminA", fixture: fixture).status == .forbidden)

                // Without an address, a notification stays in the inbox only.
                #expect(try await client.call(.delete, "/v1/me/email", as: "adminA", fixture: fixture).object["email"] == nil)
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:10"), on: tx)
                }
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM email_messages") == 1)
            }
            await sink.stop()
        }
    }

    @Test(
        "The SMTP server down: each attempt fails and is logged, the job backs off, and the message is sent once the server is back",
        .timeLimit(.minutes(2)))
    func serverDownThenBack() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await APIFixture.make(db)
            try await Self.setEmail("li.si@example.com", login: "admina", db)
            let admin = try await WebhookTests.userID("admina", db)
            let port = try FreePort.next()
            let registry = ProductJobs.registry(
                smtp: try Self.smtp(port), emailRetry: .exponential(base: .milliseconds(500), maxDelay: .seconds(2)))
            try await Self.withWorkers(db, registry: registry) {
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:3"), on: tx)
                }
                #expect(try await eventually(timeout: .seconds(30)) { try await Self.row(db).attempts >= 2 })
                let failing = try await Self.row(db)
                #expect(failing.status == "pending")
                #expect(failing.code == nil)
                #expect(failing.error?.contains("cannot connect to 127.0.0.1:\(port)") == true)
                // Backoff: each failed attempt leaves the job retryable, due later than the attempt.
                let backoff = try await db.query(
                    """
                    SELECT state, run_at > (errors -> -1 ->> 'at')::timestamptz FROM jobs WHERE kind = 'email.send'
                    """
                ).first!.decode((String, Bool).self)
                #expect(backoff.0 == "retryable" || backoff.0 == "available" || backoff.0 == "running")
                #expect(backoff.1)

                let sink = try await SMTPSink(port: port)
                #expect(try await eventually(timeout: .seconds(30)) { try await Self.row(db).status == "sent" })
                let sent = try await Self.row(db)
                #expect(sent.attempts >= 3)
                #expect(sent.error == nil)
                #expect(try sink.messages().map(\.rcptTos) == [["li.si@example.com"]])
                await sink.stop()
            }
            #expect(try await WebhookTests.count(db, "SELECT count(*) FROM jobs WHERE kind = 'email.send' AND state = 'completed'") == 1)
        }
    }

    @Test(
        "A permanent refusal (550) is recorded with its code and not retried; a 451 is retried; no server configured fails at once with the reason",
        .timeLimit(.minutes(2)))
    func refusals() async throws {
        try await TestDatabase.withFreshDatabase { db in
            _ = try await APIFixture.make(db)
            let sink = try await SMTPSink()
            try await Self.setEmail("refuse.me@example.com", login: "admina", db)
            try await Self.setEmail("busy.now@example.com", login: "adminb", db)
            let adminA = try await WebhookTests.userID("admina", db)
            let adminB = try await WebhookTests.userID("adminb", db)
            let registry = ProductJobs.registry(
                smtp: try Self.smtp(sink.port), emailRetry: .exponential(base: .milliseconds(200), maxDelay: .milliseconds(400)))
            try await Self.withWorkers(db, registry: registry) {
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices([adminA, adminB], subject: "bid:4"), on: tx)
                }
                let settled = try await eventually(timeout: .seconds(60), poll: .milliseconds(100)) {
                    try await WebhookTests.count(db, "SELECT count(*) FROM email_messages WHERE status = 'failed'") == 2
                }
                #expect(settled)
            }
            let rows = try await db.query(
                "SELECT address, attempts, last_reply_code, last_error FROM email_messages ORDER BY address"
            ).decode((String, Int, Int?, String?).self)
            #expect(rows.map(\.0) == ["busy.now@example.com", "refuse.me@example.com"])
            // 451 is transient: every one of the job's 10 attempts tried, then it is discarded and failed.
            #expect(rows[0].1 == 10)
            #expect(rows[0].2 == 451)
            // 550 to the recipient is permanent: one attempt, and the job completed without retrying.
            #expect(rows[1].1 == 1)
            #expect(rows[1].2 == 550)
            #expect(rows[1].3 == "SMTP 550 5.1.1 mailbox unavailable (RCPT TO)")
            let states = try await db.query("SELECT state FROM jobs WHERE kind = 'email.send' ORDER BY state").decode(String.self)
            #expect(states == ["completed", "discarded"])
            #expect(try sink.messages().isEmpty)
            await sink.stop()
        }
        try await TestDatabase.withFreshDatabase { db in
            _ = try await APIFixture.make(db)
            try await Self.setEmail("wang@example.com", login: "admina", db)
            let admin = try await WebhookTests.userID("admina", db)
            try await Self.withWorkers(db, registry: ProductJobs.registry(smtp: nil)) {
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:5"), on: tx)
                }
                #expect(try await eventually(timeout: .seconds(30)) { try await Self.row(db).status == "failed" })
            }
            #expect(try await Self.row(db).error == "no SMTP server is configured (set SMTP_URL and MAIL_FROM)")
            #expect(try await WebhookTests.count(db, "SELECT count(*) FROM jobs WHERE kind = 'email.send' AND state = 'completed'") == 1)
        }
    }

    @Test(
        "The rules hold twice: Swift refuses a bad address naming email, the database refuses it too; one message per notification however it is written; a rolled-back notice e-mails no one"
    )
    func rulesTwice() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            for bad in [
                "a@b", "a b@example.com", "x@example.com\r\nRCPT TO:<y@example.com>", String(repeating: "a", count: 65) + "@example.com",
            ] {
                await #expect(throws: PostgresError.self) {
                    try await db.execute("UPDATE users SET email = \(bad) WHERE login = 'admina'")
                }
                #expect(MailAddress.problem(bad) != nil)
            }
            try await fixture.application().test(.router) { client in
                let created = try await client.call(
                    .post, "/v1/users", as: "admin", fixture: fixture,
                    json: [
                        "login": "mailer", "displayName": "邮件用户", "password": "correct horse battery staple", "role": "unit_member",
                        "unitID": fixture.unitA, "email": "bad address",
                    ])
                #expect(created.status == .unprocessableContent)
                #expect(created.problemFields == ["email"])
                try await Self.setEmail("zhao@example.com", login: "admina", db)
                let admin = try await WebhookTests.userID("admina", db)
                struct Rollback: Error {}
                await #expect(throws: Rollback.self) {
                    try await db.withTransaction { tx in
                        try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:6"), on: tx)
                        throw Rollback()
                    }
                }
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM email_messages") == 0)
                // The same notice written by many transactions at once: one notification, one message, one job.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            _ = try await db.withTransaction { tx in
                                try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:7"), on: tx)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM email_messages") == 1)
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM jobs WHERE kind = 'email.send'") == 1)
                let notification = try await db.query("SELECT notification_id FROM email_messages").first!.decode(Int.self)
                await #expect(throws: PostgresError.self) {
                    try await db.execute(
                        "INSERT INTO email_messages (notification_id, address) VALUES (\(notification), 'zhao@example.com')")
                }
            }
        }
    }

    @Test(
        "The same scan run by two processes at once, then delivered: one reminder in the inbox, one e-mail in the SMTP sink, one webhook delivery",
        .timeLimit(.minutes(3)))
    func scanTwoProcessesDeliversOnce() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let (world, _, deadline) = try await NotificationTests.draftOnChallenge(db)
            let lead = world.leads[0]
            try await db.execute("UPDATE users SET email = 'lead@example.com' WHERE id = \(lead.userID)")
            let sink = try await SMTPSink()
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                _ = try await db.withTransaction { try await WebhookStore.register(.init(url: url), by: lead.actor, on: $0) }
                let name = try await db.query("SELECT current_database()").first!.decode(String.self)
                let at = ISO8601DateFormatter().string(from: deadline - 3 * 86_400)
                let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin"]
                let outputs = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                    for _ in 0..<2 {
                        group.addTask { try CommandLineTests.run(["cron", "application-deadlines", "--at", at], environment: environment) }
                    }
                    return try await group.reduce(into: [(Int32, String)]()) { $0.append($1) }
                }
                #expect(outputs.map(\.0) == [0, 0], "\(outputs.map(\.1))")
                try await Self.withWorkers(db, registry: ProductJobs.registry(smtp: try Self.smtp(sink.port))) {
                    let delivered = try await eventually(timeout: .seconds(60), poll: .milliseconds(100)) {
                        let sent = try await WebhookTests.count(db, "SELECT count(*) FROM email_messages WHERE status = 'sent'")
                        let posted = try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")
                        return sent == 1 && posted == 1
                    }
                    #expect(delivered)
                }
                #expect(
                    try await WebhookTests.count(db, "SELECT count(*) FROM notifications WHERE occasion = 'application_deadline.t7'") == 1)
                #expect(try sink.messages().count == 1)
                #expect(try sink.messages().first?.subject?.contains("截止") == true)
                #expect(receiver.received.count == 1)
            }
            await sink.stop()
        }
    }
}
