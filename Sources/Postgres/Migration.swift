/// One schema change: a numbered SQL file.
public struct Migration: Sendable, Hashable {
    /// The number that orders migrations (from the file name `NNNN_name.sql`).
    public var version: Int
    /// The name after the number, for example `job_queue`.
    public var name: String
    /// The SQL text, possibly several statements.
    public var sql: String
    /// Whether it runs inside a transaction. A file whose first line is
    /// `-- migrate: no-transaction` runs outside one (for `CREATE INDEX CONCURRENTLY`).
    public var runsInTransaction: Bool
    /// The checksums this file had before it was rewritten in place, from its lines
    /// `-- former checksum: <64 hex digits>`. A database that applied the former text counts it as
    /// applied, as long as what the rewrite took out lives elsewhere (a definition file) and an
    /// existing database ends up with the catalogue of a new one.
    public var formerChecksums: Set<String>

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.runsInTransaction = !sql.hasPrefix("-- migrate: no-transaction")
        let prefix = "-- former checksum: "
        self.formerChecksums = Set(
            sql.split(separator: "\n").lazy
                .filter { $0.hasPrefix(prefix) }
                .map { String($0.dropFirst(prefix.count)).trimmingASCIISpaces }
                .filter { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
    }

    /// The SHA-256 of the SQL text (64 hex digits), recorded when the migration is applied.
    public var checksum: String { SHA256.hex(Array(sql.utf8)) }

    /// The SHA-256 of every migration's checksum in order, then every definition's: names one version
    /// of a schema.
    public static func fingerprint(of migrations: [Migration], definitions: [Definition] = []) -> String {
        let checksums = migrations.sorted { $0.version < $1.version }.map(\.checksum)
            + definitions.sorted { $0.name < $1.name }.map { $0.name + $0.checksum }
        return SHA256.hex(Array(checksums.joined().utf8))
    }

    /// Parses a file name of the form `NNNN_name.sql`.
    /// - Throws: `MigrationError` when the name does not have that form.
    public init(fileName: String, sql: String) throws {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count >= 4, let version = Int(parts[0]), version > 0, !parts[1].isEmpty else {
            throw MigrationError(message: "migration file \(fileName) is not named NNNN_name.sql")
        }
        self.init(version: version, name: String(parts[1]), sql: sql)
    }
}

/// A migration problem: a bad file name, a duplicate version, an edited applied file.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, on one line.
    public var message: String
    public var description: String { message }
}

extension String {
    fileprivate var trimmingASCIISpaces: String {
        String(drop { $0 == " " || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\r" }.reversed())
    }
}
