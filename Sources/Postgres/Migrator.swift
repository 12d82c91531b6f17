public import Foundation
public import Logging

/// Applies numbered migrations in order, each in its own transaction, and
/// records each with a SHA-256 checksum of its text.
///
/// A session advisory lock makes concurrent runs (several processes starting
/// at once) safe: one applies, the others wait and then find nothing to do.
/// If a migration that was already applied has been edited since, nothing
/// runs and `MigrationError` names the file.
///
/// A migration waits at most `lockTimeout` for each table lock it needs, so an
/// `ALTER TABLE` never queues behind a rush's transactions (and every request
/// behind it); a migration that times out is rolled back and tried again, up to
/// `lockAttempts` times. Its statements have no statement timeout.
public struct Migrator: Sendable {
    /// One migration's state in a database.
    public struct Status: Sendable, Hashable {
        /// The state of one migration.
        public enum State: String, Sendable {
            /// Applied, and the file still matches.
            case applied
            /// Not applied yet.
            case pending
            /// Applied, but the file changed since.
            case edited
            /// Applied, but this program does not know the file (a newer program applied it).
            case unknown
        }
        public var version: Int
        public var name: String
        public var state: State
        public var appliedAt: Date?
    }

    /// The key of the advisory lock held while migrating.
    public static let lockKey: Int64 = 0x6A69_6562_616E_67

    let client: PostgresClient
    let migrations: [Migration]
    let logger: Logger
    /// How long a migration's statement waits for a lock before the migration is rolled back and tried
    /// again. Default 2 seconds.
    public var lockTimeout: Duration = .seconds(2)
    /// How many times a migration in a transaction is tried when it cannot get its locks. Default 10.
    public var lockAttempts = 10

    /// Creates a migrator.
    /// - Throws: `MigrationError` if two migrations share a version.
    public init(client: PostgresClient, migrations: [Migration], logger: Logger = Logger(label: "jiebang.migrate")) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.version == later.version {
            throw MigrationError(message: "migrations \(earlier.name) and \(later.name) share version \(earlier.version)")
        }
        self.client = client
        self.migrations = sorted
        self.logger = logger
    }

    /// Lists every migration, known or applied, with its state.
    public func status() async throws -> [Status] {
        try await client.withConnection { connection in
            try await ensureTable(on: connection)
            return try await statuses(on: connection)
        }
    }

    /// Applies every pending migration.
    /// - Returns: the migrations applied by this call.
    /// - Throws: `MigrationError` if an applied migration was edited; `PostgresError` if one fails
    ///   (that migration is rolled back; those before it stay applied).
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await client.withConnection { connection in
            // Concurrent starts wait for each other however long a migration runs; a data move may
            // take longer than the pool's statement timeout.
            try await connection.execute(
                "SELECT set_config('lock_timeout', '0', false), set_config('statement_timeout', '0', false)")
            try await connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
            let milliseconds = String(max(1, lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000))
            do {
                try await connection.execute("SELECT set_config('lock_timeout', \(milliseconds), false)")
                let applied = try await migrateLocked(on: connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                try await connection.execute("RESET ALL")
                return applied
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                _ = try? await connection.execute("RESET ALL")
                throw error
            }
        }
    }

    private func migrateLocked(on connection: PostgresConnection) async throws -> [Migration] {
        try await ensureTable(on: connection)
        let statuses = try await statuses(on: connection)
        if let edited = statuses.first(where: { $0.state == .edited }) {
            throw MigrationError(
                message: "migration \(String(format: "%04d", edited.version))_\(edited.name).sql was edited after it "
                    + "was applied; restore it and add a new migration instead")
        }
        let pending = Set(statuses.filter { $0.state == .pending }.map(\.version))
        var applied: [Migration] = []
        for migration in migrations where pending.contains(migration.version) {
            let started = ContinuousClock.now
            let record: PostgresQuery = """
                INSERT INTO schema_migrations (version, name, checksum)
                VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                """
            do {
                if migration.runsInTransaction {
                    var attempt = 1
                    while true {
                        do {
                            try await connection.withTransaction { connection in
                                try await connection.execute(unsafeScript: migration.sql)
                                try await connection.execute(record)
                            }
                            break
                        } catch let error as PostgresError where error.sqlState?.code == "55P03" && attempt < lockAttempts {
                            logger.notice(
                                "migration waits for its locks",
                                metadata: ["migration.version": "\(migration.version)", "migration.attempt": "\(attempt)"])
                            try await Task.sleep(for: .milliseconds(Int.random(in: 50...(100 * attempt))))
                            attempt += 1
                        }
                    }
                } else {
                    try await connection.execute(unsafeScript: migration.sql)
                    try await connection.execute(record)
                }
            } catch var error as PostgresError {
                error.message = "migration \(migration.version) (\(migration.name)) failed: \(error.message)"
                throw error
            }
            logger.info(
                "applied migration",
                metadata: [
                    "migration.version": "\(migration.version)", "migration.name": "\(migration.name)",
                    "migration.duration": "\(ContinuousClock.now - started)",
                ])
            applied.append(migration)
        }
        return applied
    }

    private func ensureTable(on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private func statuses(on connection: PostgresConnection) async throws -> [Status] {
        let rows = try await connection.query(
            "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
        var applied: [Int: (name: String, checksum: String, at: Date)] = [:]
        for row in rows {
            let (version, name, checksum, at) = try row.decode((Int, String, String, Date).self)
            applied[version] = (name, checksum, at)
        }
        var result: [Status] = []
        for migration in migrations {
            if let record = applied.removeValue(forKey: migration.version) {
                let state: Status.State = record.checksum == migration.checksum ? .applied : .edited
                result.append(Status(version: migration.version, name: migration.name, state: state, appliedAt: record.at))
            } else {
                result.append(Status(version: migration.version, name: migration.name, state: .pending, appliedAt: nil))
            }
        }
        for (version, record) in applied {
            result.append(Status(version: version, name: record.name, state: .unknown, appliedAt: record.at))
        }
        return result.sorted { $0.version < $1.version }
    }

}
