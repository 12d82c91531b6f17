import Foundation
import JiebangTesting
import Postgres
import Testing

@Suite("Server restart")
struct RestartTests {
    @Test("A pool in use survives a server stop and start without a restart of its own", .timeLimit(.minutes(3)))
    func poolRecoversAfterRestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "jiebang-restart-\(UUID().uuidString.prefix(8))")
        var configuration = PostgresCluster.Configuration(directory: folder)
        configuration.durable = false
        let cluster = try PostgresCluster(configuration: configuration)
        try await cluster.start()
        let db = PostgresClient(
            configuration: PostgresConfiguration(connectionString: cluster.connectionString(), minimumConnections: 0, maximumConnections: 4))
        do {
            try await db.execute("CREATE TABLE IF NOT EXISTS ticks (n int)")
            // Four tasks keep the pool busy while the server goes down and comes back.
            let stop = Flag()
            let workers = Task {
                try await withThrowingTaskGroup(of: (ok: Int, failed: Int).self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var ok = 0
                            var failed = 0
                            while !stop.isSet {
                                do {
                                    try await db.execute("INSERT INTO ticks VALUES (1)")
                                    ok += 1
                                } catch let error as PostgresError {
                                    #expect(error.code == .connectionLost || error.code == .connectionFailed || error.sqlState == .adminShutdown)
                                    failed += 1
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            return (ok, failed)
                        }
                    }
                    return try await group.reduce(into: (ok: 0, failed: 0)) { $0.ok += $1.ok; $0.failed += $1.failed }
                }
            }
            #expect(await eventually { (try? await db.query("SELECT count(*) FROM ticks").first?.decode(Int.self)) ?? 0 > 20 })
            try cluster.stop()
            try await cluster.start()
            let before = try await db.query("SELECT count(*) FROM ticks").first!.decode(Int.self)
            #expect(await eventually { (try? await db.query("SELECT count(*) FROM ticks").first?.decode(Int.self)) ?? 0 > before + 20 })
            stop.set()
            let totals = try await workers.value
            #expect(totals.ok > 40)
            // After recovery every connection works again.
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 { group.addTask { try await db.query("SELECT \(index)").first!.decode(Int.self) } }
                return try await group.reduce(0, +)
            }
            #expect(results == 28)
        } catch {
            await db.close()
            try? cluster.stop()
            throw error
        }
        await db.close()
        try cluster.stop()
        try? FileManager.default.removeItem(at: cluster.directory)
    }
}

/// A flag set once, read from many tasks.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
