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
    /// The longest any one statement may run before the server cancels it (`statement_timeout`,
    /// SQLSTATE 57014). Default 30 seconds; nil leaves the server's setting.
    public var statementTimeout: Duration? = .seconds(30)
    /// The longest a statement waits for a lock (`lock_timeout`, SQLSTATE 55P03), so a request
    /// queued behind a long transaction fails fast instead of pinning its connection. Default 10
    /// seconds; nil leaves the server's setting.
    public var lockTimeout: Duration? = .seconds(10)
    /// How long a session may sit idle inside an open transaction before the server ends it
    /// (`idle_in_transaction_session_timeout`, SQLSTATE 25P03), releasing its locks. Default 60
    /// seconds; nil leaves the server's setting.
    public var idleInTransactionTimeout: Duration? = .seconds(60)
    /// Whether `connectionString` leads to a pooler in transaction mode (PgBouncer's `pool_mode =
    /// transaction`), where each transaction may run on a different server session. Then statements go
    /// unnamed (no prepared statement outlives its transaction), the timeouts above are not sent as
    /// startup options (the pooler refuses them: set them on the role, `ALTER ROLE … SET`), and what
    /// needs a session of its own (LISTEN, the migrator's advisory lock) uses `directConnectionString`,
    /// or is refused without one. Default false.
    public var transactionPooling = false
    /// A connection string that reaches the server without the pooler, for what needs a session when
    /// `transactionPooling` is on. Default nil.
    public var directConnectionString: String?
    /// How the client's event loop waits for its sockets. Default `PostgresPoller.standard`: epoll on
    /// Linux, poll(2) elsewhere, unless `JIEBANG_POSTGRES_POLLER` names one.
    public var poller: PostgresPoller = .standard
    /// How many event-loop threads send statements and read results; each connection belongs to one, in
    /// turn, and a task on a loop's executor (`PostgresClient.executor`) leases that loop's connections
    /// first. Default 1: one loop thread reads about 80,000 results a second here. On two processors a
    /// second loop made tasks on the client's executor 8% faster and tasks on the global executor (as
    /// request handlers run) 5-9% slower: more wake-ups, each finding fewer ready sockets (see
    /// Benchmarks/PostgresBenchmark).
    public var eventLoops = 1

    /// Creates a configuration.
    public init(connectionString: String = "", minimumConnections: Int = 1, maximumConnections: Int = 10) {
        self.connectionString = connectionString
        self.minimumConnections = minimumConnections
        self.maximumConnections = maximumConnections
    }

    /// Whether `listen(on:)` can work: always without a transaction pooler, through its direct connection with one.
    public var canListen: Bool { !transactionPooling || directConnectionString != nil }

    /// The configuration for a session of its own: the direct connection string when a transaction pooler
    /// is in the way (nil when there is none), otherwise this configuration.
    public var sessionConfiguration: PostgresConfiguration? {
        guard transactionPooling else { return self }
        guard let directConnectionString else { return nil }
        var direct = self
        direct.connectionString = directConnectionString
        direct.transactionPooling = false
        direct.directConnectionString = nil
        return direct
    }

    /// The prepared statements each connection keeps: none behind a transaction pooler.
    var effectiveStatementCacheSize: Int { transactionPooling ? 0 : preparedStatementCacheSize }

    /// Reads `DATABASE_URL` from `environment`; without it libpq reads the `PG*` variables itself.
    public static func fromEnvironment(_ environment: [String: String]) -> PostgresConfiguration {
        PostgresConfiguration(connectionString: environment["DATABASE_URL"] ?? "")
    }

    /// The server settings every session starts with, as `-c name=value` words for libpq's
    /// `options`: the timeouts that are set, in milliseconds (0 turns a timeout off).
    var sessionSettings: [String] {
        let settings: [(String, Duration?)] = [
            ("statement_timeout", statementTimeout), ("lock_timeout", lockTimeout),
            ("idle_in_transaction_session_timeout", idleInTransactionTimeout),
        ]
        return settings.compactMap { name, value in
            guard let value else { return nil }
            let (seconds, attoseconds) = value.components
            // Clamped before multiplying: PostgreSQL takes at most 2^31 - 1 ms (about 24 days).
            let milliseconds = min(max(0, seconds), 3_000_000) * 1000 + max(0, attoseconds) / 1_000_000_000_000_000
            return "-c \(name)=\(min(milliseconds, Int64(Int32.max)))"
        }
    }
}
