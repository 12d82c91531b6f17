import ArgumentParser
import Foundation
import Hummingbird
import Jiebang
import JiebangHTTP
import JobQueue
import Logging
import Postgres
import Workers

/// `jiebang serve`: migrates the database and serves the API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API. With no DATABASE_URL, runs a private PostgreSQL in the data folder.")

    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: "Address to listen on (env JIEBANG_HOST).")
    var hostname: String?

    @Option(name: .long, help: "Port to listen on (env JIEBANG_PORT).")
    var port: Int?

    @Option(
        name: .customLong("pool-size"),
        help: "Database connections in the pool, all opened at start (env JIEBANG_DB_POOL_SIZE, default 4 per CPU, at least 4).")
    var poolSize: Int?

    /// Four connections per CPU: enough to keep PostgreSQL busy while some wait on the network or on
    /// commits, few enough that requests queue in the pool (in order) rather than in the CPUs' run queues,
    /// where the slowest ones wait longest (measured: Benchmarks/BoardBenchmark, p99 halves from 20 to 8
    /// connections on 2 CPUs at the same rate).
    static var defaultPoolSize: Int { max(4, 4 * ProcessInfo.processInfo.activeProcessorCount) }

    @Option(
        name: .customLong("http-threads"),
        help: "Threads reading requests and writing answers (env JIEBANG_HTTP_THREADS, default half the CPUs, at least 1).")
    var httpThreads: Int?

    @Flag(
        name: .customLong("print-pool-size"),
        help: "Print the pool size this invocation would use (after --pool-size and JIEBANG_DB_POOL_SIZE) and exit.")
    var printPoolSize = false

    @Flag(name: .customLong("no-migrate"), help: "Do not apply pending migrations; refuse to start if any are pending.")
    var noMigrate = false

    @Flag(
        inversion: .prefixedNo,
        help: "Run the job workers in this process too (default: on with the embedded database, off otherwise).")
    var withWorkers: Bool?

    func run() async throws {
        let pool = try resolvedPoolSize()
        if printPoolSize {
            print(pool)
            return
        }
        let settings = try database.settings()
        let logger = settings.logger("jiebang")
        let address = try settings.http(hostname: hostname, port: port, defaultPort: 8080)
        var configuration = HTTPConfiguration(hostname: address.hostname, port: address.port)
        configuration.trustedProxies = Set(
            (settings.environment["JIEBANG_TRUSTED_PROXIES"] ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        if let invalid = HTTPConfiguration.invalidTrustedProxy(configuration.trustedProxies) {
            throw CommandFailure("JIEBANG_TRUSTED_PROXIES: \(invalid) is neither an IP address nor a network such as 10.0.0.0/8")
        }
        configuration.maximumRequestsInFlight = try resolvedRequestLimit(settings.environment)
        configuration.threads = try resolvedHTTPThreads(settings.environment)
        let http = configuration
        Self.raiseOpenFileLimit(logger: logger)
        let smtp = try settings.smtp()
        let secretsKey = try settings.configuredSecretsKey()
        let retiredSecretsKeys = try settings.retiredSecretsKeys()

        // A fixed-size pool, opened at start: a deadline rush finds every connection ready.
        try await settings.withDatabase(minimumConnections: pool, maximumConnections: pool) { client in
            try await prepareSchema(client, migrate: !noMigrate, logger: logger)
            let keys = try await settings.secretsKeys(configured: secretsKey, retired: retiredSecretsKeys, client, logger: logger)
            let workers =
                (withWorkers ?? settings.usesEmbeddedDatabase)
                ? buildWorkerServices(
                    configuration: WorkerConfiguration(), database: client, jobs: JobClient(),
                    registry: ProductJobs.registry(smtp: smtp, secretsKeys: keys), schedules: ProductJobs.schedules(),
                    logger: settings.logger("jiebang.jobs"))
                : []
            var withKeys = http
            withKeys.secretsKeys = keys
            let app = buildApplication(
                configuration: withKeys, database: client, boardDatabase: settings.readDatabase(like: client.configuration),
                metrics: settings.metrics, services: workers,
                cronSchedules: ProductJobs.schedules().map(\.schedule), logger: logger
            ) { port in
                let base = "http://\(http.hostname):\(port ?? http.port)"
                let line = "jiebang: serving \(base)/ (the public board; the API under \(base)/v1, its document at /openapi.yaml)\n"
                FileHandle.standardError.write(Data(line.utf8))
            }
            try await settings.runUntilSignalled(app, logger: logger)
        }
    }

    /// The pool size: `--pool-size`, else `JIEBANG_DB_POOL_SIZE`, else `defaultPoolSize`.
    /// - Throws: `CommandFailure` naming the option or variable when it is not a whole number from 1 to 500.
    private func resolvedPoolSize() throws -> Int {
        if let poolSize {
            guard (1...500).contains(poolSize) else {
                throw CommandFailure("--pool-size must be between 1 and 500, not \(poolSize)")
            }
            return poolSize
        }
        guard let text = ProcessInfo.processInfo.environment["JIEBANG_DB_POOL_SIZE"], !text.isEmpty else {
            return Self.defaultPoolSize
        }
        guard let value = Int(text), (1...500).contains(value) else {
            throw CommandFailure("JIEBANG_DB_POOL_SIZE: \(text) is not a whole number from 1 to 500")
        }
        return value
    }

    /// `--http-threads`, else `JIEBANG_HTTP_THREADS`, else `HTTPConfiguration.defaultThreads`.
    /// - Throws: `CommandFailure` naming the option or the variable when it is not a whole number from 1 to 256.
    private func resolvedHTTPThreads(_ environment: [String: String]) throws -> Int {
        if let httpThreads {
            guard (1...256).contains(httpThreads) else {
                throw CommandFailure("--http-threads: \(httpThreads) is not a whole number from 1 to 256")
            }
            return httpThreads
        }
        guard let text = environment["JIEBANG_HTTP_THREADS"], !text.isEmpty else { return HTTPConfiguration.defaultThreads }
        guard let value = Int(text), (1...256).contains(value) else {
            throw CommandFailure("JIEBANG_HTTP_THREADS: \(text) is not a whole number from 1 to 256")
        }
        return value
    }

    /// The most requests in flight: `JIEBANG_MAX_REQUESTS_IN_FLIGHT` (0: no limit), else
    /// `HTTPConfiguration`'s default (256).
    /// - Throws: `CommandFailure` naming the variable when it is not a whole number from 0 to 1,000,000.
    private func resolvedRequestLimit(_ environment: [String: String]) throws -> Int? {
        guard let text = environment["JIEBANG_MAX_REQUESTS_IN_FLIGHT"], !text.isEmpty else {
            return HTTPConfiguration().maximumRequestsInFlight
        }
        guard let value = Int(text), (0...1_000_000).contains(value) else {
            throw CommandFailure("JIEBANG_MAX_REQUESTS_IN_FLIGHT: \(text) is not a whole number from 0 to 1000000")
        }
        return value == 0 ? nil : value
    }

    /// Raises the soft limit of open files to the hard limit, so that thousands of client connections
    /// (each a file descriptor) are not refused at the common default of 1,024; logs (notice) when it does.
    static func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            logger.warning("cannot raise the open files limit", metadata: ["limit.soft": "\(before)", "errno": "\(errno)"])
            return
        }
        logger.notice("raised the open files limit", metadata: ["limit.before": "\(before)", "limit.now": "\(limit.rlim_cur)"])
    }

    private func prepareSchema(_ client: PostgresClient, migrate: Bool, logger: Logger) async throws {
        let migrator = try JiebangSchema.migrator(client: client, logger: logger)
        if migrate {
            try await migrator.migrate()
            return
        }
        let statuses = try await migrator.status()
        if let problem = statuses.first(where: { $0.state == .pending || $0.state == .edited }) {
            throw CommandFailure(
                "migration \(problem.version) (\(problem.name)) is \(problem.state.rawValue); run `jiebang migrate`")
        }
        if let problem = try await migrator.definitionStatus().first(where: { $0.state == .new || $0.state == .changed }) {
            throw CommandFailure("definition file \(problem.name).sql is \(problem.state.rawValue); run `jiebang migrate`")
        }
    }
}
