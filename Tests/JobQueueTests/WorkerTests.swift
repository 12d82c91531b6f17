import Foundation
import JiebangTesting
import JobQueue
import Logging
import Postgres
import Synchronization
import Testing

@Suite("The worker")
struct WorkerTests {
    @Test("Every job runs once and its transactional effect is written once", .timeLimit(.minutes(2)))
    func runsEveryJobOnce() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 12) { db in
            try await createEffectsTable(db)
            let jobs = JobClient()
            _ = try await db.withTransaction { tx in
                try await jobs.enqueue(batch: (0..<300).map { RecordEffect(label: "\($0)") }, on: tx)
            }
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: testWorkerConfiguration(concurrency: 20))
            try await withRunning([worker]) {
                // Alone this takes half a second; the generous deadline is for a full, parallel test run on 2 CPUs.
                #expect(
                    await eventually(timeout: .seconds(90)) {
                        (try? await db.count("SELECT count(*) FROM jobs WHERE state = 'completed'")) == 300
                    })
            }
            let effects = try await db.count("SELECT count(*) FROM effects")
            let attempts = try await db.count("SELECT max(attempt) FROM jobs")
            #expect(effects == 300)
            #expect(attempts == 1)
        }
    }

    @Test(
        "A job enqueued on an idle queue is picked up at once by notification", .timeLimit(.minutes(1)),
        .disabled(if: TestDatabase.runsBehindPooler, "LISTEN needs a session: behind a transaction pooler the workers poll (PoolerTests)"))
    func wakesOnNotify() async throws {
        try await TestDatabase.withFreshDatabase { db in
            try await createEffectsTable(db)
            var configuration = testWorkerConfiguration()
            configuration.pollInterval = .seconds(60)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: configuration)
            try await withRunning([worker]) {
                // Give the listener time to start, then enqueue; the poll interval is a minute.
                #expect(
                    await eventually {
                        (try? await db.count(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")) == 1
                    })
                let job = try await JobClient().enqueue(RecordEffect(label: "now"), using: db)
                #expect(await eventually(timeout: .seconds(5)) { (try? await db.jobState(job.id)) == .completed })
            }
        }
    }

    @Test(
        "The workers of three queues in one process share one LISTEN connection, and each is woken by its own queue's notification",
        .timeLimit(.minutes(1)),
        .disabled(if: TestDatabase.runsBehindPooler, "LISTEN needs a session: behind a transaction pooler the workers poll (PoolerTests)"))
    func sharedListener() async throws {
        try await TestDatabase.withFreshDatabase(maximumConnections: 12) { db in
            try await createEffectsTable(db)
            var configuration = WorkerConfiguration()
            configuration.queues = ["mail": 2, "review": 2, "default": 2]
            configuration.worker = testWorkerConfiguration()
            // A minute between polls: only a notification can wake a worker within the test's seconds.
            configuration.worker.pollInterval = .seconds(60)
            configuration.maintenance.promoteInterval = .seconds(60)
            let services = buildWorkerServices(
                configuration: configuration, database: db, jobs: JobClient(), registry: testRegistry(), logger: Logger(label: "test"))
            #expect(services.compactMap { $0 as? JobWakeups }.count == 1)
            try await withRunning(services) {
                let listening = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                #expect(await eventually { (try? await db.count(PostgresQuery(unsafeSQL: listening))) == 1 })
                // Let every worker finish its first claim, so what follows can only be woken by NOTIFY.
                try await Task.sleep(for: .milliseconds(300))
                var ids: [Int] = []
                for queue in ["mail", "review", "default"] {
                    var options = RecordEffect.defaultOptions
                    options.queue = queue
                    ids.append(try await JobClient().enqueue(RecordEffect(label: queue), options: options, using: db).id)
                }
                for id in ids {
                    #expect(await eventually(timeout: .seconds(10)) { (try? await db.jobState(id)) == .completed })
                }
                #expect(try await db.count(PostgresQuery(unsafeSQL: listening)) == 1)
            }
        }
    }

    @Test("A failure records the error and schedules a retry; the last failure discards", .timeLimit(.minutes(1)))
    func failureRetryAndDiscard() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            let retried = try await jobs.enqueue(Scripted(action: .fail), using: db)
            let last = try await jobs.enqueue(Scripted(action: .fail), options: JobOptions(maxAttempts: 1), using: db)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: testWorkerConfiguration())
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(retried.id)) == .retryable })
                #expect(await eventually { (try? await db.jobState(last.id)) == .discarded })
            }
            let (errors, delay) = try await db.query(
                "SELECT jsonb_array_length(errors), extract(epoch FROM run_at - now())::float8 FROM jobs WHERE id = \(retried.id)"
            ).first!.decode((Int, Double).self)
            #expect(errors == 1)
            #expect(delay > 30)
            let message = try await db.query("SELECT errors -> 0 ->> 'message' FROM jobs WHERE id = \(last.id)").first!.decode(String.self)
            #expect(message == "scripted failure on attempt 1")
        }
    }

    @Test("Snoozing does not spend an attempt, and a cancelled job is final", .timeLimit(.minutes(1)))
    func snoozeAndCancel() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            let snoozed = try await jobs.enqueue(Scripted(action: .snooze), using: db)
            let cancelled = try await jobs.enqueue(Scripted(action: .cancel), using: db)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: testWorkerConfiguration())
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(snoozed.id)) == .scheduled })
                #expect(await eventually { (try? await db.jobState(cancelled.id)) == .cancelled })
            }
            let attempt = try await db.count("SELECT attempt FROM jobs WHERE id = \(snoozed.id)")
            #expect(attempt == 0)
        }
    }

    @Test("An attempt that outruns its timeout fails with a timeout message", .timeLimit(.minutes(1)))
    func timeout() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(
                Scripted(action: .sleep, sleepMilliseconds: 10_000), options: JobOptions(timeout: .milliseconds(200)), using: db)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: testWorkerConfiguration())
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(job.id)) == .retryable })
            }
            let message = try await db.query("SELECT errors -> 0 ->> 'message' FROM jobs WHERE id = \(job.id)").first!.decode(String.self)
            #expect(message.hasPrefix("timed out after"))
        }
    }

    @Test(
        "At shutdown a job still running after the drain timeout is handed back without spending its attempt",
        .timeLimit(.minutes(1)))
    func shutdownHandsBack() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(Scripted(action: .sleep, sleepMilliseconds: 60_000), using: db)
            var configuration = testWorkerConfiguration()
            configuration.drainTimeout = .milliseconds(300)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: configuration)
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(job.id)) == .running })
            }
            #expect(try await db.jobState(job.id) == .available)
            let attempt = try await db.count("SELECT attempt FROM jobs WHERE id = \(job.id)")
            #expect(attempt == 0)
        }
    }

    @Test(
        "A finished job's outcome that cannot be written (the jobs table locked away) is kept and written when it can: the job runs once",
        .timeLimit(.minutes(1)))
    func outcomeKeptThroughOutage() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(Scripted(action: .sleep, sleepMilliseconds: 1500), using: db)
            var workerDatabase = db.configuration
            workerDatabase.lockTimeout = .milliseconds(100)
            let workerClient = PostgresClient(configuration: workerDatabase)
            let sink = FailureStreakTests.Lines()
            let logger = Logger(label: "worker") { _ in FailureStreakTests.Capture(sink: sink) }
            let worker = JobWorker(client: workerClient, registry: testRegistry(), configuration: testWorkerConfiguration(), logger: logger)
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(job.id)) == .running })
                // The job finishes (1.5 s) while the table is locked (3 s): writing its outcome times out, again and again.
                try await db.withTransaction { tx in
                    try await tx.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
                    try await Task.sleep(for: .milliseconds(3000))
                }
                #expect(await eventually(timeout: .seconds(8)) { (try? await db.jobState(job.id)) == .completed })
            }
            await workerClient.close()
            #expect(try await db.count("SELECT attempt FROM jobs WHERE id = \(job.id)") == 1)
            // Behind a transaction pooler no startup options reach the server, so the lock timeout does not
            // apply: the write waits for the lock instead of failing, and nothing is logged.
            guard !TestDatabase.runsBehindPooler else { return }
            let lines = sink.lines.withLock { $0.map(\.1) }
            #expect(lines.filter { $0.hasPrefix("recording job outcomes") }.count == 2, "\(lines)")
            #expect(lines.contains("recording job outcomes (they are kept meanwhile) works again"))
        }
    }

    @Test("An operator's cancel stops a running job", .timeLimit(.minutes(1)))
    func operatorCancel() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(Scripted(action: .sleep, sleepMilliseconds: 60_000), using: db)
            var configuration = testWorkerConfiguration()
            configuration.leaseDuration = .milliseconds(600)
            let worker = JobWorker(client: db, registry: testRegistry(), configuration: configuration)
            try await withRunning([worker]) {
                #expect(await eventually { (try? await db.jobState(job.id)) == .running })
                try await db.execute("UPDATE jobs SET cancel_requested = true WHERE id = \(job.id)")
                #expect(await eventually { (try? await db.jobState(job.id)) == .cancelled })
            }
        }
    }
}

@Suite("Maintenance")
struct MaintenanceTests {
    @Test("A job whose lease expired is rescued on the injected clock, and a finished one is not revived")
    func rescue() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            let crashed = try await jobs.enqueue(Scripted(action: .succeed), using: db)
            let finished = try await jobs.enqueue(Scripted(action: .succeed), options: JobOptions(priority: 9), using: db)
            let claimed = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 2, owner: "dead-worker", lease: .seconds(30), on: $0)
            }
            #expect(claimed.count == 2)
            try await db.withConnection { conn in
                let now = Date()
                try await JobStore.complete(
                    [
                        .init(
                            claim: JobClaim(jobID: finished.id, attempt: 1),
                            transition: JobTransition.after(.succeeded, attempt: 1, maxAttempts: 25, now: now, policy: .default), now: now)
                    ],
                    owner: "dead-worker", on: conn)
            }
            let maintenance = JobMaintenance(client: db, jobs: jobs)
            let early = try await maintenance.rescueOnce(asOf: Date().addingTimeInterval(10))
            #expect(early == 0)
            let late = try await maintenance.rescueOnce(asOf: Date().addingTimeInterval(31))
            #expect(late == 1)
            #expect(try await db.jobState(crashed.id) == .retryable)
            #expect(try await db.jobState(finished.id) == .completed)
            let message = try await db.query("SELECT errors -> 0 ->> 'message' FROM jobs WHERE id = \(crashed.id)").first!.decode(
                String.self)
            #expect(message.contains("lease"))
        }
    }

    @Test("A job an operator asked to cancel is cancelled, not retried, when its dead worker's lease expires")
    func rescueRespectsCancel() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let job = try await JobClient().enqueue(Scripted(action: .succeed), using: db)
            _ = try await db.withConnection {
                try await JobStore.claim(queue: "default", limit: 1, owner: "dead-worker", lease: .seconds(30), on: $0)
            }
            try await db.execute("UPDATE jobs SET cancel_requested = true WHERE id = \(job.id)")
            let rescued = try await JobMaintenance(client: db, jobs: JobClient()).rescueOnce(asOf: Date().addingTimeInterval(60))
            #expect(rescued == 1)
            #expect(try await db.jobState(job.id) == .cancelled)
        }
    }

    @Test("Finished jobs older than the retention are pruned in batches; others stay")
    func prune() async throws {
        try await TestDatabase.withFreshDatabase { db in
            let jobs = JobClient()
            _ = try await db.withTransaction { try await jobs.enqueue(batch: (0..<25).map { _ in Scripted(action: .succeed) }, on: $0) }
            try await db.execute("UPDATE jobs SET state = 'completed', finished_at = now() - interval '8 days' WHERE id % 5 <> 0")
            var configuration = JobMaintenance.Configuration()
            configuration.batchSize = 7
            let pruned = try await JobMaintenance(client: db, jobs: jobs, configuration: configuration).pruneOnce()
            #expect(pruned == 20)
            let left = try await db.count("SELECT count(*) FROM jobs")
            #expect(left == 5)
        }
    }
}
