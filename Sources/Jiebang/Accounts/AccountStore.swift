public import Foundation
public import Postgres

/// Users, bureaus and access tokens in PostgreSQL. Stateless: every function takes its connection.
public enum AccountStore {
    /// A user to create.
    public struct NewUser: Sendable, Hashable {
        public var login: String
        public var displayName: String
        public var role: Role
        public var unitID: Int?
        public var bureauID: Int?
        /// Where e-mails of the user's notifications go, if anywhere.
        public var email: String?

        public init(login: String, displayName: String, role: Role, unitID: Int? = nil, bureauID: Int? = nil, email: String? = nil) {
            self.login = login
            self.displayName = displayName
            self.role = role
            self.unitID = unitID
            self.bureauID = bureauID
            self.email = email
        }
    }

    /// Creates a bureau and returns its id.
    public static func createBureau(name: String, level: String, regionCode: String, on db: PostgresConnection) async throws -> Int {
        try await db.query(
            "INSERT INTO bureaus (name, level, region_code) VALUES (\(name), \(level)::bureau_level, \(regionCode)) RETURNING id"
        ).first!.decode(Int.self)
    }

    /// Creates a user (with a password hash, or none for a user who sets it later) and records it in the audit log.
    /// - Throws: `AccountError` for a taken login, a role that does not fit its scope, or an unknown unit or bureau.
    public static func createUser(
        _ user: NewUser, passwordHash: String?, by actor: String, on db: PostgresConnection
    ) async throws -> Int {
        let login = user.login.trimmingCharacters(in: .whitespaces).lowercased()
        do {
            let id = try await db.query(
                """
                INSERT INTO users (login, display_name, password_hash, role, unit_id, bureau_id, email)
                VALUES (\(login), \(user.displayName), \(passwordHash), \(user.role.rawValue)::user_role, \(user.unitID), \(user.bureauID),
                        \(user.email))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await AuditLog.append(
                actor: actor, action: "user.create", entity: "user", entityID: "\(id)",
                after: ["login": login, "role": user.role.rawValue], on: db)
            return id
        } catch let error as PostgresError {
            switch error.constraint {
            case "users_login_key": throw AccountError.loginTaken(login)
            case "users_scope": throw AccountError.invalidScope(user.role)
            case "users_bureau_level": throw AccountError.wrongBureauLevel(user.role)
            case "users_unit_id_fkey", "users_bureau_id_fkey": throw AccountError.unknownOrganisation
            default: throw error
            }
        }
    }

    /// The id and password hash of the enabled user with this login (trimmed, any case), or nil. One
    /// short statement: the password is checked after the connection is released (``PasswordSignIn``).
    public static func passwordHash(login: String, on db: PostgresConnection) async throws -> (userID: Int, hash: String?)? {
        let normalized = login.trimmingCharacters(in: .whitespaces).lowercased()
        return try await db.query(
            "SELECT id, password_hash FROM users WHERE login = \(normalized) AND disabled_at IS NULL"
        ).first.map { try $0.decode((Int, String?).self) }
    }

    /// Issues a token for `userID`. A session token is stamped as used (signing in is its first use).
    /// - Parameters:
    ///   - kind: `session` (from signing in) or `api` (for an integration).
    public static func issueToken(
        userID: Int, kind: String, label: String?, lifetime: Duration, on db: PostgresConnection
    ) async throws -> (token: AccessToken, expiresAt: Date) {
        let token = AccessToken.generate()
        let expiresAt = try await db.query(
            """
            INSERT INTO access_tokens (user_id, token_hash, kind, label, expires_at, last_used_at)
            VALUES (\(userID), \(token.digest), \(kind), \(label), now() + \(Int(lifetime.components.seconds)) * interval '1 second',
                    CASE WHEN \(kind) = 'session' THEN now() END)
            RETURNING expires_at
            """
        ).first!.decode(Date.self)
        return (token, expiresAt)
    }

    /// The actor a token stands for, or nil when it is unknown, expired, revoked or its user disabled.
    ///
    /// Reads only, as ``identify(_:on:)``: a session token was stamped when it was issued, and a request's
    /// later stamps go to a batch (``stampUses(_:on:)``).
    public static func authenticate(_ token: AccessToken, on db: PostgresConnection) async throws -> Actor? {
        try await identify(token, on: db)?.actor
    }

    /// The holder of a token, or nil when it is unknown, expired, revoked or its user disabled.
    ///
    /// Reads only: a request's transaction writes no `last_used_at` stamp. The answer says whether the
    /// stamp is due (never stamped, or over a minute ago); the caller records the use and
    /// ``stampUses(_:on:)`` writes many at once.
    public static func identify(_ token: AccessToken, on db: PostgresConnection) async throws -> TokenUse? {
        guard let row = try await db.query(identification(token)).first else { return nil }
        return try tokenUse(row, at: 0)
    }

    /// ``identify(_:on:)``'s lookup as a query to embed (`\(fragment:)`) in a statement that does more in the
    /// same round trip: one row of nine columns, named `token_id`, `user_id`,
    /// `display_name`, `role`, `unit_id`, `bureau_id`, `region_code`, `stamp_due` and `scopes`; or no row.
    public static func identification(_ token: AccessToken) -> PostgresQuery {
        """
        SELECT t.id AS token_id, u.id AS user_id, u.display_name, u.role::text AS role, u.unit_id, u.bureau_id, b.region_code,
               t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute' AS stamp_due, t.scopes
        FROM access_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN bureaus b ON b.id = u.bureau_id
        WHERE t.token_hash = \(token.digest) AND t.revoked_at IS NULL AND t.expires_at > now() AND u.disabled_at IS NULL
        """
    }

    /// The token use in `row`'s columns from `offset`, as ``identification(_:)`` gives them; nil when they are
    /// NULL (an outer join found no token) or the role is unknown.
    public static func tokenUse(_ row: PostgresRow, at offset: Int) throws -> TokenUse? {
        guard let tokenID = try row.decode(Int?.self, at: offset) else { return nil }
        let id = try row.decode(Int.self, at: offset + 1)
        let name = try row.decode(String.self, at: offset + 2)
        guard let role = Role(rawValue: try row.decode(String.self, at: offset + 3)) else { return nil }
        let actor = Actor(
            userID: id, displayName: name, role: role, unitID: try row.decode(Int?.self, at: offset + 4),
            bureauID: try row.decode(Int?.self, at: offset + 5), regionCode: try row.decode(String?.self, at: offset + 6))
        let scopes = try row.decode([String].self, at: offset + 8)
        return TokenUse(
            tokenID: tokenID, actor: actor, stampDue: try row.decode(Bool.self, at: offset + 7),
            scopes: Set(scopes.compactMap(TokenScope.init(rawValue:))))
    }

    /// Writes tokens' `last_used_at` stamps in one statement: each token's latest use, never moving a stamp back.
    ///
    /// The rows are locked in id order, so two processes writing overlapping batches queue instead of
    /// deadlocking. The commit does not wait for the disk (`synchronous_commit` off for this statement's
    /// own transaction): a stamp is bookkeeping, and a crash may lose the last few, never a token or a
    /// revocation. Run it with no transaction open on `db`.
    /// - Returns: how many tokens were stamped.
    @discardableResult
    public static func stampUses(_ uses: [Int: Date], on db: PostgresConnection) async throws -> Int {
        guard !uses.isEmpty else { return 0 }
        let ordered = uses.sorted { $0.key < $1.key }
        return try await db.execute(
            """
            WITH due AS (
                SELECT t.id, u.used_at
                FROM access_tokens t JOIN unnest(\(ordered.map(\.key))::bigint[], \(ordered.map(\.value))::timestamptz[]) AS u (id, used_at)
                     ON t.id = u.id
                WHERE (t.last_used_at IS NULL OR t.last_used_at < u.used_at)
                  AND set_config('synchronous_commit', 'off', true) = 'off'
                ORDER BY t.id
                FOR UPDATE OF t
            )
            UPDATE access_tokens SET last_used_at = due.used_at FROM due
            WHERE access_tokens.id = due.id AND (access_tokens.last_used_at IS NULL OR access_tokens.last_used_at < due.used_at)
            """)
    }

    /// The user's login, name, e-mail and password hash, for a password change.
    public static func credentials(userID: Int, on db: PostgresConnection) async throws
        -> (login: String, displayName: String, email: String?, hash: String?)?
    {
        try await db.query(
            "SELECT login, display_name, email, password_hash FROM users WHERE id = \(userID) AND disabled_at IS NULL"
        ).first?.decode((String, String, String?, String?).self)
    }

    /// Replaces the user's password hash and revokes every token of the user, sessions and API tokens
    /// alike: a password changed because it leaked leaves nothing signed in with it behind. Returns how
    /// many tokens were revoked.
    @discardableResult
    public static func setPassword(userID: Int, hash: String, by actor: String, on tx: PostgresConnection) async throws -> Int {
        try await tx.execute("UPDATE users SET password_hash = \(hash) WHERE id = \(userID)")
        let revoked = try await tx.execute(
            "UPDATE access_tokens SET revoked_at = now() WHERE user_id = \(userID) AND revoked_at IS NULL")
        try await AuditLog.append(
            actor: actor, actorID: userID, action: "user.password", entity: "user", entityID: "\(userID)",
            after: ["tokensRevoked": "\(revoked)"], on: tx)
        return revoked
    }

    /// Revokes a token. Returns whether it was live.
    @discardableResult
    public static func revoke(_ token: AccessToken, on db: PostgresConnection) async throws -> Bool {
        try await db.execute(
            "UPDATE access_tokens SET revoked_at = now() WHERE token_hash = \(token.digest) AND revoked_at IS NULL") == 1
    }
}
