/// How a `PostgresClient` connects and sizes its pool.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string (`postgresql://...` or `key=value ...`).
    /// Empty means libpq's `PG*` environment variables and defaults.
    public var connectionString: String = ""
    /// A database name that replaces the one in `connectionString`. Default nil.
    public var databaseName: String?
    /// Connections opened at start and kept open. Default 1.
    public var minimumConnections: Int = 1
    /// The most connections open at once. Default 10.
    public var maximumConnections: Int = 10
    /// How long a task waits for a free connection before failing. Default 10 seconds.
    public var acquireTimeout: Duration = .seconds(10)
    /// How many distinct statements each connection prepares once and reuses (parse and plan
    /// are skipped on later runs). 0 sends every query unnamed, as PgBouncer's transaction
    /// pooling needs. Default 256.
    public var preparedStatementCacheSize: Int = 256
    /// A label for logs and thread names. Default "postgres".
    public var name: String = "postgres"

    /// Creates a configuration.
    public init(connectionString: String = "", minimumConnections: Int = 1, maximumConnections: Int = 10) {
        self.connectionString = connectionString
        self.minimumConnections = minimumConnections
        self.maximumConnections = maximumConnections
    }

    /// Reads `DATABASE_URL` from `environment`; without it libpq reads the `PG*` variables itself.
    public static func fromEnvironment(_ environment: [String: String]) -> PostgresConfiguration {
        PostgresConfiguration(connectionString: environment["DATABASE_URL"] ?? "")
    }
}
