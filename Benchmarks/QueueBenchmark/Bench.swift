import Foundation
import Jiebang
import JobQueue
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// `QueueBenchmark bench`: enqueue and processing throughput of no-op jobs, idle pickup latency,
/// and, in the same run on the same server, pgbench running the raw claim-and-complete statement.
///
/// Options: --jobs (20000), --samples (200), --clients (8, for pgbench), --directory (the cluster's folder),
/// --finished (finished jobs already in the table, 0; e.g. 1000000 to show that they do not slow claiming).
func runBenchmark(_ arguments: Arguments) async throws {
    let jobCount = arguments.int("--jobs", default: 20_000)
    let finished = arguments.int("--finished", default: 0)
    let samples = arguments.int("--samples", default: 200)
    let clients = arguments.int("--clients", default: 8)
    let cluster = try PostgresCluster(
        configuration: .init(directory: URL(fileURLWithPath: arguments.string("--directory", default: "/var/tmp/jiebang-queue-bench"))))
    try await cluster.start()
    let admin = PostgresClient(
        configuration: PostgresConfiguration(connectionString: cluster.connectionString(database: "postgres"), minimumConnections: 0, maximumConnections: 1))
    try await admin.execute("DROP DATABASE IF EXISTS queue_bench WITH (FORCE)")
    try await admin.execute("CREATE DATABASE queue_bench")
    await admin.close()
    let db = PostgresClient(
        configuration: PostgresConfiguration(connectionString: cluster.connectionString(database: "queue_bench"), minimumConnections: 0, maximumConnections: 20))
    var quiet = Logger(label: "bench")
    quiet.logLevel = .warning
    try await JiebangSchema.migrator(client: db, logger: quiet).migrate()
    let jobs = JobClient()
    if finished > 0 {
        try await db.execute(
            """
            INSERT INTO jobs (kind, state, finished_at, attempt)
            SELECT 'bench.noop', 'completed', now() - interval '1 hour', 1 FROM generate_series(1, \(finished))
            """)
        try await db.execute("VACUUM ANALYZE jobs")
    }
    print("PostgreSQL \(cluster.socketDirectory.path) (durable, fsync on); \(jobCount) no-op jobs; \(finished) finished jobs already in the table")

    // 1. Enqueue, in batches of 1,000, each batch one transaction.
    var started = ContinuousClock.now
    for first in stride(from: 0, to: jobCount, by: 1_000) {
        let batch = (first..<min(first + 1_000, jobCount)).map { _ in NoopJob() }
        _ = try await db.withTransaction { try await jobs.enqueue(batch: batch, on: $0) }
    }
    let enqueueRate = Double(jobCount) / seconds(since: started)

    // 2. Processing with the default worker settings, until every outcome is written.
    let pickups = AsyncStream<ContinuousClock.Instant>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let handled = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let latencyMode = Mutex(false)
    let handledCount = Mutex(0)
    let worker = JobWorker(
        client: db,
        registry: benchRegistry(onNoop: {
            if latencyMode.withLock({ $0 }) {
                pickups.continuation.yield(ContinuousClock.now)
            } else if handledCount.withLock({ count in
                count += 1
                return count == jobCount
            }) {
                handled.continuation.yield()
            }
        }),
        configuration: JobWorker.Configuration(), logger: quiet)
    let group = ServiceGroup(configuration: .init(services: [.init(service: worker)], logger: quiet))
    started = ContinuousClock.now
    let running = Task { try await group.run() }
    // Every handler ran; then wait (on the small partial index of running jobs) for the last outcomes.
    var handledIterator = handled.stream.makeAsyncIterator()
    _ = await handledIterator.next()
    while try await db.query("SELECT count(*) FROM jobs WHERE state = 'running'").first!.decode(Int.self) > 0 {
        try await Task.sleep(for: .milliseconds(2))
    }
    let processRate = Double(jobCount) / seconds(since: started)

    // 3. Idle pickup: enqueue one job on the idle queue, time until its handler starts.
    latencyMode.withLock { $0 = true }
    var latencies: [Double] = []
    var iterator = pickups.stream.makeAsyncIterator()
    for _ in 0..<samples {
        // Wait past the notification coalescing window so that each sample is a fresh enqueue.
        try await Task.sleep(for: jobs.notifyInterval + .milliseconds(10))
        let before = ContinuousClock.now
        try await jobs.enqueue(NoopJob(), using: db)
        guard let picked = await iterator.next() else { break }
        latencies.append(Double((picked - before).components.attoseconds) / 1e15 + Double((picked - before).components.seconds) * 1000)
    }
    await group.triggerGracefulShutdown()
    try await running.value
    latencies.sort()

    // 4. The raw limit: pgbench running the same claim shape (batch of 10) straight to completed.
    try await db.execute(
        """
        INSERT INTO jobs (kind, args, state, priority, run_at)
        SELECT 'bench.noop', '{}', 'available', 5, now() FROM generate_series(1, \(jobCount))
        """)
    try await db.execute("VACUUM ANALYZE jobs")
    let script = FileManager.default.temporaryDirectory.appending(path: "claim-complete-\(getpid()).sql")
    try Data(
        """
        WITH ready AS (SELECT id FROM jobs WHERE state = 'available' AND queue = 'default' ORDER BY priority, run_at, id LIMIT 10 FOR UPDATE SKIP LOCKED) UPDATE jobs SET state = 'completed', attempt = jobs.attempt + 1, attempted_at = now(), finished_at = now() FROM ready WHERE jobs.id = ready.id;

        """.utf8
    ).write(to: script)
    let transactions = max(1, jobCount / 10 / clients)
    let pgbench = try cluster.runTool(
        "pgbench",
        [
            "-h", cluster.socketDirectory.path, "-p", "\(cluster.configuration.port)", "-U", cluster.configuration.userName,
            "-n", "-M", "prepared", "-f", script.path, "-c", "\(clients)", "-j", "2", "-t", "\(transactions)", "queue_bench",
        ])
    try? FileManager.default.removeItem(at: script)
    guard pgbench.status == 0,
        let line = pgbench.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
        let tps = Double(line.dropFirst(6).prefix { $0.isNumber || $0 == "." })
    else {
        print("pgbench failed: \(pgbench.output)")
        exit(1)
    }
    let rawRate = tps * 10
    await db.close()
    try cluster.stop()

    func percentile(_ p: Double) -> Double { latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    print(String(format: "enqueue (batches of 1,000):        %8.0f jobs/s", enqueueRate))
    print(String(format: "processing (default worker):       %8.0f jobs/s", processRate))
    print(String(format: "raw claim+complete, pgbench (%d clients, batch 10): %8.0f jobs/s", clients, rawRate))
    print(String(format: "ratio processing / raw limit:      %8.2f   (goal ≥ 0.50)", processRate / rawRate))
    print(String(format: "idle pickup latency over %d samples: p50 %.2f ms, p99 %.2f ms   (goal p50 ≤ 10 ms)", latencies.count, percentile(0.5), percentile(0.99)))
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}
