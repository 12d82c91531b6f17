import Foundation
import HTTPTypes
import HummingbirdTesting
import Jiebang
import JiebangTesting
import JobQueue
import Postgres
import Testing
import Workers

/// Webhook secrets at rest: sealed under a key that is not in the database, and still signing.
@Suite("Webhook secrets")
struct WebhookSecretTests {
    /// Rows of every table in the public schema whose text holds `needle`.
    /// Whether `webhook_endpoints_secret_sealed` holds for every row (`pg_constraint.convalidated`).
    static func sealedCheckValid(_ db: PostgresClient) async throws -> Bool {
        try await db.query("SELECT convalidated FROM pg_constraint WHERE conname = 'webhook_endpoints_secret_sealed'").first!.decode(
            Bool.self)
    }

    static func rowsHolding(_ needle: String, _ db: PostgresClient) async throws -> [String] {
        let tables = try await db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").decode(
            String.self)
        var found: [String] = []
        for table in tables {
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let count = try await db.query("SELECT count(*) FROM \(unsafeRaw: quoted) AS t WHERE strpos(t::text, \(needle)) > 0")
                .first!.decode(Int.self)
            if count > 0 { found.append(table) }
        }
        return found
    }

    /// Sends one notice to the unit admin A and waits until the delivery is delivered.
    static func deliverOne(subject: String, _ db: PostgresClient, _ receiver: WebhookReceiver, count: Int) async throws {
        let admin = try await WebhookTests.userID("admina", db)
        try await db.withTransaction { tx in try await NotificationStore.send(WebhookTests.notices([admin], subject: subject), on: tx) }
        #expect(try await eventually(timeout: .seconds(30)) { receiver.received.count == count })
        #expect(
            try await eventually(timeout: .seconds(10)) {
                try await WebhookTests.count(
                    db, "SELECT count(*) FROM webhook_deliveries WHERE subject = \(subject) AND status = 'delivered'")
                    == 1
            })
    }

    @Test(
        "No row of any table holds a webhook secret in clear: it is sealed under the configured key, and deliveries verify with the secret the owner was shown, before and after a rotation",
        .timeLimit(.minutes(2)))
    func sealedAtRest() async throws {
        let keys = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                try await fixture.application(secretsKeys: keys).test(.router) { client in
                    let (endpoint, first) = try await WebhookTests.register(url, as: "adminA", fixture, client)
                    let stored = try await db.query("SELECT secret FROM webhook_endpoints WHERE id = \(endpoint)").first!.decode(
                        String.self)
                    #expect(stored.hasPrefix("v1:\(keys.current.id):"))
                    #expect(try keys.open(stored) == first)
                    #expect(try await Self.rowsHolding(first, db) == [])
                    // No key was kept in the database: the configured one sealed it.
                    #expect(try await WebhookTests.count(db, "SELECT count(*) FROM server_secrets WHERE name = 'secrets_key'") == 0)

                    let rotated = try await client.call(.post, "/v1/webhooks/\(endpoint)/secret", as: "adminA", fixture: fixture)
                    let second = try #require(rotated.object["secret"] as? String)
                    #expect(try await Self.rowsHolding(first, db) == [])
                    #expect(try await Self.rowsHolding(second, db) == [])

                    try await WebhookTests.withWorker(db, registry: ProductJobs.registry(secretsKeys: keys)) {
                        try await Self.deliverOne(subject: "bid:1", db, receiver, count: 1)
                    }
                    let received = try #require(receiver.received.first)
                    #expect(received.signatures.count == 2)
                    #expect(WebhookReceiver.verifies(received, secret: second))
                    #expect(WebhookReceiver.verifies(received, secret: first))
                }
            }
        }
    }

    @Test(
        "Secrets stored in clear before migration 0036 are sealed at start and still sign; afterwards the database refuses a secret in clear",
        .timeLimit(.minutes(2)))
    func clearSecretsSealed() async throws {
        let keys = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        try await TestDatabase.withEmptyDatabase { db in
            let migrations = try JiebangSchema.migrations()
            try await Migrator(
                client: db, migrations: migrations.filter { $0.version < 36 }, definitions: try JiebangSchema.definitions()
            ).migrate()
            let fixture = try await APIFixture.make(db)
            let admin = try await WebhookTests.userID("admina", db)
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                let (current, previous) = (WebhookSignature.newSecret(), WebhookSignature.newSecret())
                let endpoint = try await db.query(
                    """
                    INSERT INTO webhook_endpoints (unit_id, url, secret, previous_secret, previous_secret_expires_at, created_by)
                    VALUES (\(fixture.unitA), \(url), \(current), \(previous), now() + interval '1 hour', \(admin)) RETURNING id
                    """
                ).first!.decode(Int.self)
                try await JiebangSchema.migrator(client: db).migrate()

                // Before sealing, a row in clear keeps the check NOT VALID, and the attempt changes nothing.
                #expect(try await db.withConnection { try await WebhookStore.validateSealedCheck(on: $0) } == .rowsInClear)
                #expect(try await Self.sealedCheckValid(db) == false)
                let sealing = try await db.withConnection { try await WebhookStore.sealSecrets(with: keys, on: $0) }
                #expect(sealing == WebhookStore.Sealing(sealed: 1, resealed: 0))
                #expect(try await Self.rowsHolding(current, db) == [])
                #expect(try await Self.rowsHolding(previous, db) == [])
                // Sealing again changes nothing; every row now passes the check the migration added.
                #expect(try await db.withConnection { try await WebhookStore.sealSecrets(with: keys, on: $0) } == WebhookStore.Sealing())
                #expect(try await db.withConnection { try await WebhookStore.validateSealedCheck(on: $0) } == .validated)
                #expect(try await Self.sealedCheckValid(db) == true)
                #expect(try await db.withConnection { try await WebhookStore.validateSealedCheck(on: $0) } == .alreadyValid)

                try await WebhookTests.withWorker(db, registry: ProductJobs.registry(secretsKeys: keys)) {
                    try await Self.deliverOne(subject: "bid:1", db, receiver, count: 1)
                }
                let received = try #require(receiver.received.first)
                #expect(WebhookReceiver.verifies(received, secret: current) && WebhookReceiver.verifies(received, secret: previous))

                for statement: PostgresQuery in [
                    "UPDATE webhook_endpoints SET secret = \(current) WHERE id = \(endpoint)",
                    "UPDATE webhook_endpoints SET previous_secret = \(previous) WHERE id = \(endpoint)",
                    """
                    INSERT INTO webhook_endpoints (unit_id, url, secret, created_by)
                    VALUES (\(fixture.unitA), 'https://example.cn/hook', \(current), \(admin))
                    """,
                ] {
                    do {
                        try await db.execute(statement)
                        Issue.record("a secret in clear was stored")
                    } catch let error as PostgresError {
                        #expect(error.constraint == "webhook_endpoints_secret_sealed")
                    }
                }
            }
        }
    }

    @Test(
        "A wrong key fails clearly: sealing at start names the endpoint and both keys, a delivery fails with that reason and is not sent; a retired key's secrets are sealed again under the new key",
        .timeLimit(.minutes(2)))
    func wrongKey() async throws {
        let right = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        let wrong = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"))
        try await TestDatabase.withFreshDatabase { db in
            let fixture = try await APIFixture.make(db)
            let receiver = WebhookReceiver()
            try await receiver.run { url in
                try await fixture.application(secretsKeys: right).test(.router) { client in
                    let (endpoint, secret) = try await WebhookTests.register(url, as: "adminA", fixture, client)
                    let refusal = await #expect(throws: SecretsKeyError.self) {
                        try await db.withConnection { try await WebhookStore.sealSecrets(with: wrong, on: $0) }
                    }
                    let message = refusal?.description ?? ""
                    #expect(message.contains("webhook endpoint \(endpoint)"))
                    #expect(
                        message.contains("sealed under key \(right.current.id)") && message.contains("configured is \(wrong.current.id)"))
                    #expect(message.contains("JIEBANG_SECRETS_KEY"))

                    let admin = try await WebhookTests.userID("admina", db)
                    try await WebhookTests.withWorker(db, registry: ProductJobs.registry(secretsKeys: wrong)) {
                        try await db.withTransaction { tx in
                            try await NotificationStore.send(WebhookTests.notices([admin], subject: "bid:1"), on: tx)
                            try await tx.execute("UPDATE jobs SET max_attempts = 1 WHERE kind = 'webhook.deliver'")
                        }
                        #expect(
                            try await eventually(timeout: .seconds(30)) {
                                try await WebhookTests.count(db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'") == 1
                            })
                    }
                    let lastError = try await db.query("SELECT last_error FROM webhook_deliveries").first!.decode(String?.self)
                    #expect(lastError?.contains("sealed under key \(right.current.id)") == true)
                    #expect(receiver.received.isEmpty)

                    // The right key, now retired behind a new one: opened, and sealed again under the new key.
                    let next = SecretsKeyring(current: .random(source: "JIEBANG_SECRETS_KEY"), retired: [right.current])
                    let sealing = try await db.withConnection { try await WebhookStore.sealSecrets(with: next, on: $0) }
                    #expect(sealing == WebhookStore.Sealing(sealed: 0, resealed: 1))
                    let stored = try await db.query("SELECT secret FROM webhook_endpoints WHERE id = \(endpoint)").first!.decode(
                        String.self)
                    #expect(stored.hasPrefix(next.currentPrefix))
                    #expect(try SecretsKeyring(current: next.current).open(stored) == secret)
                }
            }
        }
    }
}
