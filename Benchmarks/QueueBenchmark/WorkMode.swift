import Foundation
import JobQueue
import Logging
import Postgres
import ServiceLifecycle
import UnixSignals

/// `QueueBenchmark work`: a worker process for the process tests (kill, several processes).
///
/// Options: --connection, --database, --pooling, --concurrency (10), --lease-ms (2000), --poll-ms (200).
/// Runs until SIGTERM or SIGINT.
func runWorker(_ arguments: Arguments) async throws {
    let db = makeClient(arguments, maximumConnections: 12)
    try await createEffectsTable(db)
    var configuration = JobWorker.Configuration()
    configuration.concurrency = arguments.int("--concurrency", default: 10)
    configuration.leaseDuration = .milliseconds(arguments.int("--lease-ms", default: 2000))
    configuration.pollInterval = .milliseconds(arguments.int("--poll-ms", default: 200))
    var maintenance = JobMaintenance.Configuration()
    maintenance.promoteInterval = .milliseconds(100)
    maintenance.rescueInterval = .milliseconds(250)
    maintenance.retry = .fixed(.milliseconds(100))
    var logger = Logger(label: "queue-worker")
    logger.logLevel = .notice
    let jobs = JobClient()
    let group = ServiceGroup(
        configuration: .init(
            services: [
                .init(service: db),
                .init(service: JobMaintenance(client: db, jobs: jobs, configuration: maintenance, logger: logger)),
                .init(service: JobWorker(client: db, registry: benchRegistry(), configuration: configuration, logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    FileHandle.standardOutput.write(Data("worker ready\n".utf8))
    try await group.run()
}

/// `QueueBenchmark cron`: runs one `* * * * *` schedule on an accelerated clock.
///
/// Options: --connection, --database, --start (seconds since 1970 for simulated time zero),
/// --speed (simulated seconds per real second, 60), --seconds (real run time, 5).
func runCron(_ arguments: Arguments) async throws {
    let db = makeClient(arguments, maximumConnections: 2)
    let start = Date(timeIntervalSince1970: Double(arguments.int("--start", default: Int(Date().timeIntervalSince1970))))
    let speed = Double(arguments.int("--speed", default: 60))
    let began = Date()
    let clock: @Sendable () -> Date = { start.addingTimeInterval(Date().timeIntervalSince(began) * speed) }
    var schedule = CronSchedule(name: "bench.every-minute", expression: try CronExpression("* * * * *"))
    schedule.catchUp = .all(limit: 100)
    let scheduler = CronScheduler(
        client: db, jobs: JobClient(), entries: [CronScheduler.entry(schedule) { slot in NoopJob(slot: slot) }],
        tickInterval: .milliseconds(20), now: clock)
    let deadline = ContinuousClock.now + .seconds(arguments.int("--seconds", default: 5))
    while ContinuousClock.now < deadline {
        try await scheduler.tickOnce()
        try await Task.sleep(for: .milliseconds(Int.random(in: 5...25)))
    }
    await db.close()
}
