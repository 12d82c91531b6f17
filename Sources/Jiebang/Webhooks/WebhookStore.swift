public import Foundation
public import Postgres

/// Webhook endpoints of units and bureaus: registered, listed, deactivated and given new secrets by the
/// people who run their owner (a unit's admin; a bureau's publisher or recommender), and their delivery log.
public enum WebhookStore {
    /// An endpoint as its owner sees it; the secret is shown only when it is made (`Created`).
    public struct Endpoint: Codable, Sendable, Hashable {
        public var id: Int
        public var unitID: Int?
        public var bureauID: Int?
        public var url: String
        public var active: Bool
        public var createdAt: Date
        /// Until when the previous secret still signs, after a rotation.
        public var previousSecretExpiresAt: Date?
    }

    /// An endpoint with its secret, answered once, at creation and at each rotation.
    public struct Created: Codable, Sendable, Hashable {
        public var endpoint: Endpoint
        /// 32 random bytes, hex: the HMAC-SHA256 key of `Jiebang-Signature`.
        public var secret: String
    }

    /// What registering an endpoint takes.
    public struct Input: Codable, Sendable, Hashable {
        public var url: String
        /// Creates the input.
        public init(url: String) { self.url = url }
    }

    /// One delivery of the log.
    public struct Delivery: Codable, Sendable, Hashable {
        public var id: UUID
        public var occasion: String
        public var subject: String
        /// pending, delivered or failed.
        public var status: String
        public var attempts: Int
        public var lastStatus: Int?
        public var lastError: String?
        public var lastAttemptAt: Date?
        public var deliveredAt: Date?
        public var createdAt: Date
    }

    /// How long the previous secret still signs after a rotation.
    public static let rotationGrace: TimeInterval = 86_400

    /// The longest URL accepted.
    public static let maxURLLength = 2000

    /// Checks an endpoint's URL: absolute, `http://` or `https://` (lower case, as the database checks), with a host and no user information, at most 2,000 characters.
    /// - Throws: `DomainError.invalid` naming `url`.
    public static func check(_ input: Input) throws(DomainError) {
        let url = input.url
        guard url.unicodeScalars.count <= maxURLLength else {
            throw .invalid("url", "must have at most \(maxURLLength) characters")
        }
        guard FieldChecker.controlCharacter(in: url, singleLine: true) == nil, !url.contains(" "),
            let components = URLComponents(string: url), let scheme = components.scheme?.lowercased()
        else { throw .invalid("url", "is not an absolute URL") }
        guard scheme == "http" || scheme == "https", url.hasPrefix(scheme + "://") else {
            throw .invalid("url", "must start with http:// or https:// (in lower case)")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalid("url", "has no host") }
        guard components.user == nil, components.password == nil else {
            throw .invalid("url", "must not carry a user name or password")
        }
    }

    /// Registers an endpoint for the actor's unit (a unit admin) or bureau (a publisher or recommender); its secret
    /// is stored sealed under `keys` (``SecretsKeyring``; nil: the database's own key), and answered once in clear.
    /// - Throws: `DomainError.forbidden` for other roles, `.invalid` for a bad URL.
    public static func register(
        _ input: Input, by actor: Actor, keys: SecretsKeyring? = nil, on tx: PostgresConnection
    ) async throws -> Created {
        let (unitID, bureauID) = try owner(of: actor)
        try check(input)
        let secret = WebhookSignature.newSecret()
        let sealed = try await SecretsKeyring.resolved(keys, on: tx).seal(secret)
        let row = try await ConstraintCatalog.translating {
            try await tx.query(
                """
                INSERT INTO webhook_endpoints (unit_id, bureau_id, url, secret, created_by)
                VALUES (\(unitID), \(bureauID), \(input.url), \(sealed), \(actor.userID))
                RETURNING \(unsafeRaw: columns)
                """)
        }
        return Created(endpoint: try decode(row.first!), secret: secret)
    }

    /// The endpoints of the actor's unit or bureau, without secrets.
    public static func list(by actor: Actor, on db: PostgresConnection) async throws -> [Endpoint] {
        let (unitID, bureauID) = try owner(of: actor)
        return try await db.query(
            """
            SELECT \(unsafeRaw: columns) FROM webhook_endpoints
            WHERE unit_id IS NOT DISTINCT FROM \(unitID) AND bureau_id IS NOT DISTINCT FROM \(bureauID)
            ORDER BY id
            """
        ).map(decode)
    }

    /// Deactivates an endpoint (again: no change); it gets no new deliveries, and pending ones are not sent.
    public static func deactivate(id: Int, by actor: Actor, on tx: PostgresConnection) async throws {
        _ = try await owned(id: id, by: actor, on: tx)
        try await tx.execute(
            "UPDATE webhook_endpoints SET active = false, deactivated_at = now() WHERE id = \(id) AND active")
    }

    /// Gives an endpoint a new secret, sealed under `keys` (nil: the database's own key); the previous one still
    /// signs for `rotationGrace` (24 hours).
    public static func rotate(id: Int, by actor: Actor, keys: SecretsKeyring? = nil, on tx: PostgresConnection) async throws -> Created {
        _ = try await owned(id: id, by: actor, on: tx)
        let secret = WebhookSignature.newSecret()
        let sealed = try await SecretsKeyring.resolved(keys, on: tx).seal(secret)
        let row = try await tx.query(
            """
            UPDATE webhook_endpoints
            SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => \(rotationGrace)),
                secret = \(sealed)
            WHERE id = \(id)
            RETURNING \(unsafeRaw: columns)
            """)
        return Created(endpoint: try decode(row.first!), secret: secret)
    }

    /// An endpoint's deliveries, newest first (at most `limit`).
    public static func deliveries(endpointID: Int, limit: Int = 200, by actor: Actor, on db: PostgresConnection) async throws -> [Delivery]
    {
        _ = try await owned(id: endpointID, by: actor, on: db)
        return try await db.query(
            """
            SELECT id, occasion, subject, status, attempts, last_status, last_error, last_attempt_at, delivered_at, created_at
            FROM webhook_deliveries WHERE endpoint_id = \(endpointID)
            ORDER BY created_at DESC, id LIMIT \(limit)
            """
        ).map { row in
            Delivery(
                id: try row.decode(UUID.self, at: 0), occasion: try row.decode(String.self, at: 1),
                subject: try row.decode(String.self, at: 2), status: try row.decode(String.self, at: 3),
                attempts: try row.decode(Int.self, at: 4), lastStatus: try row.decode(Int?.self, at: 5),
                lastError: try row.decode(String?.self, at: 6), lastAttemptAt: try row.decode(Date?.self, at: 7),
                deliveredAt: try row.decode(Date?.self, at: 8), createdAt: try row.decode(Date.self, at: 9))
        }
    }

    /// The unit or bureau whose endpoints the actor runs.
    /// - Throws: `DomainError.forbidden` for a role that runs none.
    static func owner(of actor: Actor) throws(DomainError) -> (unit: Int?, bureau: Int?) {
        switch actor.role {
        case .unitAdmin:
            if let unit = actor.unitID { return (unit, nil) }
        case .provincialPublisher, .municipalRecommender:
            if let bureau = actor.bureauID { return (nil, bureau) }
        default: break
        }
        throw .forbidden("only a unit's admin, a publisher or a recommender manages webhooks")
    }

    /// The endpoint, if the actor runs its owner.
    /// - Throws: `.notFound` if there is none or another unit or bureau owns it.
    static func owned(id: Int, by actor: Actor, on db: PostgresConnection) async throws -> Endpoint {
        let (unitID, bureauID) = try owner(of: actor)
        guard let row = try await db.query("SELECT \(unsafeRaw: columns) FROM webhook_endpoints WHERE id = \(id)").first else {
            throw DomainError.notFound("there is no webhook \(id)")
        }
        let endpoint = try decode(row)
        // Another unit's or bureau's endpoint is one that does not exist for this actor.
        guard endpoint.unitID == unitID, endpoint.bureauID == bureauID else { throw DomainError.notFound("there is no webhook \(id)") }
        return endpoint
    }

    private static let columns = "id, unit_id, bureau_id, url, active, created_at, previous_secret_expires_at"

    private static func decode(_ row: PostgresRow) throws -> Endpoint {
        Endpoint(
            id: try row.decode(Int.self, at: 0), unitID: try row.decode(Int?.self, at: 1),
            bureauID: try row.decode(Int?.self, at: 2), url: try row.decode(String.self, at: 3),
            active: try row.decode(Bool.self, at: 4), createdAt: try row.decode(Date.self, at: 5),
            previousSecretExpiresAt: try row.decode(Date?.self, at: 6))
    }
}
