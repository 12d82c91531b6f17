public import Logging
public import Postgres

/// The application's database schema: the versioned migrations in `SQL/migrations` and the
/// repeatable definition files (functions, triggers, views) in `SQL/definitions`, embedded into the
/// binary at build time (so it runs from any folder).
public enum JiebangSchema {
    /// Every migration, in version order.
    /// - Throws: `MigrationError` naming a file that is not called `NNNN_name.sql`.
    public static func migrations() throws -> [Migration] {
        try EmbeddedMigrations.files
            .map { try Migration(fileName: $0.name, sql: $0.sql) }
            .sorted { $0.version < $1.version }
    }

    /// Every definition file, in the order they apply.
    /// - Throws: `MigrationError` naming a file that is not called `NN_area.sql`.
    public static func definitions() throws -> [Definition] {
        try EmbeddedDefinitions.files
            .map { try Definition(fileName: $0.name, sql: $0.sql) }
            .sorted { $0.name < $1.name }
    }

    /// Names this version of the schema: changes with any migration or definition file.
    public static func fingerprint() throws -> String {
        Migration.fingerprint(of: try migrations(), definitions: try definitions())
    }

    /// A migrator for the application's schema on `client`.
    public static func migrator(client: PostgresClient, logger: Logger = Logger(label: "jiebang.migrate")) throws -> Migrator {
        try Migrator(client: client, migrations: migrations(), definitions: definitions(), logger: logger)
    }
}
