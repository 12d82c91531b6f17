// Primary-key SELECT round trips through our libpq client, side by side with
// pgbench's select-only script against the same server, in one run.
//
//   swift run -c release PostgresBenchmark [--seconds 10] [--clients 8] [--rounds 3]
//
// It creates (or reuses) a durable private cluster in /var/tmp/jiebang-bench,
// loads pgbench's tables at scale 10 and runs, in turn: our client (which
// prepares each statement once per connection), `pgbench -S -c 8` as written
// (simple protocol), pgbench -M extended and pgbench -M prepared (the same
// protocol shape as ours), for several rounds, and prints the medians.
import Foundation
import Postgres

struct Options {
    var seconds = 10
    var clients = 8
    var rounds = 3
    var scale = 10
    var directory = "/var/tmp/jiebang-bench"

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--seconds": seconds = Int(value) ?? seconds
            case "--clients": clients = Int(value) ?? clients
            case "--rounds": rounds = Int(value) ?? rounds
            case "--scale": scale = Int(value) ?? scale
            case "--directory": directory = value
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// Runs `clients` tasks issuing primary-key selects for `seconds`; returns transactions per second.
nonisolated func measureClient(connectionString: String, options: Options) async throws -> Double {
    let db = PostgresClient(
        configuration: PostgresConfiguration(
            connectionString: connectionString, minimumConnections: options.clients, maximumConnections: options.clients))
    let rows = 100_000 * options.scale
    // Warm up: open every connection.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.clients { group.addTask { _ = try await db.query("SELECT 1") } }
        try await group.waitForAll()
    }
    let deadline = ContinuousClock.now + .seconds(options.seconds)
    let started = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<options.clients {
            group.addTask {
                var generator = SystemRandomNumberGenerator()
                var count = 0
                while ContinuousClock.now < deadline {
                    let aid = Int.random(in: 1...rows, using: &generator)
                    let balance = try await db.query("SELECT abalance FROM pgbench_accounts WHERE aid = \(aid)")
                    precondition(balance.count == 1)
                    count += 1
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - started
    await db.close()
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Runs pgbench's select-only script; returns its transactions per second.
func measurePgbench(cluster: PostgresCluster, mode: String, options: Options) throws -> Double {
    let result = try cluster.runTool(
        "pgbench",
        [
            "-h", cluster.socketDirectory.path, "-p", "\(cluster.configuration.port)", "-U", cluster.configuration.userName,
            "-S", "-M", mode, "-c", "\(options.clients)", "-j", "2", "-T", "\(options.seconds)", "-n",
            cluster.configuration.databaseName,
        ])
    guard result.status == 0,
        let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
        let tps = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." })
    else {
        throw PostgresCluster.Failure(description: "pgbench failed: \(result.output)")
    }
    return tps
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let options = Options(CommandLine.arguments)
let cluster = try PostgresCluster(configuration: .init(directory: URL(fileURLWithPath: options.directory)))
try await cluster.start()
let loaded = try cluster.runTool(
    "pgbench",
    [
        "-h", cluster.socketDirectory.path, "-p", "\(cluster.configuration.port)", "-U", cluster.configuration.userName,
        "-i", "-q", "-s", "\(options.scale)", cluster.configuration.databaseName,
    ])
guard loaded.status == 0 else {
    print("pgbench -i failed: \(loaded.output)")
    exit(1)
}
print("PostgreSQL: \(cluster.socketDirectory.path), scale \(options.scale), \(options.clients) clients, \(options.seconds) s × \(options.rounds) rounds")
var ours: [Double] = []
var simple: [Double] = []
var extended: [Double] = []
var prepared: [Double] = []
for round in 1...options.rounds {
    ours.append(try await measureClient(connectionString: cluster.connectionString(), options: options))
    simple.append(try measurePgbench(cluster: cluster, mode: "simple", options: options))
    extended.append(try measurePgbench(cluster: cluster, mode: "extended", options: options))
    prepared.append(try measurePgbench(cluster: cluster, mode: "prepared", options: options))
    print(
        String(
            format: "round %d: jiebang %.0f tps | pgbench -M simple %.0f | -M extended %.0f | -M prepared %.0f",
            round, ours.last!, simple.last!, extended.last!, prepared.last!))
}
print(
    String(
        format: "median tps: jiebang client %.0f | pgbench -S simple %.0f | extended %.0f | prepared %.0f",
        median(ours), median(simple), median(extended), median(prepared)))
print(String(format: "ratio jiebang / pgbench -S -c 8 (simple, as the issue states): %.2f (goal ≥ 0.80)", median(ours) / median(simple)))
print(String(format: "ratio jiebang / pgbench -M extended: %.2f", median(ours) / median(extended)))
print(String(format: "ratio jiebang / pgbench -M prepared (same protocol as ours): %.2f", median(ours) / median(prepared)))
try cluster.stop()
