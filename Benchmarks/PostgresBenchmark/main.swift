// Primary-key SELECT round trips through our libpq client, side by side with
// pgbench's select-only script against the same server, in one run.
//
//   swift run -c release PostgresBenchmark [--seconds 10] [--clients 8] [--tasks 64] [--rounds 3] [--loops 1,2] [--executors client,global]
//
// It creates (or reuses) a durable private cluster in /var/tmp/jiebang-bench,
// loads pgbench's tables at scale 10 and runs, in turn: our client (which
// prepares each statement once per connection) with one task per connection,
// then with `--tasks` tasks sharing the pool's `--clients` connections,
// `pgbench -S -c 8` as written (simple protocol), pgbench -M extended and
// pgbench -M prepared (the same protocol shape as ours), for several rounds,
// and prints the medians and the ratios. Our client runs twice each way: its
// tasks on Swift's global executor, and its tasks preferring the client's own
// executor (`PostgresClient.executor`, the thread that reads the results),
// each with one event loop (the default) and with two.
import Foundation
import Postgres

struct Options {
    var seconds = 10
    var clients = 8
    var tasks = 64
    var rounds = 3
    var scale = 10
    var directory = "/var/tmp/jiebang-bench"
    /// The event-loop counts to measure the client with (`PostgresConfiguration.eventLoops`).
    var loops = [1, 2]
    /// Where our tasks run: on the client's executor (`client`), Swift's global one (`global`), or both.
    var executors = [true, false]

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--seconds": seconds = Int(value) ?? seconds
            case "--clients": clients = Int(value) ?? clients
            case "--tasks": tasks = Int(value) ?? tasks
            case "--rounds": rounds = Int(value) ?? rounds
            case "--scale": scale = Int(value) ?? scale
            case "--directory": directory = value
            case "--loops": loops = value.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            case "--executors":
                executors = value.split(separator: ",").compactMap { $0 == "client" ? true : $0 == "global" ? false : nil }
            default:
                FileHandle.standardError.write(Data("unknown option \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// A fast pseudo-random generator, as pgbench has its own: the system's costs a system call per number.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A measured run: transactions per second, and the client's and the server's CPU time per transaction.
struct Measurement {
    var tps: Double
    var cpuMicroseconds: Double
    /// The part of `cpuMicroseconds` spent in user space (the rest is the kernel's, on the client's behalf).
    var userMicroseconds = 0.0
    var serverMicroseconds = 0.0
}

/// CPU seconds (user and system) used so far by the cluster's processes: the postmaster, its children alive
/// now, and those it has reaped (their time is added to its own children's).
func serverCPUSeconds(_ cluster: PostgresCluster) -> Double {
    guard let text = try? String(contentsOf: cluster.dataDirectory.appending(path: "postmaster.pid"), encoding: .utf8),
        let postmaster = text.split(separator: "\n").first.map(String.init)
    else { return 0 }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    /// The fields after the command's closing parenthesis: state, ppid, … (utime is the 12th, stime the 13th).
    func fields(_ pid: String) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: end)...].split(separator: " ")
    }
    func number(_ fields: [Substring], _ index: Int) -> Double { index < fields.count ? Double(fields[index]) ?? 0 : 0 }
    guard let own = fields(postmaster) else { return 0 }
    var total = number(own, 11) + number(own, 12) + number(own, 13) + number(own, 14)
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where pid.allSatisfy(\.isNumber) {
        guard pid != postmaster, let child = fields(pid), child.count > 12, String(child[1]) == postmaster else { continue }
        total += number(child, 11) + number(child, 12)
    }
    return total / ticks
}

/// CPU seconds (user and system, then user alone) used so far by this process, or by its waited-for children.
func cpuSeconds(children: Bool) -> (total: Double, user: Double) {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
    #endif
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime) + seconds(usage.ru_stime), seconds(usage.ru_utime))
}

/// Runs `tasks` tasks issuing primary-key selects for `seconds` on a pool of `clients` connections.
nonisolated func measureClient(
    cluster: PostgresCluster, tasks: Int, onClientExecutor: Bool, loops: Int, options: Options
) async throws -> Measurement {
    let connectionString = cluster.connectionString()
    var configuration = PostgresConfiguration(
        connectionString: connectionString, minimumConnections: options.clients, maximumConnections: options.clients)
    configuration.eventLoops = loops
    // pgbench's sessions run without these timeouts. With them the server arms and disarms a timer for every
    // statement (pgbench -M prepared lost 17% when PGOPTIONS gave it the same three): both sides run alike.
    configuration.statementTimeout = nil
    configuration.lockTimeout = nil
    configuration.idleInTransactionTimeout = nil
    let db = PostgresClient(configuration: configuration)
    let rows = 100_000 * options.scale
    // Warm up: open every connection.
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<options.clients { group.addTask { _ = try await db.query("SELECT 1") } }
        try await group.waitForAll()
    }
    let deadline = ContinuousClock.now + .seconds(options.seconds)
    let started = ContinuousClock.now
    let cpuBefore = cpuSeconds(children: false)
    let serverBefore = serverCPUSeconds(cluster)
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<tasks {
            group.addTask(executorPreference: onClientExecutor ? db.executor : nil) {
                var generator = SplitMix64(seed: UInt64.random(in: 1...UInt64.max))
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
    let cpuAfter = cpuSeconds(children: false)
    let server = serverCPUSeconds(cluster) - serverBefore
    await db.close()
    let tps = Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    return Measurement(
        tps: tps, cpuMicroseconds: (cpuAfter.total - cpuBefore.total) * 1e6 / Double(max(total, 1)),
        userMicroseconds: (cpuAfter.user - cpuBefore.user) * 1e6 / Double(max(total, 1)),
        serverMicroseconds: server * 1e6 / Double(max(total, 1)))
}

/// Runs pgbench's select-only script.
func measurePgbench(cluster: PostgresCluster, mode: String, options: Options) throws -> Measurement {
    let cpuBefore = cpuSeconds(children: true)
    let serverBefore = serverCPUSeconds(cluster)
    let result = try cluster.runTool(
        "pgbench",
        [
            "-h", cluster.socketDirectory.path, "-p", "\(cluster.configuration.port)", "-U", cluster.configuration.userName,
            "-S", "-M", mode, "-c", "\(options.clients)", "-j", "2", "-T", "\(options.seconds)", "-n",
            cluster.configuration.databaseName,
        ])
    guard result.status == 0,
        let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
        let tps = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." }),
        let processed = result.output.split(separator: "\n").first(where: { $0.contains("actually processed: ") }),
        let count = Double(processed.split(separator: " ").last ?? "")
    else {
        throw PostgresCluster.Failure(description: "pgbench failed: \(result.output)")
    }
    return Measurement(
        tps: tps, cpuMicroseconds: (cpuSeconds(children: true).total - cpuBefore.total) * 1e6 / max(count, 1),
        userMicroseconds: (cpuSeconds(children: true).user - cpuBefore.user) * 1e6 / max(count, 1),
        serverMicroseconds: (serverCPUSeconds(cluster) - serverBefore) * 1e6 / max(count, 1))
}

/// The run of median rate.
func median(_ values: [Measurement]) -> Measurement {
    let sorted = values.sorted { $0.tps < $1.tps }
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
print(
    "PostgreSQL: \(cluster.socketDirectory.path), scale \(options.scale), \(options.clients) clients, \(options.seconds) s × \(options.rounds) rounds"
)
/// One way of running our client: its tasks, where they run and the client's event loops.
struct Variant {
    var tasks: Int
    var onClientExecutor: Bool
    var loops: Int

    func label(clients: Int) -> String {
        let executor = onClientExecutor ? "the client's executor" : "the global executor"
        let loopCount = loops == 1 ? "1 loop" : "\(loops) loops"
        let taskCount = tasks == clients ? "\(tasks) tasks" : "\(tasks) tasks on \(clients) connections"
        return "jiebang, \(taskCount), on \(executor), \(loopCount)"
    }
}

var variants: [Variant] = []
for loops in options.loops {
    for onClientExecutor in options.executors {
        for tasks in [options.clients, options.tasks] {
            variants.append(Variant(tasks: tasks, onClientExecutor: onClientExecutor, loops: loops))
        }
    }
}
var ours = [[Measurement]](repeating: [], count: variants.count)
var simple: [Measurement] = []
var extended: [Measurement] = []
var prepared: [Measurement] = []
for round in 1...options.rounds {
    for (index, variant) in variants.enumerated() {
        ours[index].append(
            try await measureClient(
                cluster: cluster, tasks: variant.tasks, onClientExecutor: variant.onClientExecutor, loops: variant.loops,
                options: options))
    }
    simple.append(try measurePgbench(cluster: cluster, mode: "simple", options: options))
    extended.append(try measurePgbench(cluster: cluster, mode: "extended", options: options))
    prepared.append(try measurePgbench(cluster: cluster, mode: "prepared", options: options))
    let figures = ours.map { String(format: "%.0f", $0.last!.tps) }.joined(separator: " ")
    print(
        "round \(round): jiebang \(figures)"
            + String(
                format: " | pgbench -M simple %.0f | -M extended %.0f | -M prepared %.0f", simple.last!.tps, extended.last!.tps,
                prepared.last!.tps))
}
let reference = median(prepared)
print(
    String(
        format:
            "median tps: pgbench -S simple %.0f | extended %.0f | prepared %.0f (CPU a transaction: its own %.1f µs, %.1f of them in user space; PostgreSQL's %.1f µs)",
        median(simple).tps, median(extended).tps, reference.tps, reference.cpuMicroseconds, reference.userMicroseconds,
        reference.serverMicroseconds))
for (variant, values) in zip(variants, ours) {
    let run = median(values)
    print(
        variant.label(clients: options.clients)
            + String(
                format:
                    ": median %.0f tps (CPU a transaction: ours %.1f µs, %.1f of them in user space; PostgreSQL's %.1f µs); / pgbench -M prepared (the same protocol) %.2f"
                    + " (goal ≥ 0.80); / -M simple %.2f",
                run.tps, run.cpuMicroseconds, run.userMicroseconds, run.serverMicroseconds, run.tps / reference.tps,
                run.tps / median(simple).tps))
}
try cluster.stop()
