import Foundation
import HTTPTypes
import HummingbirdTesting
import Jiebang
import JiebangTesting
import Postgres
import Testing

/// A webhook delivery run by real `jiebang work` processes, the first killed mid-delivery, and a receiver
/// that does not answer in time.
@Suite("Webhook deliveries run by real workers")
struct WebhookWorkerTests {
    @Test("A receiver that does not answer within 10 s fails the attempt as timed out; the next attempt delivers", .timeLimit(.minutes(2)))
    func timeout() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            receiver.hold(true)
            try await receiver.run { url in
                try await fixture.application().test(.router) { client in
                    let (endpoint, _) = try await WebhookTests.register(url, as: "adminA", fixture, client)
                    let admin = try await WebhookTests.userID("admina", db)
                    try await WebhookTests.withWorker(db) {
                        let started = ContinuousClock.now
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:9"), on: tx)
                        }
                        let failed = try await eventually(timeout: .seconds(40), poll: .milliseconds(100)) {
                            try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE attempts = 1") == 1
                        }
                        #expect(failed)
                        #expect(ContinuousClock.now - started >= .seconds(9))
                        let error = try await db.query("SELECT last_error FROM webhook_deliveries").first!.decode(String?.self)
                        #expect(error == "timed out after 10 s")
                        receiver.hold(false)
                        try await db.execute(
                            "UPDATE jobs SET state = 'available', run_at = now() WHERE kind = 'webhook.deliver' AND state = 'retryable'")
                        #expect(try await eventually(timeout: .seconds(30)) {
                            try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 1
                        })
                    }
                    let log = try await client.call(.get, "/v1/webhooks/\(endpoint)/deliveries", as: "adminA", fixture: fixture)
                    let item = try #require((log.object["items"] as? [[String: Any]])?.first)
                    #expect(item["attempts"] as? Int == 2)
                    #expect(item["status"] as? String == "delivered")
                    #expect(receiver.received.count == 2)
                }
            }
        }
    }

    @Test("A worker killed with SIGKILL while the receiver holds the request open: a second worker re-sends the same delivery id, and the log shows one success", .timeLimit(.minutes(3)))
    func killedWorkerResends() async throws {
        let server = try await TestDatabase.serverConnectionString()
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let name = try await db.query("SELECT current_database()").first!.decode(String.self)
            let environment = ["DATABASE_URL": server + " dbname=\(name)", "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"]
            let admin = try await WebhookTests.userID("admina", db)
            let receiver = WebhookReceiver()
            receiver.hold(true)
            try await receiver.run { url in
                let actor = Actor(userID: admin, displayName: "adminA", role: .unitAdmin, unitID: fixture.unitA, bureauID: nil, regionCode: "620100")
                let created = try await db.withTransaction { try await WebhookStore.register(.init(url: url), by: actor, on: $0) }
                let killedName = "jiebang-killed-\(UInt32.random(in: 0...UInt32.max))"
                let port = try FreePort.next()
                let first = try ChildProcess(
                    ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(port)"],
                    environment: environment.merging(["PGAPPNAME": killedName]) { $1 })
                try await BidKillTests.waitUntilReady(port: port, process: first)
                try await db.withTransaction { tx in
                    try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:7"), on: tx)
                }
                #expect(try await eventually(timeout: .seconds(30)) { receiver.received.count == 1 }, "\(first.output)")
                first.send(SIGKILL)
                #expect(await first.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
                try await BidKillTests.waitForSessionsToEnd(named: killedName, db)
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'") == 1)
                // Time passes: the dead worker's lease runs out.
                try await db.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE kind = 'webhook.deliver'")
                receiver.hold(false)

                let secondPort = try FreePort.next()
                let second = try ChildProcess(ChildProcess.builtProduct("jiebang"), ["work", "--port", "\(secondPort)"], environment: environment)
                try await BidKillTests.waitUntilReady(port: secondPort, process: second)
                let delivered = try await eventually(timeout: .seconds(90), poll: .milliseconds(200)) {
                    // The backoff after the rescue passes at once.
                    try await db.execute("UPDATE jobs SET run_at = now() WHERE kind = 'webhook.deliver' AND state = 'retryable'")
                    return try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 1
                }
                #expect(delivered, "\(second.output)")
                second.send(SIGTERM)
                _ = await second.waitForExit(timeout: .seconds(60))

                let received = receiver.received
                #expect(received.count == 2)
                #expect(Set(received.map(\.deliveryHeader)).count == 1)
                #expect(received.allSatisfy { WebhookReceiver.verifies($0, secret: created.secret) })
                let log = try await db.withConnection { try await WebhookStore.deliveries(endpointID: created.endpoint.id, by: actor, on: $0) }
                #expect(log.count == 1)
                #expect(log.first?.status == "delivered")
                #expect(log.first?.attempts == 2)
                #expect(log.first?.lastStatus == 204)
                #expect(try await WebhookTests.count(db, "SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver' AND state = 'completed'") == 1)
            }
        }
    }
}
