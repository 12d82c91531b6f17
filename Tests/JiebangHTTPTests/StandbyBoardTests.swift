import Foundation
import JiebangTesting
import Postgres
import Testing

/// The public board read from a streaming standby (`JIEBANG_READ_DATABASE_URL`), on clusters of the test's own.
@Suite("The board on a standby")
struct StandbyBoardTests {
    /// Runs a program from PostgreSQL's bin folder, as the `postgres` user when root, and returns its output.
    static func postgresTool(_ name: String, _ arguments: [String]) async throws -> String {
        let folders =
            [ProcessInfo.processInfo.environment["JIEBANG_POSTGRES_BIN"]].compactMap { $0 }
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted().reversed()
            .map { "/usr/lib/postgresql/\($0)/bin" }
        guard let tool = folders.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CancellationError()
        }
        let child =
            getuid() == 0
            ? try ChildProcess(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", tool] + arguments)
            : try ChildProcess(URL(fileURLWithPath: tool), arguments)
        let status = await child.waitForExit(timeout: .seconds(120))
        #expect(status == 0, "\(name): \(child.output)")
        return child.output
    }

    @Test(
        "With JIEBANG_READ_DATABASE_URL preferring a standby, the board's API and pages are read there and keep answering while the primary is down; /readyz says 503",
        .timeLimit(.minutes(4)))
    func boardOnStandby() async throws {
        let folder = TestDatabase.packageRoot.appending(path: ".build/standby-\(UUID().uuidString.prefix(8))")
        var primaryConfiguration = PostgresCluster.Configuration(directory: folder.appending(path: "primary"))
        primaryConfiguration.durable = false
        primaryConfiguration.port = 5433
        let primary = try PostgresCluster(configuration: primaryConfiguration)
        var standbyConfiguration = PostgresCluster.Configuration(directory: folder.appending(path: "standby"))
        standbyConfiguration.durable = false
        standbyConfiguration.port = 5434
        let standby = try PostgresCluster(configuration: standbyConfiguration)
        defer {
            try? standby.stop()
            try? primary.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        try await primary.start()
        let environment = ["DATABASE_URL": primary.connectionString(), "PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning"]
        let seeded = try CommandLineTests.run(["seed-demo"], environment: environment)
        #expect(seeded.status == 0, "\(seeded.output)")

        // A streaming standby of it: a base backup that writes standby.signal and primary_conninfo (-R).
        if getuid() == 0 {
            _ = try CommandLineTests.run(
                ["-R", "postgres:postgres", standby.directory.path], environment: environment, executable: "/usr/bin/chown")
        }
        _ = try await Self.postgresTool(
            "pg_basebackup",
            ["-D", standby.dataDirectory.path, "-d", primary.connectionString(database: "postgres"), "-R", "-X", "stream", "-c", "fast"])
        try await standby.start()
        let inRecovery = PostgresClient(
            configuration: PostgresConfiguration(connectionString: standby.connectionString(), minimumConnections: 0, maximumConnections: 1)
        )
        defer { Task { await inRecovery.close() } }
        #expect(try await inRecovery.query("SELECT pg_is_in_recovery()").first?.decode(Bool.self) == true)

        // Every host, the standby preferred: libpq falls back to the primary only when no standby answers.
        let readURL =
            "host=\(standby.socketDirectory.path),\(primary.socketDirectory.path) port=5434,5433 "
            + "user=\(standbyConfiguration.userName) dbname=\(standbyConfiguration.databaseName) target_session_attrs=prefer-standby"
        let port = try FreePort.next()
        let process = try ChildProcess(
            ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"],
            environment: environment.merging(["JIEBANG_READ_DATABASE_URL": readURL, "JIEBANG_DB_POOL_SIZE": "4"]) { $1 })
        try await BidKillTests.waitUntilReady(port: port, process: process)
        let server = RunningServer(process: process, port: port, sessionName: "")

        let (status, _, body) = try await server.send("GET", "/v1/board/challenges?limit=50")
        #expect(status == 200)
        let listed = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        let before = (listed?["items"] as? [Any])?.count ?? 0
        #expect(before > 0, "\(String(decoding: body, as: UTF8.self))")
        let readers = try await inRecovery.query(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).first!.decode(Int.self)
        #expect(readers >= 1, "the board did not read from the standby")

        try primary.stop()
        for path in ["/v1/board/challenges?limit=50", "/", "/programmes"] {
            let (status, _, body) = try await server.send("GET", path, timeout: 30)
            #expect(status == 200, "\(path) while the primary is down: \(status) \(String(decoding: body.prefix(300), as: UTF8.self))")
            if path.hasPrefix("/v1/") {
                let items = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])?["items"] as? [Any]
                #expect(items?.count == before)
            }
        }
        let (ready, _, _) = try await server.send("GET", "/readyz", timeout: 30)
        #expect(ready == 503)
        _ = await server.stop()
    }
}
