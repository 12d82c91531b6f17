import Foundation
import Postgres
import Synchronization

/// PgBouncer in transaction pooling mode in front of the private test cluster, for the run of the queue's
/// tests behind a pooler (`JIEBANG_TEST_PGBOUNCER=1`, see `scripts/test`).
///
/// It listens only on a unix socket in `.build/test-pgbouncer`, forwards every database name to the
/// cluster (`* =`), and gives each database a small pool of server sessions that transactions share, as a
/// production PgBouncer does. It is started once per test process (a running one from an earlier run is
/// stopped first, so its settings are these) and left running, as the cluster is.
enum TestPgBouncer {
    /// Whether this test process runs its pools through PgBouncer.
    static var isEnabled: Bool {
        let value = ProcessInfo.processInfo.environment["JIEBANG_TEST_PGBOUNCER"] ?? ""
        return !value.isEmpty && value != "0"
    }

    /// The port in the socket's name (`.s.PGSQL.<port>`); nothing listens on TCP.
    static let port = 6543

    /// Starts PgBouncer in front of `cluster` and returns the connection string of its socket, without a database name.
    static func start(inFrontOf cluster: PostgresCluster) async throws -> String {
        let folder = TestDatabase.packageRoot.appending(path: ".build/test-pgbouncer")
        let ini = folder.appending(path: "pgbouncer.ini")
        let pidFile = folder.appending(path: "pgbouncer.pid")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try stopRunning(pidFile: pidFile)
        // A killed PgBouncer leaves its socket file, which must not pass for the new one's.
        let socket = folder.appending(path: ".s.PGSQL.\(port)")
        try? FileManager.default.removeItem(at: socket)
        let settings = """
            [databases]
            * = host=\(cluster.socketDirectory.path) port=\(cluster.configuration.port) user=\(cluster.configuration.userName)

            [pgbouncer]
            listen_addr =
            listen_port = \(port)
            unix_socket_dir = \(folder.path)
            auth_type = any
            pool_mode = transaction
            default_pool_size = 10
            max_client_conn = 2000
            server_reset_query =
            ignore_startup_parameters = extra_float_digits
            logfile = \(folder.appending(path: "pgbouncer.log").path)
            pidfile = \(pidFile.path)
            """
        try settings.write(to: ini, atomically: true, encoding: .utf8)
        let asRoot = getuid() == 0
        if asRoot { try await run("/usr/bin/chown", ["-R", "postgres:postgres", folder.path]) }
        let executable = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let executable else { throw TestPgBouncerError("pgbouncer is not installed (scripts/ensure-packages installs it)") }
        // In the foreground, as this process's child; it outlives the process (as the cluster does) and the next run stops it.
        let child =
            asRoot
            ? try ChildProcess(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", executable, ini.path])
            : try ChildProcess(URL(fileURLWithPath: executable), [ini.path])
        running.withLock { $0 = child }
        for _ in 0..<100 where !accepts(socket.path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard accepts(socket.path) else {
            throw TestPgBouncerError("pgbouncer did not open \(socket.path): \(child.output)")
        }
        return "host=\(folder.path) port=\(port)"
    }

    /// Whether something accepts connections on the unix socket at `path`.
    private static func accepts(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(MemoryLayout.size(ofValue: address.sun_path) - 1))
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// The PgBouncer this process started.
    private static let running = Mutex<ChildProcess?>(nil)

    /// Stops a PgBouncer an earlier run left, and waits until it has gone.
    private static func stopRunning(pidFile: URL) throws {
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, kill(pid, 0) == 0
        else { return }
        // SIGKILL: a PgBouncer started from a test process inherits its blocked signals, so it never sees SIGTERM.
        kill(pid, SIGKILL)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
    }

    private static func run(_ executable: String, _ arguments: [String]) async throws {
        let child = try ChildProcess(URL(fileURLWithPath: executable), arguments)
        let status = await child.waitForExit(timeout: .seconds(30))
        guard status == 0 else {
            throw TestPgBouncerError(
                "\(executable) \(arguments.joined(separator: " ")) exited with \(status.map(String.init) ?? "nothing"): \(child.output)")
        }
    }
}

/// Why PgBouncer could not be started for the tests.
struct TestPgBouncerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
