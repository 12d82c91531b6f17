import Foundation
import JiebangTesting
import JobQueue
import Postgres
import Testing

/// The job the `QueueBenchmark work` process runs: it writes one row in `bench_effects`,
/// committed with the job's completion, after sleeping.
struct BenchEffect: JobArguments {
    static let kind = "bench.effect"
    var label: String
    var sleepMilliseconds: Int
}

/// Marker for the noop job that `QueueBenchmark cron` enqueues.
private let cronKind = "bench.noop"

@Suite("Real worker processes", .serialized)
struct ProcessTests {
    static let worker = ChildProcess.builtProduct("QueueBenchmark")

    /// The server's (or PgBouncer's) connection string and the database name of `db`, for a child process.
    static func connection(of db: PostgresClient) async throws -> [String] {
        let name = try await db.query("SELECT current_database()").first!.decode(String.self)
        if let pooler = try await TestDatabase.poolerConnectionString() {
            return ["--connection", pooler, "--database", name, "--pooling", "transaction"]
        }
        return ["--connection", try await TestDatabase.serverConnectionString(), "--database", name]
    }

    static func createEffects(_ db: PostgresClient) async throws {
        try await db.execute(
            "CREATE TABLE bench_effects (job_id bigint PRIMARY KEY, label text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
    }

    @Test(
        "Workers killed with SIGKILL mid-job lose no job, and every effect happens exactly once",
        .timeLimit(.minutes(3)))
    func killedWorkers() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.createEffects(db)
            let jobs = JobClient()
            _ = try await db.withTransaction { tx in
                // Each job runs a second: a test task starved for a moment by a loaded machine still kills the
                // worker while it holds jobs (with 250 ms the worker could finish all of them first).
                try await jobs.enqueue(batch: (0..<30).map { BenchEffect(label: "job \($0)", sleepMilliseconds: 1000) }, on: tx)
            }
            let connection = try await Self.connection(of: db)
            let options = connection + ["--concurrency", "4", "--lease-ms", "1000", "--poll-ms", "100"]
            // Three workers in turn, each killed at a random moment while it runs jobs.
            for round in 0..<3 {
                let child = try ChildProcess(Self.worker, ["work"] + options)
                let running = await eventually(timeout: .seconds(20)) {
                    (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'running'")) ?? 0 > 0
                }
                #expect(running, "round \(round): no job started; worker output: \(child.output)")
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...400)))
                child.send(SIGKILL)
                #expect(await child.waitForExit() == 128 + SIGKILL)
            }
            let interrupted = try await db.count(
                "SELECT count(*) FROM jobs WHERE state IN ('running', 'retryable', 'available') AND attempt >= 1")
            // A last worker finishes everything, including the jobs the killed ones held.
            let last = try ChildProcess(Self.worker, ["work"] + options)
            let finished = await eventually(timeout: .seconds(60)) {
                (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'completed'")) == 30
            }
            #expect(finished, "worker output: \(last.output)")
            last.send(SIGTERM)
            #expect(await last.waitForExit() == 0)
            let effects = try await db.count("SELECT count(*) FROM bench_effects")
            let matching = try await db.count("SELECT count(*) FROM bench_effects e JOIN jobs j ON j.id = e.job_id")
            let rescued = try await db.count("SELECT count(*) FROM jobs WHERE errors::text LIKE '%lease%'")
            #expect(effects == 30)
            #expect(matching == 30)
            #expect(interrupted > 0)
            #expect(rescued > 0)
        }
    }

    @Test("Four worker processes drain 10,000 jobs, each exactly once", .timeLimit(.minutes(4)))
    func fourProcessesDrain() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await Self.createEffects(db)
            let jobs = JobClient()
            for first in stride(from: 0, to: 10_000, by: 1_000) {
                _ = try await db.withTransaction { tx in
                    try await jobs.enqueue(batch: (first..<first + 1_000).map { BenchEffect(label: "\($0)", sleepMilliseconds: 0) }, on: tx)
                }
            }
            let options = try await Self.connection(of: db) + ["--concurrency", "20", "--lease-ms", "10000"]
            let workers = try (0..<4).map { _ in try ChildProcess(Self.worker, ["work"] + options) }
            let drained = await eventually(timeout: .seconds(180), poll: .milliseconds(200)) {
                (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'completed'")) == 10_000
            }
            #expect(drained, "output: \(workers.map(\.output).joined(separator: "\n"))")
            for worker in workers { worker.send(SIGTERM) }
            for worker in workers { #expect(await worker.waitForExit() == 0) }
            let effects = try await db.count("SELECT count(*) FROM bench_effects")
            let repeated = try await db.count("SELECT count(*) FROM jobs WHERE attempt <> 1")
            #expect(effects == 10_000)
            #expect(repeated == 0)
        }
    }

    @Test("Three processes running the same cron schedule enqueue each slot once", .timeLimit(.minutes(2)))
    func cronAcrossProcesses() async throws {
        try await TestDatabase.withFreshDatabase { db in
            // Simulated time starts one second after a minute boundary and runs 60 times faster.
            let now = Int(Date().timeIntervalSince1970)
            let start = now - now % 60 + 1
            let options = try await Self.connection(of: db) + ["--start", "\(start)", "--speed", "60", "--seconds", "5"]
            let schedulers = try (0..<3).map { _ in try ChildProcess(Self.worker, ["cron"] + options) }
            for scheduler in schedulers { #expect(await scheduler.waitForExit() == 0, "\(scheduler.output)") }
            let total = try await db.count("SELECT count(*) FROM jobs WHERE kind = \(cronKind)")
            let distinct = try await db.count("SELECT count(DISTINCT unique_key) FROM jobs WHERE kind = \(cronKind)")
            let span = try await db.count(
                "SELECT (extract(epoch FROM max((args->>'slot')::timestamptz) - min((args->>'slot')::timestamptz)) / 60)::int FROM jobs")
            #expect(total >= 4)
            #expect(total == distinct)
            #expect(span == total - 1)
        }
    }
}
