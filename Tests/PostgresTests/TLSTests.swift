import Foundation
import JiebangTesting
import Postgres
import Synchronization
import Testing

@Suite("The client over TLS")
struct TLSTests {
    /// Who ends the TLS session the client opens.
    enum Front: Sendable, CaseIterable {
        /// PostgreSQL itself (15 here: records of at most 8 KiB).
        case server
        /// `scripts/tls_record_proxy.py`, which sends 16 KiB records as PostgreSQL 17 does for large messages.
        case largeRecords
    }

    /// Runs `body` with a pool on a cluster of its own that listens on 127.0.0.1 with TLS on
    /// (a self-signed certificate made by openssl), connected with `sslmode=require` to `front`.
    static func withTLSCluster(
        poller: PostgresPoller, front: Front = .server, _ body: (PostgresClient) async throws -> Void
    ) async throws {
        let folder = TestDatabase.packageRoot.appending(path: ".build/tls-\(UUID().uuidString.prefix(8))")
        var configuration = PostgresCluster.Configuration(directory: folder)
        configuration.durable = false
        configuration.port = try FreePort.next()
        let cluster = try PostgresCluster(configuration: configuration)
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        try await cluster.start()
        let data = cluster.dataDirectory.path
        try run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "2",
                "-keyout", "\(data)/tls.key", "-out", "\(data)/tls.crt",
            ])
        try run("/bin/chmod", ["600", "\(data)/tls.key"])
        if geteuid() == 0 { try run("/bin/chown", ["postgres:postgres", "\(data)/tls.key", "\(data)/tls.crt"]) }
        let admin = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(), minimumConnections: 0, maximumConnections: 1)
        )
        for setting in ["listen_addresses = '127.0.0.1'", "ssl = on", "ssl_cert_file = 'tls.crt'", "ssl_key_file = 'tls.key'"] {
            try await admin.execute(PostgresQuery(unsafeSQL: "ALTER SYSTEM SET \(setting)"))
        }
        await admin.close()
        try cluster.stop()
        try await cluster.start()
        var port = configuration.port
        var proxy: ChildProcess?
        defer { proxy?.send(SIGTERM) }
        if front == .largeRecords {
            port = try FreePort.next()
            proxy = try ChildProcess(
                URL(fileURLWithPath: "/usr/bin/python3"),
                [
                    TestDatabase.packageRoot.appending(path: "scripts/tls_record_proxy.py").path, "--port", "\(port)",
                    "--socket", cluster.socketDirectory.appending(path: ".s.PGSQL.\(configuration.port)").path,
                    "--cert", "\(data)/tls.crt", "--key", "\(data)/tls.key",
                ])
            let deadline = ContinuousClock.now + .seconds(20)
            while proxy?.output.contains("ready") != true {
                guard ContinuousClock.now < deadline, await proxy?.waitForExit(timeout: .milliseconds(50)) == nil else {
                    throw PostgresCluster.Failure(description: "the TLS proxy did not start: \(proxy?.output ?? "")")
                }
            }
        }
        let client = PostgresClient(configuration: Self.configuration(port: port, poller: poller))
        do {
            try await body(client)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    static func configuration(port: Int, poller: PostgresPoller) -> PostgresConfiguration {
        var tls = PostgresConfiguration(
            connectionString: "host=127.0.0.1 port=\(port) dbname=jiebang user=jiebang sslmode=require",
            minimumConnections: 0, maximumConnections: 4)
        tls.poller = poller
        return tls
    }

    static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PostgresCluster.Failure(
                description: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
    }

    /// `operation`, or a failure naming `what` when it takes longer than `limit`. A read that waits for an
    /// event that never comes cannot be cancelled either, so the failure does not wait for `operation` to end.
    static func within<Output: Sendable>(
        _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> Output
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            let once = ResumeOnce(continuation)
            Task {
                do { once.resume(with: .success(try await operation())) } catch { once.resume(with: .failure(error)) }
            }
            Task {
                try? await Task.sleep(for: limit)
                once.resume(with: .failure(PostgresCluster.Failure(description: "\(what) took longer than \(limit)")))
            }
        }
    }

    /// A continuation resumed by the first of several tasks.
    final class ResumeOnce<Output: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<Output, any Error>?>

        init(_ continuation: CheckedContinuation<Output, any Error>) {
            self.continuation = Mutex(continuation)
        }

        func resume(with outcome: Result<Output, any Error>) {
            continuation.withLock { continuation in
                defer { continuation = nil }
                return continuation
            }?.resume(with: outcome)
        }
    }

    @Test(
        "Results of every size from bytes to megabytes, in rows and pipelines, arrive whole over TLS (8 KiB and 16 KiB records) without waiting for an event that never comes",
        .timeLimit(.minutes(3)), arguments: PostgresPoller.allCases, Front.allCases)
    func resultsOfEverySizeOverTLS(poller: PostgresPoller, front: Front) async throws {
        try await Self.withTLSCluster(poller: poller, front: front) { db in
            if front == .largeRecords {
                // A new connection's 16 KiB input buffer, a first record read whole and a second, the last,
                // larger than the room left behind the first's unfinished row: its end (the rows' last,
                // CommandComplete, ReadyForQuery) stays inside OpenSSL, and the socket has nothing more.
                for width in stride(from: 600, through: 3_000, by: 111) {
                    let rows = 31_500 / (width + 11)
                    var single = db.configuration
                    single.maximumConnections = 1
                    let fresh = PostgresClient(configuration: single)
                    defer { Task { await fresh.close() } }
                    let count = try await Self.within(.seconds(10), "\(rows) rows of \(width) bytes on a new connection") {
                        try await fresh.query("SELECT repeat('v', \(width)::int) FROM generate_series(1, \(rows))").count
                    }
                    #expect(count == rows)
                }
            }
            if front == .server {
                // Through the proxy the server sees a unix socket; sslmode=require still refuses a session without TLS.
                let encrypted = try await db.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first!.decode(Bool.self)
                #expect(encrypted)
            }
            // Sizes around TLS's 16 KiB records and libpq's 16 KiB input buffer, then larger ones.
            var sizes: [Int] = []
            for base in [8_192, 16_384, 32_768, 65_536] {
                sizes += [base - 37, base - 5, base, base + 5, base + 37]
            }
            sizes += [100_003, 250_000, 1_048_576, 3_000_017]
            for size in sizes {
                let length = try await Self.within(.seconds(10), "a \(size)-byte result") {
                    try await db.query("SELECT repeat('x', \(size)::int)").first!.decode(String.self).utf8.count
                }
                #expect(length == size)
                let rows = try await Self.within(.seconds(10), "\(size) bytes in rows of 1,000") {
                    try await db.query("SELECT repeat('y', 1000) FROM generate_series(1, \(size / 1000 + 1))").count
                }
                #expect(rows == size / 1000 + 1)
            }
            let pipelined = try await Self.within(.seconds(10), "a pipelined transaction of large results") {
                try await db.withTransaction { tx in
                    let first = try await tx.query("SELECT repeat('z', 40000)").first!.decode(String.self).count
                    let last = try await tx.commit(after: "SELECT repeat('z', 70000)").first!.decode(String.self).count
                    return [first, last]
                }
            }
            #expect(pipelined == [40_000, 70_000])
            let parallel = try await Self.within(.seconds(20), "16 concurrent large results") {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<16 {
                        group.addTask {
                            try await db.query("SELECT repeat('w', \(20_000 + index * 7_919)::int)").first!.decode(String.self).count
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
            #expect(parallel == (0..<16).reduce(0) { $0 + 20_000 + $1 * 7_919 })
        }
    }
}
