import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Jiebang
import JiebangTesting
import JobQueue
import Logging
import Postgres
import ServiceLifecycle
import Testing
import Workers

@Suite("Webhooks")
struct WebhookTests {
    /// A notice to each of `users`.
    static func notices(_ users: [Int], subject: String, occasion: Occasion = .bidReturned) -> [NotificationStore.Message] {
        users.map {
            NotificationStore.Message(
                userID: $0, occasion: occasion, subject: subject, title: "申请被退回修改", body: "请按推荐单位意见修改后重新提交。",
                link: "/v1/bids/1")
        }
    }

    static func userID(_ login: String, _ db: PostgresClient) async throws -> Int {
        try await db.query("SELECT id FROM users WHERE login = \(login)").first!.decode(Int.self)
    }

    static func count(_ db: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        try await db.query(query).first!.decode(Int.self)
    }

    /// Runs a job worker with the product's handlers while `body` runs.
    static func withWorker<Value: Sendable>(
        _ db: PostgresClient, registry: JobRegistry = ProductJobs.registry(), _ body: () async throws -> Value
    ) async throws -> Value {
        try await withServices([JobWorker(client: db, registry: registry, logger: Logger(label: "test.worker"))], body)
    }

    /// Runs `services` in one group while `body` runs, then shuts them down gracefully.
    static func withServices<Value: Sendable>(_ services: [any Service], _ body: () async throws -> Value) async throws -> Value {
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: Logger(label: "test")))
        let running = Task { try await group.run() }
        do {
            let value = try await body()
            await group.triggerGracefulShutdown()
            try await running.value
            return value
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            throw error
        }
    }

    /// Registers an endpoint through the API: its id and secret.
    static func register(_ url: String, as person: String, _ fixture: APIFixture, _ client: some TestClientProtocol) async throws -> (
        Int, String
    ) {
        let created = try await client.call(.post, "/v1/webhooks", as: person, fixture: fixture, json: ["url": url])
        #expect(created.status == .created)
        let endpoint = try #require(created.object["endpoint"] as? [String: Any])
        return (try #require(endpoint["id"] as? Int), try #require(created.object["secret"] as? String))
    }

    @Test(
        "A notice to three users of a unit, sent twice, reaches the unit's endpoint once, signed; a bureau's endpoint gets its publisher's notice",
        .timeLimit(.minutes(2)))
    func oncePerEndpoint() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                try await fixture.application().test(.router) { client in
                    let (unitEndpoint, unitSecret) = try await Self.register(url, as: "adminA", fixture, client)
                    let (bureauEndpoint, bureauSecret) = try await Self.register(url, as: "publisher", fixture, client)
                    #expect(unitSecret.count == 64 && unitSecret != bureauSecret)
                    let users = try await db.withTransaction { tx in
                        _ = try await AccountStore.createUser(
                            .init(login: "third.a", displayName: "第三人", role: .unitMember, unitID: fixture.unitA), passwordHash: nil,
                            by: "test", on: tx)
                        return try await tx.query("SELECT id FROM users WHERE unit_id = \(fixture.unitA) ORDER BY id").decode(Int.self)
                    }
                    #expect(users.count == 3)
                    let publisher = try await Self.userID("publisher", db)
                    for _ in 0..<2 {
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(Self.notices(users, subject: "bid:1"), on: tx)
                            try await NotificationStore.send(
                                Self.notices([publisher], subject: "round:1", occasion: .reviewAssigned), on: tx)
                        }
                    }
                    #expect(try await Self.count(db, "SELECT count(*) FROM notifications") == 4)
                    #expect(try await Self.count(db, "SELECT count(*) FROM webhook_deliveries") == 2)
                    #expect(try await Self.count(db, "SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver'") == 2)

                    try await Self.withWorker(db) {
                        let delivered = try await eventually(timeout: .seconds(30)) {
                            try await Self.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 2
                        }
                        #expect(delivered)
                    }
                    let received = receiver.received
                    #expect(received.count == 2)
                    for request in received {
                        let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
                        #expect(body["deliveryID"] as? String == request.deliveryHeader)
                        #expect(Set(body.keys) == ["deliveryID", "occasion", "subject", "title", "body", "link", "createdAt"])
                        let secret = body["occasion"] as? String == "bid.returned" ? unitSecret : bureauSecret
                        #expect(WebhookReceiver.verifies(request, secret: secret))
                        #expect(request.signatures.count == 1)
                        #expect(abs(Double(request.timestamp ?? 0) - Date().timeIntervalSince1970) < 120)
                    }
                    let log = try await client.call(.get, "/v1/webhooks/\(unitEndpoint)/deliveries", as: "adminA", fixture: fixture)
                    let items = try #require(log.object["items"] as? [[String: Any]])
                    #expect(items.count == 1)
                    #expect(items.first?["status"] as? String == "delivered")
                    #expect(items.first?["attempts"] as? Int == 1)
                    #expect(items.first?["lastStatus"] as? Int == 204)
                    #expect(items.first?["subject"] as? String == "bid:1")
                    // Another unit's admin and the bureau's own endpoints are kept apart.
                    let foreign = try await client.call(.get, "/v1/webhooks/\(unitEndpoint)/deliveries", as: "adminB", fixture: fixture)
                    #expect(foreign.status == .notFound)
                    let listed = try await client.call(.get, "/v1/webhooks", as: "publisher", fixture: fixture)
                    let endpoints = try #require(listed.object["items"] as? [[String: Any]])
                    #expect(endpoints.map { $0["id"] as? Int } == [bureauEndpoint])
                    #expect(endpoints.allSatisfy { $0["secret"] == nil })
                }
            }
        }
    }

    @Test(
        "A receiver answering 500 makes the job retry with each attempt in the log, then delivered on a 2xx; the last failed attempt marks it failed",
        .timeLimit(.minutes(2)))
    func retriesUntilDelivered() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            receiver.answer([500, 307])
            try await receiver.run { url in
                try await fixture.application().test(.router) { client in
                    let (endpoint, _) = try await Self.register(url, as: "adminA", fixture, client)
                    let admin = try await Self.userID("admina", db)
                    try await db.withTransaction { tx in try await NotificationStore.send(Self.notices([admin], subject: "bid:1"), on: tx) }
                    @Sendable func delivery() async throws -> (String, Int, Int?, String?) {
                        try await db.query("SELECT status, attempts, last_status, last_error FROM webhook_deliveries")
                            .first!.decode((String, Int, Int?, String?).self)
                    }
                    try await Self.withWorker(db) {
                        // A redirect is a failed attempt, not followed.
                        for (attempt, status) in [(1, 500), (2, 307)] {
                            let failed = try await eventually(timeout: .seconds(30)) {
                                try await Self.count(db, "SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver' AND state = 'retryable'")
                                    == 1
                            }
                            #expect(failed)
                            let (state, attempts, lastStatus, lastError) = try await delivery()
                            #expect(state == "pending" && attempts == attempt && lastStatus == status)
                            #expect(lastError == "HTTP \(status)")
                            // Time passes: the backoff is over.
                            try await db.execute(
                                "UPDATE jobs SET state = 'available', run_at = now() WHERE kind = 'webhook.deliver' AND state = 'retryable'"
                            )
                        }
                        let delivered = try await eventually(timeout: .seconds(30)) { try await delivery().0 == "delivered" }
                        #expect(delivered)

                        // A delivery whose last attempt fails is failed.
                        receiver.answer([500])
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(Self.notices([admin], subject: "bid:2"), on: tx)
                            try await tx.execute("UPDATE jobs SET max_attempts = 1 WHERE kind = 'webhook.deliver' AND state = 'available'")
                        }
                        let failed = try await eventually(timeout: .seconds(30)) {
                            try await Self.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'") == 1
                        }
                        #expect(failed)
                    }
                    let received = receiver.received
                    #expect(received.map(\.status) == [500, 307, 204, 500])
                    #expect(Set(received.prefix(3).map(\.deliveryHeader)).count == 1)
                    let log = try await client.call(.get, "/v1/webhooks/\(endpoint)/deliveries", as: "adminA", fixture: fixture)
                    let items = try #require(log.object["items"] as? [[String: Any]])
                    let bySubject = Dictionary(uniqueKeysWithValues: items.map { ($0["subject"] as? String ?? "", $0) })
                    #expect(bySubject["bid:1"]?["status"] as? String == "delivered")
                    #expect(bySubject["bid:1"]?["attempts"] as? Int == 3)
                    #expect(bySubject["bid:1"]?["lastStatus"] as? Int == 204)
                    #expect(bySubject["bid:1"]?["deliveredAt"] is String)
                    #expect(bySubject["bid:2"]?["status"] as? String == "failed")
                    #expect(bySubject["bid:2"]?["attempts"] as? Int == 1)
                    #expect(bySubject["bid:2"]?["lastError"] as? String == "HTTP 500")
                }
            }
        }
    }

    struct RolledBack: Error {}

    @Test("A notice whose transaction rolls back delivers nothing; a deactivated endpoint gets no deliveries")
    func rollbackAndDeactivation() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let (endpoint, _) = try await Self.register("http://127.0.0.1:9/hook", as: "adminA", fixture, client)
                let admin = try await Self.userID("admina", db)
                await #expect(throws: RolledBack.self) {
                    try await db.withTransaction { tx in
                        #expect(try await NotificationStore.send(Self.notices([admin], subject: "bid:1"), on: tx) == 1)
                        #expect(try await tx.query("SELECT count(*) FROM webhook_deliveries").first!.decode(Int.self) == 1)
                        throw RolledBack()
                    }
                }
                #expect(try await Self.count(db, "SELECT count(*) FROM webhook_deliveries") == 0)
                #expect(try await Self.count(db, "SELECT count(*) FROM jobs") == 0)

                #expect(try await client.call(.delete, "/v1/webhooks/\(endpoint)", as: "adminB", fixture: fixture).status == .notFound)
                #expect(try await client.call(.delete, "/v1/webhooks/\(endpoint)", as: "adminA", fixture: fixture).status == .noContent)
                #expect(try await client.call(.delete, "/v1/webhooks/999999", as: "adminA", fixture: fixture).status == .notFound)
                try await db.withTransaction { tx in try await NotificationStore.send(Self.notices([admin], subject: "bid:2"), on: tx) }
                #expect(try await Self.count(db, "SELECT count(*) FROM webhook_deliveries") == 0)
                let listed = try await client.call(.get, "/v1/webhooks", as: "adminA", fixture: fixture)
                #expect((listed.object["items"] as? [[String: Any]])?.first?["active"] as? Bool == false)
            }
        }
    }

    @Test("After a rotation both the new and the previous secret sign for 24 hours, then only the new one", .timeLimit(.minutes(2)))
    func rotation() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                try await fixture.application().test(.router) { client in
                    let (endpoint, old) = try await Self.register(url, as: "lanzhou", fixture, client)
                    let rotated = try await client.call(.post, "/v1/webhooks/\(endpoint)/secret", as: "lanzhou", fixture: fixture)
                    #expect(rotated.status == .ok)
                    let new = try #require(rotated.object["secret"] as? String)
                    #expect(new.count == 64 && new != old)
                    let expires = (rotated.object["endpoint"] as? [String: Any])?["previousSecretExpiresAt"] as? String
                    let expiry = try #require(expires.flatMap { try? Date($0, strategy: .iso8601) })
                    #expect(abs(expiry.timeIntervalSinceNow - 86_400) < 120)
                    #expect(
                        try await client.call(.post, "/v1/webhooks/\(endpoint)/secret", as: "jinchang", fixture: fixture).status
                            == .notFound)

                    let recommender = try await Self.userID("lanzhou", db)
                    try await Self.withWorker(db) {
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(
                                Self.notices([recommender], subject: "report:1", occasion: .progressReportDue), on: tx)
                        }
                        #expect(try await eventually(timeout: .seconds(30)) { receiver.received.count == 1 })
                        // A day later the previous secret no longer signs.
                        try await db.execute(
                            "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = \(endpoint)")
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(
                                Self.notices([recommender], subject: "report:2", occasion: .progressReportDue), on: tx)
                        }
                        #expect(try await eventually(timeout: .seconds(30)) { receiver.received.count == 2 })
                        #expect(
                            try await eventually(timeout: .seconds(10)) {
                                try await Self.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") == 2
                            })
                    }
                    let received = receiver.received
                    #expect(received[0].signatures.count == 2)
                    #expect(WebhookReceiver.verifies(received[0], secret: new))
                    #expect(WebhookReceiver.verifies(received[0], secret: old))
                    #expect(received[1].signatures.count == 1)
                    #expect(WebhookReceiver.verifies(received[1], secret: new))
                    #expect(!WebhookReceiver.verifies(received[1], secret: old))
                }
            }
        }
    }

    @Test("The rules hold twice: the API refuses a bad URL with 422 naming url, and the database refuses what Swift would have")
    func rulesTwice() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            try await fixture.application().test(.router) { client in
                let long = "https://example.cn/" + String(repeating: "a", count: 2000)
                for url in [
                    "ftp://example.cn/hook", "http://", "example.cn/hook", "/hook", long, "http://user:pw@example.cn/",
                    "http://exa mple.cn/", "HTTP://example.cn/",
                ] {
                    let reply = try await client.call(.post, "/v1/webhooks", as: "adminA", fixture: fixture, json: ["url": url])
                    #expect(reply.status == .unprocessableContent, "\(url)")
                    #expect(reply.problemFields == ["url"], "\(url)")
                }
                for person in ["memberA", "expert", "admin"] {
                    let reply = try await client.call(
                        .post, "/v1/webhooks", as: person, fixture: fixture, json: ["url": "https://example.cn/hook"])
                    #expect(reply.status == .forbidden)
                }
                let (endpoint, _) = try await Self.register("https://example.cn/hook", as: "adminA", fixture, client)
                let creator = try await Self.userID("admina", db)
                // Sealed in form (`v1:<key id>:<base64>`), so that only the constraint under test refuses.
                let secret = "v1:00000000:" + Data(count: 92).base64EncodedString()
                let refusals: [(String, PostgresQuery)] = [
                    (
                        "webhook_endpoints_owner",
                        "INSERT INTO webhook_endpoints (unit_id, bureau_id, url, secret, created_by) VALUES (\(fixture.unitA), \(fixture.provinceBureau), 'https://example.cn/', \(secret), \(creator))"
                    ),
                    (
                        "webhook_endpoints_owner",
                        "INSERT INTO webhook_endpoints (url, secret, created_by) VALUES ('https://example.cn/', \(secret), \(creator))"
                    ),
                    (
                        "webhook_endpoints_url",
                        "INSERT INTO webhook_endpoints (unit_id, url, secret, created_by) VALUES (\(fixture.unitA), 'ftp://example.cn/', \(secret), \(creator))"
                    ),
                    (
                        "webhook_endpoints_url",
                        "INSERT INTO webhook_endpoints (unit_id, url, secret, created_by) VALUES (\(fixture.unitA), 'http:///x', \(secret), \(creator))"
                    ),
                    (
                        "webhook_deliveries_status",
                        "INSERT INTO webhook_deliveries (endpoint_id, occasion, subject, title, body, status) VALUES (\(endpoint), 'bid.returned', 's', 't', 'b', 'sent')"
                    ),
                ]
                for (constraint, statement) in refusals {
                    do {
                        try await db.execute(statement)
                        Issue.record("\(constraint) did not refuse")
                    } catch let error as PostgresError {
                        #expect(error.constraint == constraint)
                    }
                }
                try await db.execute(
                    "INSERT INTO webhook_deliveries (endpoint_id, occasion, subject, title, body) VALUES (\(endpoint), 'bid.returned', 's', 't', 'b')"
                )
                do {
                    try await db.execute(
                        "INSERT INTO webhook_deliveries (endpoint_id, occasion, subject, title, body) VALUES (\(endpoint), 'bid.returned', 's', 't', 'b')"
                    )
                    Issue.record("webhook_deliveries_once did not refuse")
                } catch let error as PostgresError {
                    #expect(error.constraint == "webhook_deliveries_once")
                }
            }
        }
    }
}
