public import Foundation
public import Postgres

extension SecretsKeyring.Key {
    /// Where the database's own secrets key is kept, for errors and logs.
    public static let databaseSource = "the database's key (server_secrets)"

    /// The key kept in the database (`server_secrets`, name `secrets_key`), made at random by the first caller that
    /// finds none: the fallback when no key is configured outside the database. Secrets sealed under it are only as
    /// safe as the database (a copy of it holds both).
    ///
    /// Two first callers at once: one inserts, the other's insert waits for it and does nothing; its next statement
    /// (a new snapshot) reads the row.
    /// - Throws: `SecretsKeyError` when no key can be made or read.
    public static func databaseKept(on db: PostgresConnection) async throws -> Self {
        let candidate = Self.random(source: databaseSource)
        for _ in 0..<3 {
            if let row = try await db.query(
                """
                WITH made AS (
                    INSERT INTO server_secrets (name, value) VALUES ('secrets_key', \(candidate.bytes))
                    ON CONFLICT (name) DO NOTHING RETURNING value
                )
                SELECT value FROM made UNION ALL SELECT value FROM server_secrets WHERE name = 'secrets_key'
                LIMIT 1
                """
            ).first {
                return try Self(try row.decode(Data.self), source: databaseSource)
            }
        }
        throw SecretsKeyError("the secrets key in server_secrets could be neither made nor read")
    }

    /// The key kept in the database if one was made, else nil; makes none.
    public static func databaseKept(ifAnyOn db: PostgresConnection) async throws -> Self? {
        guard let row = try await db.query("SELECT value FROM server_secrets WHERE name = 'secrets_key'").first else { return nil }
        return try Self(try row.decode(Data.self), source: databaseSource)
    }
}

extension SecretsKeyring {
    /// `keys`, or when nil the keyring of the database's own key (``Key/databaseKept(on:)``), made if missing.
    static func resolved(_ keys: SecretsKeyring?, on db: PostgresConnection) async throws -> SecretsKeyring {
        if let keys { return keys }
        return SecretsKeyring(current: try await Key.databaseKept(on: db))
    }
}
