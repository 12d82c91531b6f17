public import Foundation
public import Postgres
import Crypto

/// Idempotency keys of creating requests: a request sent twice with the same key creates once.
///
/// The key is claimed in the transaction that creates. A second request with the
/// same key waits on the primary key until the first commits, then replays the
/// stored response; if the first rolled back, the second goes ahead itself.
public enum IdempotencyStore {
    /// What claiming a key found.
    public enum Claim: Sendable, Hashable {
        /// The key is new: go ahead, then `record` the response in the same transaction.
        case fresh
        /// The key was used for the same request: answer with its stored response.
        case replay(status: Int, body: Data)
    }

    /// A fingerprint of a request (method, path and body), to tell a retry from a reused key.
    public static func fingerprint(method: String, path: String, body: some Sequence<UInt8>) -> Data {
        var hasher = SHA256()
        hasher.update(data: Array("\(method) \(path)\n".utf8))
        hasher.update(data: Array(body))
        return Data(hasher.finalize())
    }

    /// Claims `key` within `scope` (the actor) in the caller's transaction.
    /// - Throws: `DomainError.conflict` when the key was used for a different request.
    public static func claim(scope: String, key: String, fingerprint: Data, on tx: PostgresConnection) async throws -> Claim {
        guard (1...255).contains(key.count) else {
            throw DomainError.invalid("Idempotency-Key", "must have 1 to 255 characters")
        }
        let inserted = try await tx.execute(
            """
            INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (\(scope), \(key), \(fingerprint))
            ON CONFLICT (scope, key) DO NOTHING
            """)
        if inserted == 1 { return .fresh }
        guard
            let row = try await tx.query(
                "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE scope = \(scope) AND key = \(key)"
            ).first
        else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "a request with this key is still in progress")
        }
        let (hash, status, body) = try row.decode((Data, Int?, Data?).self)
        guard hash == fingerprint else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "was already used for a different request")
        }
        guard let status, let body else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "a request with this key is still in progress")
        }
        return .replay(status: status, body: body)
    }

    /// Stores the response of a fresh key, in the transaction that created.
    public static func record(scope: String, key: String, status: Int, body: Data, on tx: PostgresConnection) async throws {
        try await tx.execute(
            """
            UPDATE idempotency_keys SET response_status = \(status), response_body = \(body)
            WHERE scope = \(scope) AND key = \(key)
            """)
    }

    /// Deletes keys older than `age`, in batches. Returns how many went.
    public static func prune(olderThan age: Duration, on db: PostgresConnection) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await db.execute(
                """
                DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM idempotency_keys
                    WHERE created_at < now() - \(Int(age.components.seconds)) * interval '1 second' LIMIT 5000))
                """)
            total += deleted
            if deleted < 5000 { return total }
        }
    }
}
