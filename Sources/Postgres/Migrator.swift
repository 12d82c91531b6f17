public import Foundation
public import Logging

/// Applies numbered migrations in order, each in its own transaction, and
/// records each with a SHA-256 checksum of its text; then applies the repeatable
/// definition files (functions, triggers, views) in name order, all in one
/// transaction, when one of them is new or changed or a migration was applied,
/// and records their checksums in `schema_definitions`.
///
/// A migration rewritten in place names the checksums it had before
/// (`-- former checksum: …`); a database that applied a former text counts it
/// as applied, and its record takes the new checksum.
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

    /// One definition file's state in a database.
    public struct DefinitionStatus: Sendable, Hashable {
        /// The state of one definition file.
        public enum State: String, Sendable {
            /// Applied, and the file still matches.
            case applied
            /// Applied, but the file changed since: the next migration applies it again.
            case changed
            /// Never applied.
            case new
            /// Recorded, but this program has no such file (removed, or a newer program's).
            case unknown
        }
        public var name: String
        public var state: State
        public var appliedAt: Date?
    }

    /// What one run of the migrator applied.
    public struct Outcome: Sendable {
        /// The migrations applied, in order.
        public var migrations: [Migration]
        /// The definition files applied, in order (all of them whenever any was due).
        public var definitions: [Definition]
    }

    /// The key of the advisory lock held while migrating.
    public static let lockKey: Int64 = 0x6A69_6562_616E_67

    var client: PostgresClient
    let migrations: [Migration]
    let definitions: [Definition]
    let logger: Logger
    /// How long a migration's statement waits for a lock before the migration is rolled back and tried
    /// again. Default 2 seconds.
    public var lockTimeout: Duration = .seconds(2)
    /// How many times a migration in a transaction is tried when it cannot get its locks. Default 10.
    public var lockAttempts = 10

    /// Creates a migrator.
    /// - Parameters:
    ///   - migrations: the versioned migrations.
    ///   - definitions: the repeatable definition files, applied after the migrations in name order.
    /// - Throws: `MigrationError` if two migrations share a version or two definitions a name.
    public init(
        client: PostgresClient, migrations: [Migration], definitions: [Definition] = [],
        logger: Logger = Logger(label: "jiebang.migrate")
    ) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (earlier, later) in zip(sorted, sorted.dropFirst()) where earlier.version == later.version {
            throw MigrationError(message: "migrations \(earlier.name) and \(later.name) share version \(earlier.version)")
        }
        let sortedDefinitions = definitions.sorted { $0.name < $1.name }
        for (earlier, later) in zip(sortedDefinitions, sortedDefinitions.dropFirst()) where earlier.name == later.name {
            throw MigrationError(message: "two definition files are named \(earlier.name)")
        }
        self.client = client
        self.migrations = sorted
        self.definitions = sortedDefinitions
        self.logger = logger
    }

    /// Lists every migration, known or applied, with its state.
    public func status() async throws -> [Status] {
        try await client.withConnection { connection in
            try await ensureTable(on: connection)
            return try await statuses(on: connection)
        }
    }

    /// Lists every definition file, known or recorded, with its state.
    public func definitionStatus() async throws -> [DefinitionStatus] {
        try await client.withConnection { connection in
            try await ensureTable(on: connection)
            return try await definitionStatuses(on: connection)
        }
    }

    /// Applies every pending migration, then the definition files if any is due.
    /// - Returns: the migrations applied by this call.
    /// - Throws: `MigrationError` if an applied migration was edited; `PostgresError` if one fails
    ///   (that migration is rolled back; those before it stay applied).
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await apply().migrations
    }

    /// Applies every pending migration, then every definition file if any is new or changed or a
    /// migration was applied.
    /// - Returns: what this call applied.
    /// - Throws: `MigrationError` if an applied migration was edited; `PostgresError` if a migration
    ///   fails (it is rolled back; those before it stay applied) or a definition file fails (no
    ///   definition file is applied).
    ///
    /// Behind a transaction pooler (`PostgresConfiguration.transactionPooling`) the advisory lock needs a session:
    /// it migrates on the direct connection string, or without one only confirms that nothing is due.
    public func apply() async throws -> Outcome {
        if client.configuration.transactionPooling {
            return try await applyBehindPooler()
        }
        return try await client.withConnection { connection in
            // Concurrent starts wait for each other however long a migration runs; a data move may
            // take longer than the pool's statement timeout.
            try await connection.execute(
                "SELECT set_config('lock_timeout', '0', false), set_config('statement_timeout', '0', false)")
            try await connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
            let milliseconds = String(
                max(1, lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000))
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

    private func applyBehindPooler() async throws -> Outcome {
        if var session = client.configuration.sessionConfiguration {
            session.minimumConnections = 0
            session.maximumConnections = 1
            let direct = PostgresClient(configuration: session, logger: logger)
            var migrator = self
            migrator.client = direct
            do {
                let outcome = try await migrator.apply()
                await direct.close()
                return outcome
            } catch {
                await direct.close()
                throw error
            }
        }
        let due = try await status().filter { $0.state == .pending || $0.state == .edited }
        let definitionsDue = try await definitionStatus().filter { $0.state == .new || $0.state == .changed }
        guard due.isEmpty && definitionsDue.isEmpty else {
            throw MigrationError(
                message: "\(due.count) migration(s) and \(definitionsDue.count) definition file(s) are due, and migrating needs a "
                    + "session of its own, which a transaction pooler does not keep: migrate over a direct connection "
                    + "(jiebang migrate with JIEBANG_DIRECT_DATABASE_URL, or DATABASE_URL the server itself)")
        }
        return Outcome(migrations: [], definitions: [])
    }

    private func migrateLocked(on connection: PostgresConnection) async throws -> Outcome {
        try await ensureTable(on: connection)
        let statuses = try await statuses(on: connection)
        if let edited = statuses.first(where: { $0.state == .edited }) {
            throw MigrationError(
                message: "migration \(String(format: "%04d", edited.version))_\(edited.name).sql was edited after it "
                    + "was applied; restore it and add a new migration instead")
        }
        try await adoptRewrittenMigrations(on: connection)
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
        if statuses.contains(where: { $0.state == .unknown }) {
            logger.warning("the database has migrations this program does not know: its definition files stay as they are")
            return Outcome(migrations: applied, definitions: [])
        }
        let due = try await definitionStatuses(on: connection).contains { $0.state == .changed || $0.state == .new }
        guard !definitions.isEmpty, due || !applied.isEmpty else {
            return Outcome(migrations: applied, definitions: [])
        }
        try await applyDefinitions(on: connection)
        return Outcome(migrations: applied, definitions: definitions)
    }

    /// Gives the record of each migration rewritten in place the checksum of its present text.
    private func adoptRewrittenMigrations(on connection: PostgresConnection) async throws {
        for migration in migrations where !migration.formerChecksums.isEmpty {
            let updated = try await connection.execute(
                """
                UPDATE schema_migrations SET checksum = \(migration.checksum)
                WHERE version = \(migration.version) AND checksum = ANY (\(migration.formerChecksums.sorted()))
                """)
            if updated > 0 {
                logger.info("migration rewritten in place", metadata: ["migration.version": "\(migration.version)"])
            }
        }
    }

    /// Applies every definition file in order, and records their checksums, in one transaction.
    private func applyDefinitions(on connection: PostgresConnection) async throws {
        let started = ContinuousClock.now
        var attempt = 1
        while true {
            do {
                try await connection.withTransaction { connection in
                    for definition in definitions {
                        do {
                            try await connection.execute(unsafeScript: definition.sql)
                        } catch var error as PostgresError {
                            error.message = "definition file \(definition.name).sql failed: \(error.message)"
                            throw error
                        }
                        try await connection.execute(
                            """
                            INSERT INTO schema_definitions (name, checksum) VALUES (\(definition.name), \(definition.checksum))
                            ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                            """)
                    }
                }
                break
            } catch let error as PostgresError where error.sqlState?.code == "55P03" && attempt < lockAttempts {
                logger.notice("definitions wait for their locks", metadata: ["definitions.attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...(100 * attempt))))
                attempt += 1
            }
        }
        logger.info(
            "applied definition files",
            metadata: ["definitions.count": "\(definitions.count)", "definitions.duration": "\(ContinuousClock.now - started)"])
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
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_definitions (
                name       text PRIMARY KEY,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
    }

    private func definitionStatuses(on connection: PostgresConnection) async throws -> [DefinitionStatus] {
        let rows = try await connection.query("SELECT name, checksum, applied_at FROM schema_definitions")
        var recorded: [String: (checksum: String, at: Date)] = [:]
        for row in rows {
            let (name, checksum, at) = try row.decode((String, String, Date).self)
            recorded[name] = (checksum, at)
        }
        var result: [DefinitionStatus] = []
        for definition in definitions {
            if let record = recorded.removeValue(forKey: definition.name) {
                let state: DefinitionStatus.State = record.checksum == definition.checksum ? .applied : .changed
                result.append(DefinitionStatus(name: definition.name, state: state, appliedAt: record.at))
            } else {
                result.append(DefinitionStatus(name: definition.name, state: .new, appliedAt: nil))
            }
        }
        for (name, record) in recorded {
            result.append(DefinitionStatus(name: name, state: .unknown, appliedAt: record.at))
        }
        return result.sorted { $0.name < $1.name }
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
                let matches = record.checksum == migration.checksum || migration.formerChecksums.contains(record.checksum)
                let state: Status.State = matches ? .applied : .edited
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
