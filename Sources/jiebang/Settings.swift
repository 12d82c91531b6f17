import Foundation
import Logging
import Postgres
import Prometheus
import SMTP
import ServiceLifecycle
import UnixSignals

/// What the CLI read from its environment and options, once.
struct Settings {
    let environment: [String: String]
    /// Where metrics are collected; `/metrics` reports it.
    let metrics: PrometheusCollectorRegistry
    /// Where the embedded cluster lives (`<data-dir>/postgres`).
    let dataDirectory: URL
    let logLevel: Logger.Level

    /// Whether a database is configured (`DATABASE_URL` or libpq's own variables).
    var usesEmbeddedDatabase: Bool {
        ["DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE"].allSatisfy {
            (environment[$0] ?? "").isEmpty
        }
    }

    /// A duration in seconds from `variable` (decimals allowed; 0 turns the limit off), `defaultValue` when unset.
    /// - Throws: `CommandFailure` naming the variable when the value is not a number from 0 to 86,400.
    func seconds(_ variable: String, default defaultValue: Duration?) throws -> Duration? {
        guard let text = environment[variable], !text.isEmpty else { return defaultValue }
        guard let value = Double(text), value.isFinite, (0...86_400).contains(value) else {
            throw CommandFailure("\(variable): \(text) is not a number of seconds from 0 to 86400")
        }
        return value == 0 ? .zero : .milliseconds(Int((value * 1000).rounded()))
    }

    /// The SMTP server e-mails go through: `SMTP_URL` (smtp://, smtp+starttls:// or smtps://, see
    /// `SMTPConfiguration`) with `MAIL_FROM` (the sender, `address` or `Name <address>`), and optionally
    /// `SMTP_HELO_NAME` (default localhost), `SMTP_CA_FILE` (PEM roots to trust instead of the system's) and
    /// `SMTP_TIMEOUT` (seconds per session, default 30). Nil when `SMTP_URL` is unset: e-mails are then marked
    /// failed ("no SMTP server is configured") instead of piling up.
    /// - Throws: `CommandFailure` naming the variable at fault.
    func smtp() throws -> SMTPConfiguration? {
        guard let url = environment["SMTP_URL"], !url.isEmpty else { return nil }
        guard let sender = environment["MAIL_FROM"], !sender.isEmpty else {
            throw CommandFailure("MAIL_FROM: set the sender address (for example 揭榜挂帅平台 <noreply@example.gov.cn>) when SMTP_URL is set")
        }
        let timeout = try seconds("SMTP_TIMEOUT", default: .seconds(30)) ?? .seconds(30)
        guard timeout > .zero else { throw CommandFailure("SMTP_TIMEOUT: must be more than 0 seconds") }
        do {
            var configuration = try SMTPConfiguration(
                url: url, sender: sender, heloName: environment["SMTP_HELO_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "localhost",
                timeout: timeout)
            if let file = environment["SMTP_CA_FILE"], !file.isEmpty {
                guard FileManager.default.isReadableFile(atPath: file) else {
                    throw CommandFailure("SMTP_CA_FILE: \(file) is not a readable file")
                }
                configuration.trustRootsFile = file
            }
            return configuration
        } catch let error as SMTPConfiguration.Invalid {
            throw CommandFailure("SMTP_URL / MAIL_FROM: \(error.description)")
        }
    }

    /// How long a graceful shutdown may take before what still runs is cancelled
    /// (`JIEBANG_SHUTDOWN_GRACE`, default 30 seconds).
    func shutdownGrace() throws -> Duration {
        try seconds("JIEBANG_SHUTDOWN_GRACE", default: .seconds(30)) ?? .seconds(30)
    }

    /// Runs `service` until SIGTERM or SIGINT, then shuts it down gracefully; what still runs after
    /// the shutdown grace (requests, statements, jobs) is cancelled, so the process always exits.
    func runUntilSignalled(_ service: some Service, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = try shutdownGrace()
        try await ServiceGroup(configuration: configuration).run()
    }

    /// The HTTP address from `JIEBANG_HOST` / `JIEBANG_PORT` unless options override them.
    func http(hostname: String?, port: Int?, defaultPort: Int, portVariable: String = "JIEBANG_PORT") throws -> HTTPAddress {
        if let port, !(1...65535).contains(port) {
            throw CommandFailure("--port: \(port) is not a port number (1-65535)")
        }
        let portText = environment[portVariable]
        guard let port = port ?? (portText.map { Int($0) } ?? defaultPort), (1...65535).contains(port) else {
            throw CommandFailure("\(portVariable): \(portText ?? "") is not a port number (1-65535)")
        }
        return HTTPAddress(hostname: hostname ?? environment["JIEBANG_HOST"] ?? "127.0.0.1", port: port)
    }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    /// The embedded cluster in the data folder.
    func cluster() throws -> PostgresCluster {
        try PostgresCluster(
            configuration: .init(directory: dataDirectory.appending(path: "postgres")),
            logger: logger("jiebang.postgres.cluster"))
    }

    /// Runs `body` with a pool on the configured (or embedded) database, then closes the pool and
    /// releases the embedded cluster, also when `body` throws: the cluster stops when no other live
    /// process uses it (`PostgresClusterUse`).
    ///
    /// - Parameters:
    ///   - minimumConnections: connections the pool opens when it starts running as a service and keeps (default 1).
    func withDatabase<Result: Sendable>(
        minimumConnections: Int = 1, maximumConnections: Int = 10, _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let (client, clusterUse) = try await openDatabase(
            minimumConnections: minimumConnections, maximumConnections: maximumConnections)
        let result: Result
        do {
            result = try await body(client)
        } catch {
            await client.close()
            try? clusterUse?.release()
            throw error
        }
        await client.close()
        try clusterUse?.release()
        return result
    }

    /// How long a statement of `serve` or `work` waits for a lock unless `JIEBANG_DB_LOCK_TIMEOUT` says: 2 seconds.
    static let defaultLockTimeout: Duration = .seconds(2)

    /// Connects to the configured database, or starts the embedded cluster and connects to it.
    /// - Returns: the pool, and this process's use of the embedded cluster (so the caller releases it at exit).
    /// - Throws: `CommandFailure` with libpq's message on one line when the database cannot be reached.
    private func openDatabase(
        minimumConnections: Int, maximumConnections: Int
    ) async throws -> (PostgresClient, clusterUse: PostgresClusterUse?) {
        var configuration = PostgresConfiguration.fromEnvironment(environment)
        // 0 sends 0 (the server's "no limit"); unset keeps the client's default.
        configuration.statementTimeout = try seconds("JIEBANG_DB_STATEMENT_TIMEOUT", default: configuration.statementTimeout)
        // A request (or job) waiting on a lock holds a pooled connection all the while: a short wait keeps
        // a table locked for long (a migration, an operator's transaction) from taking every connection
        // from the routes that do not touch it. They wait at most this long for one to come free.
        configuration.lockTimeout = try seconds("JIEBANG_DB_LOCK_TIMEOUT", default: Self.defaultLockTimeout)
        configuration.idleInTransactionTimeout = try seconds(
            "JIEBANG_DB_IDLE_IN_TRANSACTION_TIMEOUT", default: configuration.idleInTransactionTimeout)
        configuration.minimumConnections = min(minimumConnections, maximumConnections)
        configuration.maximumConnections = maximumConnections
        do {
            configuration.poller = try PostgresPoller.parse(environment[PostgresPoller.environmentVariable]) ?? .platformDefault
        } catch {
            throw CommandFailure("\(PostgresPoller.environmentVariable): \(error.description)")
        }
        try applyPooling(to: &configuration)
        var use: PostgresClusterUse?
        if usesEmbeddedDatabase {
            let cluster = try cluster()
            do {
                use = try await PostgresClusterUse.attach(to: cluster)
            } catch let failure as PostgresCluster.Failure {
                throw CommandFailure("cannot start the embedded PostgreSQL: \(failure.description)")
            }
            configuration.connectionString = cluster.connectionString()
        }
        let client = PostgresClient(configuration: configuration, logger: logger("jiebang.postgres"))
        do {
            _ = try await client.query("SELECT 1")
        } catch let error as PostgresError {
            await client.close()
            try? use?.release()
            let source = usesEmbeddedDatabase ? "the embedded PostgreSQL" : "PostgreSQL (check DATABASE_URL / PG* variables)"
            throw CommandFailure("cannot connect to \(source): \(error.message)")
        }
        if configuration.transactionPooling { await warnOfMissingTimeouts(client) }
        return (client, use)
    }

    /// The pool the public board reads from when `JIEBANG_READ_DATABASE_URL` is set (typically every host with
    /// `target_session_attrs=prefer-standby`), else nil: the board then reads from the main pool. It has the
    /// main pool's timeouts, pooling and size, and opens its connections when the board first needs them.
    func readDatabase(like main: PostgresConfiguration) -> PostgresClient? {
        guard let url = environment["JIEBANG_READ_DATABASE_URL"], !url.isEmpty else { return nil }
        var configuration = main
        configuration.connectionString = url
        configuration.directConnectionString = nil
        configuration.minimumConnections = 0
        configuration.name = "postgres-read"
        return PostgresClient(configuration: configuration, logger: logger("jiebang.postgres.read"))
    }

    /// Reads `JIEBANG_DB_POOLING` (`session`, the default, or `transaction`: `DATABASE_URL` is a pooler in
    /// transaction mode such as PgBouncer's) and `JIEBANG_DIRECT_DATABASE_URL` (the server itself, for LISTEN
    /// and migrations; without it the workers only poll and migrating is refused).
    /// - Throws: `CommandFailure` naming the variable when the value is unknown or the embedded database is used.
    private func applyPooling(to configuration: inout PostgresConfiguration) throws {
        switch environment["JIEBANG_DB_POOLING"] ?? "" {
        case "", "session":
            return
        case "transaction":
            guard !usesEmbeddedDatabase else {
                throw CommandFailure(
                    "JIEBANG_DB_POOLING: transaction needs DATABASE_URL to name the pooler; the embedded database has none")
            }
            configuration.transactionPooling = true
            configuration.directConnectionString = environment["JIEBANG_DIRECT_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        case let other:
            throw CommandFailure("JIEBANG_DB_POOLING: \(other) is neither session nor transaction")
        }
    }

    /// Behind a transaction pooler the session's timeouts cannot be sent at connection: they come from the
    /// role (`ALTER ROLE … SET`). Says so once when the role sets none.
    private func warnOfMissingTimeouts(_ client: PostgresClient) async {
        let names = ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"]
        guard
            let row = try? await client.query(
                "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), current_setting('idle_in_transaction_session_timeout')"
            ).first,
            let values = try? row.decode((String, String, String).self)
        else { return }
        let unset = zip(names, [values.0, values.1, values.2]).filter { $0.1 == "0" }.map(\.0)
        guard !unset.isEmpty else { return }
        logger("jiebang.postgres").warning(
            """
            behind a transaction pooler the timeouts come from the database role, and it sets none of \(unset.joined(separator: ", ")): \
            ALTER ROLE … SET statement_timeout = '30s', lock_timeout = '2s', idle_in_transaction_session_timeout = '60s'
            """)
    }
}

/// A host and port to listen on.
struct HTTPAddress {
    var hostname: String
    var port: Int
}
