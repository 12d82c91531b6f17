public import Postgres

/// The application's database schema: the migrations in `SQL/migrations`,
/// embedded into the binary at build time (so it runs from any folder).
public enum JiebangSchema {
    /// Every migration, in version order.
    /// - Throws: `MigrationError` naming a file that is not called `NNNN_name.sql`.
    public static func migrations() throws -> [Migration] {
        try EmbeddedMigrations.files
            .map { try Migration(fileName: $0.name, sql: $0.sql) }
            .sorted { $0.version < $1.version }
    }
}
