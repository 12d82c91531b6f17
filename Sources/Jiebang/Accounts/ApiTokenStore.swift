public import Foundation
public import Postgres

/// A person's API tokens (访问令牌 for scripts and integrations): created with scopes and a lifetime,
/// listed without their secrets, revoked one by one. The secret is shown once, when it is created, and
/// only its SHA-256 is kept.
public enum ApiTokenStore {
    /// The most live API tokens one person holds. The database enforces it too (`access_tokens_api_cap`).
    public static let maximumLive = 20
    /// The longest lifetime in days. The database allows at most 366.
    public static let maximumDays = 365

    /// What the caller asks for.
    public struct Input: Codable, Sendable {
        /// What the token is for, shown in the list: 1 to 100 characters.
        public var label: String
        /// `["read"]` or `["read", "write"]`; `read` is implied.
        public var scopes: [TokenScope]
        /// Days until it expires: 1 to 365. Default 90.
        public var expiresInDays: Int?

        /// Creates an input.
        public init(label: String, scopes: [TokenScope], expiresInDays: Int? = nil) {
            self.label = label
            self.scopes = scopes
            self.expiresInDays = expiresInDays
        }
    }

    /// A token as listed: no secret.
    public struct Token: Codable, Sendable, Hashable {
        public var id: Int
        public var label: String
        public var scopes: [TokenScope]
        public var createdAt: Date
        public var expiresAt: Date
        public var lastUsedAt: Date?
        public var revokedAt: Date?
    }

    /// A new token and its secret, the one time it is shown.
    public struct Created: Codable, Sendable {
        public var token: String
        public var details: Token
    }

    /// Creates an API token for the actor.
    /// - Throws: `DomainError.invalid` naming `label`, `scopes` or `expiresInDays`; `.conflict` naming
    ///   `scopes` when the actor holds the maximum of live tokens already.
    public static func create(_ input: Input, for actor: Actor, on tx: PostgresConnection) async throws -> Created {
        var checker = FieldChecker()
        let label = input.label.trimmingCharacters(in: .whitespacesAndNewlines)
        if label.isEmpty || label.count > 100 { checker.add("label", "must have 1 to 100 characters") }
        if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            checker.add("label", "must not contain control characters")
        }
        if input.scopes.isEmpty || Set(input.scopes).count != input.scopes.count {
            checker.add("scopes", "must list read, and write if the token changes anything, each once")
        }
        let days = input.expiresInDays ?? 90
        if !(1...maximumDays).contains(days) { checker.add("expiresInDays", "must be 1 to \(maximumDays)") }
        try checker.check()
        let scopes = Array(Set(input.scopes).union([.read])).sorted()
        let live = try await tx.query(
            """
            SELECT count(*) FROM access_tokens
            WHERE user_id = \(actor.userID) AND kind = 'api' AND revoked_at IS NULL AND expires_at > now()
            """
        ).first!.decode(Int.self)
        guard live < maximumLive else {
            throw DomainError.conflict(field: "scopes", message: "you hold \(maximumLive) live API tokens; revoke one first")
        }
        let secret = AccessToken.generate()
        return try await ConstraintCatalog.translating {
            let row = try await tx.query(
                """
                INSERT INTO access_tokens (user_id, token_hash, kind, label, scopes, expires_at)
                VALUES (\(actor.userID), \(secret.digest), 'api', \(label), \(scopes.map(\.rawValue)),
                        now() + \(days) * interval '1 day')
                RETURNING id, created_at, expires_at
                """
            ).first!
            let (id, created, expires) = try row.decode((Int, Date, Date).self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "token.create", entity: "access_token", entityID: "\(id)",
                after: ["label": label, "scopes": scopes.map(\.rawValue).joined(separator: " "), "days": "\(days)"], on: tx)
            return Created(
                token: secret.value,
                details: Token(
                    id: id, label: label, scopes: scopes, createdAt: created, expiresAt: expires, lastUsedAt: nil, revokedAt: nil))
        }
    }

    /// The actor's API tokens, newest first, the revoked and expired of the last 30 days included.
    public static func list(for actor: Actor, on db: PostgresConnection) async throws -> [Token] {
        try await db.query(
            """
            SELECT id, label, scopes, created_at, expires_at, last_used_at, revoked_at FROM access_tokens
            WHERE user_id = \(actor.userID) AND kind = 'api'
              AND coalesce(revoked_at, expires_at) > now() - interval '30 days'
            ORDER BY id DESC LIMIT 100
            """
        ).map { row in
            let (id, label, scopes, created, expires, used, revoked) = try row.decode(
                (Int, String?, [String], Date, Date, Date?, Date?).self)
            return Token(
                id: id, label: label ?? "", scopes: scopes.compactMap(TokenScope.init(rawValue:)), createdAt: created,
                expiresAt: expires, lastUsedAt: used, revokedAt: revoked)
        }
    }

    /// Revokes one of the actor's API tokens at once; revoking it again changes nothing.
    /// - Throws: `DomainError.notFound` for an id that is not one of the actor's API tokens.
    public static func revoke(id: Int, by actor: Actor, on tx: PostgresConnection) async throws {
        guard
            let revokedNow = try await tx.query(
                """
                UPDATE access_tokens SET revoked_at = coalesce(revoked_at, now())
                WHERE id = \(id) AND user_id = \(actor.userID) AND kind = 'api'
                RETURNING revoked_at = now()
                """
            ).first?.decode(Bool.self)
        else { throw DomainError.notFound("you have no API token \(id)") }
        if revokedNow {
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "token.revoke", entity: "access_token", entityID: "\(id)",
                on: tx)
        }
    }
}
