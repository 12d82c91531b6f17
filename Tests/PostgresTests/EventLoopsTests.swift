import Foundation
import JiebangTesting
import Testing

@testable import Postgres

@Suite("A client's several event loops")
struct EventLoopsTests {
    @Test(
        "Connections go to the loops in turn, and a task on a loop's executor leases that loop's connections first",
        .timeLimit(.minutes(1)), arguments: PostgresPoller.allCases)
    func tasksLeaseTheirLoopsConnections(poller: PostgresPoller) async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 4, poller: poller) { pool in
            var configuration = pool.configuration
            configuration.eventLoops = 2
            configuration.maximumConnections = 4
            let db = PostgresClient(configuration: configuration)
            try await db.withConnections(count: 4) { connections in
                #expect(
                    connections.map { ObjectIdentifier($0.loop) }
                        == [db.loops[0], db.loops[1], db.loops[0], db.loops[1]].map(ObjectIdentifier.init))
            }
            for loop in db.loops {
                let leased = try await withTaskExecutorPreference(loop) {
                    var leased: [Bool] = []
                    for step in 0..<20 {
                        let onLoop = try await db.withConnection { connection in
                            let sum = try await connection.query("SELECT \(step) + 1").first!.decode(Int.self)
                            return connection.loop === loop && sum == step + 1 && loop.onLoopThread
                        }
                        leased.append(onLoop)
                    }
                    return leased
                }
                #expect(leased == Array(repeating: true, count: 20))
            }
            await db.close()
        }
    }

    @Test(
        "A task on a loop without connections is still served while tasks on the connection's loop keep asking",
        .timeLimit(.minutes(1)))
    func noLoopStarves() async throws {
        try await TestDatabase.withEmptyDatabase(maximumConnections: 1) { pool in
            var configuration = pool.configuration
            configuration.eventLoops = 2
            configuration.maximumConnections = 1
            configuration.acquireTimeout = .seconds(5)
            let db = PostgresClient(configuration: configuration)
            let busy = db.loops[0]
            let bare = db.loops[1]
            let finished = Flag()
            let served = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask(executorPreference: busy) {
                        while !finished.isSet {
                            _ = try await db.query("SELECT 1")
                        }
                        return 0
                    }
                }
                group.addTask(executorPreference: bare) {
                    defer { finished.set() }
                    var sum = 0
                    for step in 0..<50 {
                        sum += try await db.query("SELECT \(step)::int").first!.decode(Int.self)
                    }
                    return sum
                }
                return try await group.reduce(0, +)
            }
            #expect(served == (0..<50).reduce(0, +))
            await db.close()
        }
    }

    @Test("The client's executor hands out its loops in turn")
    func executorTakesTurns() async throws {
        var configuration = PostgresConfiguration()
        configuration.eventLoops = 3
        let db = PostgresClient(configuration: configuration)
        let handedOut = (0..<6).map { _ in ObjectIdentifier(db.executor as AnyObject) }
        let loops = db.loops.map(ObjectIdentifier.init)
        #expect(handedOut == loops + loops)
        await db.close()
    }
}
