import Foundation
import HTTPTypes
import Jiebang
import JiebangTesting
import Postgres

extension AccessMatrixTests {
    /// Webhooks: a unit's admin runs its unit's endpoints, a publisher or recommender its bureau's; each
    /// probe of one endpoint works on a fresh endpoint of unit A, which only adminA runs.
    static func webhookProbes(_ fixture: APIFixture) -> [AccessProbe] {
        let db = fixture.db
        let unitA = fixture.unitA
        // Every runner but adminA runs endpoints of their own, and unit A's are not there for them.
        let runners: Set<String> = ["adminA", "adminB", "adminC", "publisher", "otherPublisher", "lanzhou", "jinchang"]
        @Sendable func endpoint() async throws -> Int {
            // Sealed under the database's own key, as the application under test seals (it is given no key).
            let key = try await db.withConnection { try await SecretsKeyring.Key.databaseKept(on: $0) }
            let secret = try SecretsKeyring(current: key).seal(String(repeating: "0f", count: 32))
            return try await db.query(
                """
                INSERT INTO webhook_endpoints (unit_id, url, secret, created_by)
                VALUES (\(unitA), 'https://example.cn/hook', \(secret),
                        (SELECT id FROM users WHERE login = 'admina'))
                RETURNING id
                """
            ).first!.decode(Int.self)
        }
        return [
            AccessProbe(operation: "POST /v1/webhooks", allowed: runners) { _, serial in
                (.post, "/v1/webhooks", try JSONSerialization.data(withJSONObject: ["url": "https://example.cn/hook/\(serial)"]), [:])
            },
            AccessProbe(operation: "GET /v1/webhooks", allowed: runners) { _, _ in (.get, "/v1/webhooks", nil, [:]) },
            AccessProbe(operation: "DELETE /v1/webhooks/{id}", allowed: ["adminA"], hidden: runners.subtracting(["adminA"])) { _, _ in
                (.delete, "/v1/webhooks/\(try await endpoint())", nil, [:])
            },
            AccessProbe(operation: "POST /v1/webhooks/{id}/secret", allowed: ["adminA"], hidden: runners.subtracting(["adminA"])) { _, _ in
                (.post, "/v1/webhooks/\(try await endpoint())/secret", nil, [:])
            },
            AccessProbe(operation: "GET /v1/webhooks/{id}/deliveries", allowed: ["adminA"], hidden: runners.subtracting(["adminA"])) {
                _, _ in
                (.get, "/v1/webhooks/\(try await endpoint())/deliveries", nil, [:])
            },
        ]
    }
}
