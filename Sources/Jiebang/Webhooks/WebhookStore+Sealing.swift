public import Postgres

extension WebhookStore {
    /// What ``sealSecrets(with:on:)`` changed.
    public struct Sealing: Sendable, Hashable {
        /// Endpoints whose secrets were stored in clear (before migration 0036) and are now sealed.
        public var sealed = 0
        /// Endpoints whose secrets were sealed under a retired key and are now sealed under the current one.
        public var resealed = 0

        /// Creates a count.
        public init(sealed: Int = 0, resealed: Int = 0) {
            self.sealed = sealed
            self.resealed = resealed
        }
    }

    /// Seals every endpoint secret not yet sealed under the current key of `keys`: those stored in clear before
    /// migration 0036, and those sealed under a retired key. `serve` and `work` run it at start, before any
    /// delivery; several at once are safe (a row is changed only if it still holds what was read).
    /// - Throws: `SecretsKeyError` naming the endpoint when a secret was sealed under a key `keys` does not hold
    ///   (the wrong `JIEBANG_SECRETS_KEY`) or was altered; nothing after it is changed.
    @discardableResult
    public static func sealSecrets(with keys: SecretsKeyring, on db: PostgresConnection) async throws -> Sealing {
        let prefix = keys.currentPrefix
        let rows = try await db.query(
            """
            SELECT id, secret, previous_secret FROM webhook_endpoints
            WHERE NOT starts_with(secret, \(prefix)) OR NOT starts_with(previous_secret, \(prefix))
            ORDER BY id
            """
        ).decode((Int, String, String?).self)
        var sealing = Sealing()
        for (id, secret, previous) in rows {
            let opened: (secret: String, previous: String?)
            do {
                opened = (try open(secret, keys), try previous.map { stored throws(SecretsKeyError) in try open(stored, keys) })
            } catch {
                throw SecretsKeyError("webhook endpoint \(id): \(error.description)")
            }
            let changed = try await db.execute(
                """
                UPDATE webhook_endpoints SET secret = \(try keys.seal(opened.secret)), previous_secret = \(try opened.previous.map(keys.seal))
                WHERE id = \(id) AND secret = \(secret) AND previous_secret IS NOT DISTINCT FROM \(previous)
                """)
            guard changed == 1 else { continue }
            if isClear(secret) || previous.map(isClear) == true { sealing.sealed += 1 } else { sealing.resealed += 1 }
        }
        return sealing
    }

    /// Where ``validateSealedCheck(on:)`` left the database's check that every stored secret is sealed.
    public enum SealedCheck: Sendable, Hashable {
        /// The check already held for every row.
        case alreadyValid
        /// The check was validated now: it holds for every row, those written before migration 0036 too.
        case validated
        /// A row still holds a secret in clear (sealing has not run since it was written); nothing changed.
        case rowsInClear
    }

    /// Validates `webhook_endpoints_secret_sealed` once every secret is sealed: migration 0036 added it `NOT VALID`,
    /// as it could not seal the secrets stored before it, so until now it held only for the rows written since.
    /// `serve` and `work` run it at start, after ``sealSecrets(with:on:)``. Validating takes a lock that lets reads and
    /// writes of the table go on; once valid, the check is only read.
    /// - Throws: `PostgresError` when the statement fails for another reason than a row in clear (the role may not
    ///   alter the table, say).
    public static func validateSealedCheck(on db: PostgresConnection) async throws -> SealedCheck {
        let valid = try await db.query(
            """
            SELECT convalidated FROM pg_constraint
            WHERE conrelid = 'webhook_endpoints'::regclass AND conname = 'webhook_endpoints_secret_sealed'
            """
        ).first?.decode(Bool.self)
        guard valid == false else { return .alreadyValid }
        do {
            try await db.execute("ALTER TABLE webhook_endpoints VALIDATE CONSTRAINT webhook_endpoints_secret_sealed")
            return .validated
        } catch let error as PostgresError where error.sqlState == .checkViolation {
            return .rowsInClear
        }
    }

    /// A stored secret's clear text: as it is when stored in clear (64 hex digits), else opened with `keys`.
    private static func open(_ stored: String, _ keys: SecretsKeyring) throws(SecretsKeyError) -> String {
        isClear(stored) ? stored : try keys.open(stored)
    }

    /// Whether a stored secret is in clear: the 64 lower-case hex digits of a secret made before migration 0036.
    static func isClear(_ stored: String) -> Bool {
        stored.utf8.count == 64 && stored.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
