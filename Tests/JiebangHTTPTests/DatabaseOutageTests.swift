import Foundation
import JiebangTesting
import Postgres
import Synchronization
import Testing

/// `jiebang serve` on a cluster of its own, which the test stops and starts under a steady load.
@Suite("The database going away and coming back")
struct DatabaseOutageTests {
    /// What one request got.
    struct Answer: Sendable {
        var status: Int
        var contentType: String?
        var retryAfter: String?
    }

    /// The answers of the load, and whether it goes on.
    final class LoadState: Sendable {
        let answers = Mutex<[Answer]>([])
        let running = Atomic<Bool>(true)
    }

    @Test(
        "While PostgreSQL is stopped every request answers 503 problem+json with Retry-After, /readyz 503 and /healthz 200; the log says once that it is away and once that it is back; then 200 again",
        .timeLimit(.minutes(4)))
    func outage() async throws {
        let folder = TestDatabase.packageRoot.appending(path: ".build/outage-\(UUID().uuidString.prefix(8))")
        var configuration = PostgresCluster.Configuration(directory: folder)
        configuration.durable = false
        let cluster = try PostgresCluster(configuration: configuration)
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: folder)
        }
        try await cluster.start()
        let port = try FreePort.next()
        let process = try ChildProcess(
            ChildProcess.builtProduct("jiebang"), ["serve", "--no-with-workers", "--port", "\(port)"],
            environment: [
                "DATABASE_URL": cluster.connectionString(database: configuration.databaseName), "PATH": "/usr/bin:/bin",
                "LOG_LEVEL": "warning", "JIEBANG_DB_POOL_SIZE": "8",
            ])
        try await BidKillTests.waitUntilReady(port: port, process: process)
        let server = RunningServer(process: process, port: port, sessionName: "")

        let state = LoadState()
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        while state.running.load(ordering: .relaxed) {
                            let (status, headers, _) = try await server.send("GET", "/v1/board/challenges?limit=5", timeout: 30)
                            state.answers.withLock {
                                $0.append(Answer(status: status, contentType: headers["content-type"], retryAfter: headers["retry-after"]))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        func count(_ status: Int) -> Int { state.answers.withLock { $0.filter { $0.status == status }.count } }

        #expect(await eventually(timeout: .seconds(20)) { count(200) >= 50 })
        try cluster.stop()
        let outageStart = state.answers.withLock { $0.count }
        #expect(await eventually(timeout: .seconds(20)) { count(503) >= 200 }, "\(process.output)")
        // Stay away a while, as an operator's restart would.
        try await Task.sleep(for: .seconds(3))
        #expect(try await server.send("GET", "/healthz").status == 200)
        #expect(try await server.send("GET", "/readyz").status == 503)
        try await cluster.start()
        let okBefore = count(200)
        #expect(await eventually(timeout: .seconds(30)) { count(200) >= okBefore + 50 }, "\(process.output)")
        #expect(try await server.send("GET", "/readyz").status == 200)
        #expect(await eventually(timeout: .seconds(10)) { process.output.contains("database is back") })
        state.running.store(false, ordering: .relaxed)
        try await load.value
        await server.stop()

        let all = state.answers.withLock { $0 }
        let statuses = Dictionary(grouping: all, by: \.status).mapValues(\.count)
        #expect(Set(statuses.keys) == [200, 503], "\(statuses)")
        let refused = all.filter { $0.status == 503 }
        #expect(
            refused.allSatisfy { $0.contentType?.hasPrefix("application/problem+json") == true && $0.retryAfter == "1" },
            "\(refused.prefix(3))")
        #expect(all[outageStart...].contains { $0.status == 503 })
        let log = process.output
        let away = log.components(separatedBy: "database unreachable").count - 1
        let back = log.components(separatedBy: "database is back").count - 1
        #expect(away == 1, "\(log)")
        #expect(back == 1, "\(log)")
        #expect(!log.contains("request failed"), "\(log)")
    }
}
