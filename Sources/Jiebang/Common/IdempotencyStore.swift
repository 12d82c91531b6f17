public import Crypto
public import Foundation
public import Postgres

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
        case replay(Stored)
    }

    /// The stored answer of a request: what a replay sends again.
    public struct Stored: Sendable, Hashable {
        /// The HTTP status.
        public var status: Int
        /// The JSON body.
        public var body: Data
        /// The Location header, if the answer had one.
        public var location: String?
        /// The revision sent as the ETag, if the answer had one.
        public var revision: Int?

        /// Creates a stored answer.
        public init(status: Int, body: Data, location: String? = nil, revision: Int? = nil) {
            self.status = status
            self.body = body
            self.location = location
            self.revision = revision
        }
    }

    /// A fingerprint of a request (method, path and body), to tell a retry from a reused key: an
    /// HMAC-SHA-256 under the server's secret (``secret(on:)``), so a stored fingerprint of a body that
    /// carries a password cannot be checked against guesses without the secret.
    public static func fingerprint(method: String, path: String, body: some Sequence<UInt8>, secret: SymmetricKey) -> Data {
        var mac = HMAC<SHA256>(key: secret)
        mac.update(data: Array("\(method) \(path)\n".utf8))
        mac.update(data: Array(body))
        return Data(mac.finalize())
    }

    /// The server's fingerprint secret (32 random bytes in `server_secrets`), made by the first caller
    /// that finds none; every instance on the database reads the same one.
    ///
    /// Two first callers at once: one inserts, the other's insert waits for it and does nothing, and its
    /// statement's snapshot cannot see the row yet; the next statement (a new snapshot) does.
    public static func secret(on db: PostgresConnection) async throws -> SymmetricKey {
        let candidate = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        for _ in 0..<3 {
            if let row = try await db.query(
                """
                WITH made AS (
                    INSERT INTO server_secrets (name, value) VALUES ('idempotency', \(candidate))
                    ON CONFLICT (name) DO NOTHING RETURNING value
                )
                SELECT value FROM made UNION ALL SELECT value FROM server_secrets WHERE name = 'idempotency'
                LIMIT 1
                """
            ).first {
                return SymmetricKey(data: try row.decode(Data.self))
            }
        }
        throw MissingSecret()
    }

    /// The server secret could be neither made nor read (another transaction holds it uncommitted).
    struct MissingSecret: Error, CustomStringConvertible {
        var description: String { "the idempotency secret in server_secrets could not be read" }
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
                """
                SELECT request_hash, response_status, response_body, response_location, response_revision
                FROM idempotency_keys WHERE scope = \(scope) AND key = \(key)
                """
            ).first
        else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "a request with this key is still in progress")
        }
        let (hash, status, body, location, revision) = try row.decode((Data, Int?, Data?, String?, Int?).self)
        guard hash == fingerprint else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "was already used for a different request")
        }
        guard let status, let body else {
            throw DomainError.conflict(field: "Idempotency-Key", message: "a request with this key is still in progress")
        }
        return .replay(Stored(status: status, body: body, location: location, revision: revision))
    }

    /// Stores the response of a fresh key, in the transaction that created.
    public static func record(scope: String, key: String, answer: Stored, on tx: PostgresConnection) async throws {
        try await tx.execute(
            """
            UPDATE idempotency_keys
            SET response_status = \(answer.status), response_body = \(answer.body), response_location = \(answer.location),
                response_revision = \(answer.revision)
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
