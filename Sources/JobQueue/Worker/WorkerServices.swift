public import Logging
public import Postgres
public import ServiceLifecycle

/// What a worker process runs: which queues with how many slots, and the housekeeping settings.
public struct WorkerConfiguration: Sendable {
    /// Each queue served and the number of jobs it runs at once. Default `["default": 100]`.
    public var queues: [String: Int] = ["default": 100]
    /// Promotion, rescue, pruning and statistics.
    public var maintenance = JobMaintenance.Configuration()
    /// Drain timeout, lease and poll interval for every queue's worker.
    public var worker = JobWorker.Configuration()

    /// The defaults.
    public init() {}
}

/// Builds the services of the job system, in start order: maintenance, cron, the shared LISTEN
/// connection (`JobWakeups`, absent when nothing can listen), then one worker per queue.
///
/// Used by `jiebang work` and by `jiebang serve` when it runs workers in the same process.
public func buildWorkerServices(
    configuration: WorkerConfiguration,
    database: PostgresClient,
    jobs: JobClient,
    registry: JobRegistry,
    schedules: [CronScheduler.Entry] = [],
    logger: Logger
) -> [any Service] {
    var services: [any Service] = [
        JobMaintenance(client: database, jobs: jobs, configuration: configuration.maintenance, logger: logger)
    ]
    if !schedules.isEmpty {
        services.append(CronScheduler(client: database, jobs: jobs, entries: schedules, logger: logger))
    }
    // Behind a transaction pooler without a direct connection, nothing can LISTEN: the workers only poll.
    let wakeups = database.configuration.canListen ? JobWakeups(client: database, logger: logger) : nil
    if let wakeups { services.append(wakeups) }
    for (queue, concurrency) in configuration.queues.sorted(by: { $0.key < $1.key }) {
        var worker = configuration.worker
        worker.queue = queue
        worker.concurrency = concurrency
        worker.claimBatch = min(worker.claimBatch, concurrency)
        services.append(JobWorker(client: database, registry: registry, configuration: worker, logger: logger, wakeups: wakeups))
    }
    return services
}
