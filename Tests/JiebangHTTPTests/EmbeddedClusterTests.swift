import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JiebangTesting
import Postgres
import Testing

/// `jiebang serve` and `jiebang work` as real processes sharing the embedded cluster of one data folder.
///
/// Each test creates a durable cluster (initdb, fsync on) and runs two or three `jiebang` processes with
/// their migrations; run one after another, so the suite never takes both CPUs and the disk from the
/// rest of a parallel run.
@Suite("Processes sharing the embedded cluster", .serialized)
struct EmbeddedClusterTests {
    @Test(
        "serve starts the cluster and work joins it; stopping serve leaves work running on it; stopping work stops it",
        .timeLimit(.minutes(10)))
    func lastUserStopsTheCluster() async throws {
        try await withDataFolder { folder, children in
            let (servePort, workPort) = try Self.twoPorts()
            let serve = try children.start(["serve", "--no-with-workers", "--port", "\(servePort)"], folder: folder)
            try await BidKillTests.waitUntilReady(port: servePort, process: serve)
            let work = try children.start(["work", "--port", "\(workPort)"], folder: folder)
            try await BidKillTests.waitUntilReady(port: workPort, process: work)
            let cluster = try Self.cluster(in: folder)
            #expect(try cluster.status() == .running)

            serve.send(SIGTERM)
            #expect(await serve.waitForExit(timeout: .seconds(120)) == 0, "\(serve.output)")
            #expect(try cluster.status() == .running)
            // work still reaches the database: its readiness check queries it, and it completes a job
            // enqueued after serve stopped.
            #expect(try await Self.status(of: "/readyz", port: workPort) == 200)
            let client = PostgresClient(
                configuration: PostgresConfiguration(
                    connectionString: cluster.connectionString(), minimumConnections: 0, maximumConnections: 1))
            let job = try await client.query(
                """
                INSERT INTO jobs (kind, args) VALUES ('idempotency_keys.prune', '{"slot": "2025-05-31T00:00:00Z"}')
                RETURNING id
                """
            ).first!.decode(Int.self)
            // The worker polls every second; the bound is for a loaded two-core machine.
            let completed = await eventually(timeout: .seconds(60)) {
                (try? await client.query("SELECT state::text FROM jobs WHERE id = \(job)").first?.decode(String.self))
                    == "completed"
            }
            await client.close()
            #expect(completed, "\(work.output)")

            work.send(SIGTERM)
            #expect(await work.waitForExit(timeout: .seconds(120)) == 0, "\(work.output)")
            #expect(try cluster.status() == .stopped)
            #expect(!FileManager.default.fileExists(atPath: cluster.dataDirectory.appending(path: "postmaster.pid").path))
        }
    }

    @Test(
        "serve and work started at once share one cluster, and one killed with SIGKILL does not keep it running",
        .timeLimit(.minutes(10)))
    func killedUserDoesNotCount() async throws {
        try await withDataFolder { folder, children in
            let (servePort, workPort) = try Self.twoPorts()
            // Both start at the same moment on a folder with no cluster yet: one creates and starts it,
            // the other waits for the lock and uses it.
            let serve = try children.start(["serve", "--no-with-workers", "--port", "\(servePort)"], folder: folder)
            let work = try children.start(["work", "--port", "\(workPort)"], folder: folder)
            try await BidKillTests.waitUntilReady(port: servePort, process: serve)
            try await BidKillTests.waitUntilReady(port: workPort, process: work)
            #expect(try Self.cluster(in: folder).status() == .running)
            work.send(SIGKILL)
            #expect(await work.waitForExit(timeout: .seconds(60)) == 128 + SIGKILL)

            serve.send(SIGTERM)
            #expect(await serve.waitForExit(timeout: .seconds(120)) == 0, "\(serve.output)")
            #expect(try Self.cluster(in: folder).status() == .stopped)
        }
    }

    @Test("A cluster started with jiebang db start keeps running after serve stops, until db stop", .timeLimit(.minutes(10)))
    func startedByHandStaysUp() async throws {
        try await withDataFolder { folder, children in
            let start = try children.start(["db", "start"], folder: folder)
            #expect(await start.waitForExit(timeout: .seconds(120)) == 0, "\(start.output)")
            let port = try FreePort.next()
            let serve = try children.start(["serve", "--no-with-workers", "--port", "\(port)"], folder: folder)
            try await BidKillTests.waitUntilReady(port: port, process: serve)
            serve.send(SIGTERM)
            #expect(await serve.waitForExit(timeout: .seconds(120)) == 0, "\(serve.output)")
            let cluster = try Self.cluster(in: folder)
            #expect(try cluster.status() == .running)
            let stop = try children.start(["db", "stop"], folder: folder)
            #expect(await stop.waitForExit(timeout: .seconds(120)) == 0, "\(stop.output)")
            #expect(try cluster.status() == .stopped)
        }
    }

    static func cluster(in folder: URL) throws -> PostgresCluster {
        try PostgresCluster(configuration: .init(directory: folder.appending(path: "postgres")))
    }

    static func twoPorts() throws -> (Int, Int) {
        let first = try FreePort.next()
        var second = try FreePort.next()
        while second == first { second = try FreePort.next() }
        return (first, second)
    }

    static func status(of path: String, port: Int) async throws -> Int {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.timeoutInterval = 30
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// The `jiebang` processes of one test, killed if still running when it ends.
final class TestChildren: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [ChildProcess] = []

    /// Starts `jiebang arguments` with the embedded database in `folder` and no other configuration.
    func start(_ arguments: [String], folder: URL) throws -> ChildProcess {
        let process = try ChildProcess(
            ChildProcess.builtProduct("jiebang"), arguments,
            environment: ["PATH": "/usr/bin:/bin", "JIEBANG_DATA_DIR": folder.path, "LOG_LEVEL": "info"])
        lock.withLock { processes.append(process) }
        return process
    }

    /// Kills what still runs.
    func killAll() async {
        for process in lock.withLock({ processes }) where await process.waitForExit(timeout: .zero) == nil {
            process.send(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(30))
        }
    }
}

/// Runs `body` with a fresh data folder that the `postgres` OS user can reach; afterwards kills the
/// children still running, stops the cluster if it still runs and removes the folder.
func withDataFolder(_ body: (URL, TestChildren) async throws -> Void) async throws {
    let folder = URL(fileURLWithPath: "/tmp/jiebang-shared-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
    let children = TestChildren()
    func cleanUp() async {
        await children.killAll()
        try? EmbeddedClusterTests.cluster(in: folder).stop()
        try? FileManager.default.removeItem(at: folder)
    }
    do {
        try await body(folder, children)
    } catch {
        await cleanUp()
        throw error
    }
    await cleanUp()
}
