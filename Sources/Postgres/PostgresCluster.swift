public import Foundation
public import Logging

/// A private PostgreSQL cluster that the application runs itself (`initdb` and `pg_ctl`).
///
/// It listens on a unix socket only (no TCP), trusts local connections (the
/// socket folder is reachable only by the server's OS user and root), and keeps
/// its data between runs. Started as root, the server runs as the `postgres`
/// OS user, since PostgreSQL refuses to run as root; if that user cannot reach
/// the chosen folder, the cluster lives in `/var/tmp/jiebang-<hash>` instead. Such fallback folders
/// (and `/tmp/jiebang-socket-<hash>` for a socket path too long) are made exclusively with mode 0700,
/// and one that is a link, belongs to another user or is writable by others is refused (``PrivateFolder``).
public struct PostgresCluster: Sendable {
    /// Where and how the cluster runs.
    public struct Configuration: Sendable {
        /// The folder for the cluster's data, socket and log. Default `.jiebang/postgres`.
        public var directory: URL = URL(fileURLWithPath: ".jiebang/postgres")
        /// The database the application uses; created on first start. Default `jiebang`.
        public var databaseName = "jiebang"
        /// The superuser created by `initdb`. Default `jiebang`.
        public var userName = "jiebang"
        /// The port number in the socket's name. Default 5432.
        public var port = 5432
        /// Whether commits wait for the disk. Off only for throwaway test clusters. Default true.
        public var durable = true
        /// The server's `max_connections`, applied at each start. Default 200.
        public var maximumConnections = 200
        /// The folder of `initdb`, `pg_ctl` and `postgres`; nil finds them. Default nil.
        public var binDirectory: URL?

        /// Creates a configuration for a cluster in `directory`.
        public init(directory: URL) {
            self.directory = directory
        }
    }

    /// The state of the cluster.
    public enum Status: Sendable, Equatable {
        case notInitialized
        case stopped
        case running
    }

    /// An error starting or stopping the cluster, with the command's output.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What failed, on one line.
        public var description: String

        /// Creates a failure.
        public init(description: String) { self.description = description }
    }

    public let configuration: Configuration
    /// The folder actually used (the configured one, or the fallback for the `postgres` user).
    public let directory: URL
    let logger: Logger

    /// Resolves the folder; as root, checks that the `postgres` user can reach it.
    public init(configuration: Configuration, logger: Logger = Logger(label: "jiebang.postgres.cluster")) throws {
        self.configuration = configuration
        self.logger = logger
        let requested = configuration.directory.standardizedFileURL
        try FileManager.default.createDirectory(at: requested, withIntermediateDirectories: true)
        if geteuid() == 0 && !Self.postgresUserCanReach(requested) {
            let fallback = URL(fileURLWithPath: "/var/tmp/jiebang-\(stableHash(requested.path))")
            logger.notice(
                "the postgres OS user cannot reach the data folder; using another",
                metadata: ["requested": "\(requested.path)", "used": "\(fallback.path)"])
            try PrivateFolder.ensure(fallback.path)
            self.directory = fallback
        } else {
            self.directory = requested
        }
    }

    /// The data folder (`PGDATA`).
    public var dataDirectory: URL { directory.appending(path: "pgdata") }

    /// The folder holding the server's unix socket.
    public var socketDirectory: URL {
        let preferred = directory.appending(path: "socket")
        // A unix socket path is limited to 107 bytes.
        if preferred.path.utf8.count + 20 < 107 { return preferred }
        return URL(fileURLWithPath: "/tmp/jiebang-socket-\(stableHash(directory.path))")
    }

    /// Whether `folder` is one of the fallback folders with predictable names in a shared place.
    private func isSharedFallback(_ folder: URL) -> Bool {
        let path = folder.standardizedFileURL.path
        return path.hasPrefix("/tmp/jiebang-socket-") || path.hasPrefix("/var/tmp/jiebang-")
    }

    /// The server's log file.
    public var logFile: URL { directory.appending(path: "server.log") }

    /// The libpq connection string for `database` (default: the application's database).
    public func connectionString(database: String? = nil) -> String {
        "host=\(quoteConnectionValue(socketDirectory.path)) port=\(configuration.port) "
            + "user=\(quoteConnectionValue(configuration.userName)) "
            + "dbname=\(quoteConnectionValue(database ?? configuration.databaseName))"
    }

    /// Whether the cluster exists and runs.
    public func status() throws -> Status {
        guard FileManager.default.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path) else {
            return .notInitialized
        }
        let result = try run("pg_ctl", ["-D", dataDirectory.path, "status"], asServerUser: true, allowFailure: true)
        return result.status == 0 ? .running : .stopped
    }

    /// Creates the cluster if needed, starts it if stopped, and creates the application's database.
    ///
    /// A cluster started this way runs until `stop()`, even when processes that `attach()` come and go.
    /// - Returns: whether this call started the server (false when it was already running).
    @discardableResult
    public func start() async throws -> Bool {
        try await withLock {
            // Started by hand, the cluster runs until `stop()`: the last user does not stop it.
            try? FileManager.default.removeItem(at: startedForUsersMarker)
            return try await startHoldingLock()
        }
    }

    /// Runs `body` holding the cluster's file lock (`<directory>/.lock`), which serializes starts,
    /// stops and the users' registry across processes.
    func withLock<Result>(_ body: () async throws -> Result) async throws -> Result {
        let lock = try FileLock(path: directory.appending(path: ".lock").path)
        defer { lock.unlock() }
        return try await body()
    }

    /// `start()` for a caller that holds the lock.
    func startHoldingLock() async throws -> Bool {
        var started = false
        switch try status() {
        case .notInitialized:
            try initialize()
            try startServer()
            started = true
        case .stopped:
            try writeSettings()
            try startServer()
            started = true
        case .running:
            break
        }
        try await createDatabase()
        return started
    }

    /// Stops the server (fast shutdown), whoever uses it; the data stays.
    ///
    /// Processes still registered as users (`attach()`) lose their connections; the registry is kept,
    /// and the next one to attach starts the server again.
    public func stop() throws {
        let lock = try FileLock(path: directory.appending(path: ".lock").path)
        defer { lock.unlock() }
        try stopHoldingLock()
        try? FileManager.default.removeItem(at: startedForUsersMarker)
    }

    /// `stop()` for a caller that holds the lock.
    func stopHoldingLock() throws {
        guard try status() == .running else { return }
        try run("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60", "stop"], asServerUser: true)
        logger.info("stopped PostgreSQL", metadata: ["directory": "\(directory.path)"])
    }

    /// Stops the server immediately (as after a crash); for tests of recovery.
    public func kill() throws {
        try run("pg_ctl", ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"], asServerUser: true)
    }

    private func initialize() throws {
        try prepareFolders()
        logger.info("creating a PostgreSQL cluster", metadata: ["directory": "\(directory.path)"])
        try run(
            "initdb",
            [
                "-D", dataDirectory.path, "-U", configuration.userName, "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8",
            ],
            asServerUser: true)
        let conf = dataDirectory.appending(path: "postgresql.conf")
        let handle = try FileHandle(forWritingTo: conf)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\ninclude_if_exists = 'jiebang.conf'\n".utf8))
        try handle.close()
        try writeSettings()
    }

    private func prepareFolders() throws {
        for folder in [directory, dataDirectory, socketDirectory] {
            if isSharedFallback(folder) {
                try PrivateFolder.ensure(folder.path)
            } else {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: socketDirectory.path)
        if geteuid() == 0 {
            try run("chown", ["-R", "postgres:postgres", dataDirectory.path, socketDirectory.path], asServerUser: false)
            try run("chown", ["postgres:postgres", directory.path], asServerUser: false)
        }
    }

    /// Rewrites the settings the application owns (socket folder, no TCP) before each start.
    private func writeSettings() throws {
        try prepareFolders()
        var settings = """
            # Written by jiebang at each start; edit postgresql.conf for your own settings.
            listen_addresses = ''
            unix_socket_directories = '\(socketDirectory.path)'
            port = \(configuration.port)
            max_connections = \(configuration.maximumConnections)
            shared_buffers = 256MB
            """
        if !configuration.durable {
            settings += "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        }
        let file = dataDirectory.appending(path: "jiebang.conf")
        try Data((settings + "\n").utf8).write(to: file)
        if geteuid() == 0 { try run("chown", ["postgres:postgres", file.path], asServerUser: false) }
    }

    private func startServer() throws {
        if geteuid() == 0 {
            FileManager.default.createFile(atPath: logFile.path, contents: nil)
            try run("chown", ["postgres:postgres", logFile.path], asServerUser: false)
        }
        try run(
            "pg_ctl", ["-D", dataDirectory.path, "-l", logFile.path, "-w", "-t", "120", "start"], asServerUser: true)
        logger.info("started PostgreSQL", metadata: ["socket": "\(socketDirectory.path)"])
    }

    private func createDatabase() async throws {
        let client = PostgresClient(
            configuration: PostgresConfiguration(
                connectionString: connectionString(database: "postgres"), minimumConnections: 0, maximumConnections: 1),
            logger: logger)
        do {
            let exists =
                try await client.query(
                    "SELECT 1 FROM pg_database WHERE datname = \(configuration.databaseName)"
                ).count > 0
            if !exists {
                try await client.execute(
                    PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoteIdentifier(configuration.databaseName))"))
            }
        } catch let error as PostgresError where error.sqlState == "42P04" {
            // Another process created it first.
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    // MARK: - Processes

    /// Runs one of PostgreSQL's programs (for example `pgbench`) as the current user, to completion.
    /// - Returns: its exit status and combined output.
    public func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outcome = try Subprocess.run(try binary(name), arguments)
        return (outcome.status, outcome.output)
    }

    /// Finds a PostgreSQL program: the configured folder, `JIEBANG_POSTGRES_BIN`, or the newest installed version.
    func binary(_ name: String) throws -> String {
        var candidates: [URL] = []
        if let configured = configuration.binDirectory { candidates.append(configured) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["JIEBANG_POSTGRES_BIN"] {
            candidates.append(URL(fileURLWithPath: fromEnvironment))
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append(URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin"))
        }
        candidates.append(URL(fileURLWithPath: "/usr/local/pgsql/bin"))
        candidates.append(URL(fileURLWithPath: "/usr/bin"))
        for folder in candidates {
            let path = folder.appending(path: name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw Failure(
            description: "PostgreSQL's \(name) was not found; install the server (apt-get install postgresql) "
                + "or set JIEBANG_POSTGRES_BIN to its bin folder")
    }

    @discardableResult
    private func run(
        _ name: String, _ arguments: [String], asServerUser: Bool, allowFailure: Bool = false
    ) throws -> (status: Int32, output: String) {
        let executable = name == "chown" ? "/bin/chown" : try binary(name)
        let outcome =
            asServerUser && geteuid() == 0
            ? try Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
            : try Subprocess.run(executable, arguments)
        let text = outcome.output
        if outcome.status != 0 && !allowFailure {
            var message = "\(name) failed (exit \(outcome.status)): \(oneLine(text))"
            if name == "pg_ctl", let log = try? String(contentsOf: logFile, encoding: .utf8) {
                message += "; server log: " + oneLine(String(log.suffix(600)))
            }
            throw Failure(description: message)
        }
        return (outcome.status, text)
    }

    private static func postgresUserCanReach(_ folder: URL) -> Bool {
        (try? Subprocess.run("/usr/sbin/runuser", ["-u", "postgres", "--", "test", "-x", folder.path]))?.status == 0
    }
}

/// A stable short hash of a path (FNV-1a), for fallback folder names.
func stableHash(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return String(hash, radix: 16)
}

/// Quotes a value for a libpq `key=value` connection string.
func quoteConnectionValue(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}

/// An exclusive `flock` on a file, held until `unlock()`.
struct FileLock {
    let descriptor: Int32

    init(path: String) throws {
        descriptor = open(path, O_CREAT | O_RDWR, 0o600)
        guard descriptor >= 0 else { throw PostgresCluster.Failure(description: "cannot open lock file \(path)") }
        flock(descriptor, LOCK_EX)
    }

    func unlock() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
