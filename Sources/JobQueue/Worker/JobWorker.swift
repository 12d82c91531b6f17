public import Foundation
public import Logging
public import Postgres
public import ServiceLifecycle
import Synchronization

/// Runs the jobs of one queue: claims them in batches sized by free slots,
/// runs each with its handler, and records outcomes in batches.
///
/// It wakes on `NOTIFY` (see `JobClient`), through the process's shared `JobWakeups` when given one
/// and on a LISTEN connection of its own otherwise, and polls every `pollInterval` in case a
/// notification was lost. Behind a transaction pooler without a direct connection string
/// (`PostgresConfiguration.canListen` false) it only polls. While jobs run their leases are renewed; a
/// job cancelled by an operator or whose lease was lost is stopped. On
/// graceful shutdown it stops claiming, lets running jobs finish for up to
/// `drainTimeout`, then cancels the rest and hands them back at once
/// without spending their attempt.
public final class JobWorker: Service, Sendable {
    /// How a worker runs.
    public struct Configuration: Sendable {
        /// The queue it serves. Default `default`.
        public var queue = "default"
        /// How many jobs run at once. Default 100.
        public var concurrency = 100
        /// The most jobs claimed in one statement. Default 100.
        public var claimBatch = 100
        /// How often to look for jobs when no notification comes. Default 1 second.
        public var pollInterval: Duration = .seconds(1)
        /// How long a claimed job is held without renewal; renewed every third of it. Default 30 seconds.
        public var leaseDuration: Duration = .seconds(30)
        /// How long running jobs may finish after shutdown begins. Default 30 seconds.
        public var drainTimeout: Duration = .seconds(30)
        /// The most outcomes written in one statement. Default 500.
        public var completionBatch = 500
        /// This worker's name, recorded as the lease owner. Default host/pid/random.
        public var name = "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(UInt16.random(in: 0...UInt16.max))"

        /// Creates a configuration with the defaults.
        public init(queue: String = "default") { self.queue = queue }
    }

    /// Why a running job's task was cancelled.
    private enum StopReason { case shutdown, leaseLost, cancelRequested }

    /// Running jobs are keyed by claim, not by id: the same process may claim a job again after its
    /// lease was lost while the first run still winds down.
    private struct State {
        var running: [JobClaim: Task<Void, Never>] = [:]
        var stopReasons: [JobClaim: StopReason] = [:]
        var completions: [JobStore.Completion] = []
        var released: [JobClaim] = []
        var shuttingDown = false
        var queueMayHaveMore = false
    }

    let client: PostgresClient
    let registry: JobRegistry
    let configuration: Configuration
    let logger: Logger
    /// Claims failing in a row (the database away): logged when they start and when they end.
    let claimFailures = FailureStreak("claiming jobs")
    /// Listening failing in a row: the worker polls meanwhile.
    let listenFailures = FailureStreak("listening for jobs (the worker polls meanwhile)")
    /// Writing finished jobs' outcomes failing in a row: they are kept and written when it works.
    let outcomeFailures = FailureStreak("recording job outcomes (they are kept meanwhile)")
    /// Renewing the running jobs' leases failing in a row.
    let leaseFailures = FailureStreak("renewing leases")
    let now: @Sendable () -> Date
    /// The process's shared LISTEN connection, if any.
    let wakeups: JobWakeups?
    private let state = Mutex(State())
    private let wake: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let flush: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)

    /// Creates a worker.
    /// - Parameters:
    ///   - client: the database pool.
    ///   - registry: the handlers, by kind.
    ///   - configuration: queue, concurrency, timings.
    ///   - logger: logs carry `job.id` and `job.kind`.
    ///   - now: the clock for backoff computations.
    ///   - wakeups: the process's shared LISTEN connection (run as a service before the worker); nil
    ///     listens on a connection of the worker's own.
    public init(
        client: PostgresClient, registry: JobRegistry, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "jiebang.jobs"), now: @escaping @Sendable () -> Date = { Date() },
        wakeups: JobWakeups? = nil
    ) {
        self.wakeups = wakeups
        self.client = client
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.wake = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.flush = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The number of jobs running now.
    public var runningCount: Int { state.withLock { $0.running.count } }

    public func run() async throws {
        var logger = self.logger
        logger[metadataKey: "worker"] = "\(configuration.name)"
        logger[metadataKey: "job.queue"] = "\(configuration.queue)"
        logger.info("worker started", metadata: ["concurrency": "\(configuration.concurrency)"])
        await withTaskGroup(of: Void.self) { group in
            if let wakeups {
                group.addTask { await self.relay(wakeups) }
            } else if client.configuration.canListen {
                group.addTask { await self.listenLoop() }
            }
            group.addTask { await self.pollLoop() }
            group.addTask { await self.leaseLoop() }
            let flusher = Task { await self.flushLoop() }
            await withGracefulShutdownHandler {
                await self.claimLoop()
            } onGracefulShutdown: {
                self.state.withLock { $0.shuttingDown = true }
                self.wake.continuation.finish()
            }
            await self.drain()
            group.cancelAll()
            self.flush.continuation.finish()
            await flusher.value
        }
        await writeOutcomes()
        logger.info("worker stopped")
    }

    // MARK: - Claiming

    private func claimLoop() async {
        wake.continuation.yield()
        for await _ in wake.stream {
            if Task.isCancelled || state.withLock({ $0.shuttingDown }) { return }
            await claimWhileFree()
        }
    }

    private func claimWhileFree() async {
        while true {
            let free = state.withLock { state -> Int in
                state.shuttingDown ? 0 : configuration.concurrency - state.running.count
            }
            guard free > 0 else { return }
            let limit = min(free, configuration.claimBatch)
            let jobs: [Job]
            do {
                jobs = try await client.withConnection { db in
                    try await JobStore.claim(
                        queue: configuration.queue, limit: limit, owner: configuration.name,
                        lease: configuration.leaseDuration, on: db)
                }
            } catch {
                claimFailures.failed(error, logger: logger, metadata: ["job.queue": "\(configuration.queue)"])
                try? await Task.sleep(for: .milliseconds(500))
                return
            }
            claimFailures.succeeded(logger: logger)
            state.withLock { $0.queueMayHaveMore = jobs.count == limit }
            for job in jobs { start(job) }
            if jobs.count < limit { return }
        }
    }

    private func start(_ job: Job) {
        JobMetrics.pickedUp(queue: job.queue, after: job.attemptedAt.timeIntervalSince(job.runAt))
        state.withLock { state in
            let task = Task { await self.execute(job) }
            state.running[job.claim] = task
        }
    }

    // MARK: - Running one job

    private func execute(_ job: Job) async {
        let started = ContinuousClock.now
        defer { JobMetrics.ran(kind: job.kind, for: ContinuousClock.now - started) }
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "job.kind"] = "\(job.kind)"
        let outcome: JobOutcome
        var completedInTransaction = false
        if let entry = registry.entry(for: job.kind) {
            let timeout = job.timeout ?? entry.timeout
            do {
                switch entry.body {
                case .plain(let handler):
                    try await withTimeout(timeout) { try await handler(job) }
                case .transactional(let handler):
                    try await withTimeout(timeout) {
                        try await self.client.withTransaction { db in
                            try await handler(job, db)
                            let completion = JobStore.Completion(
                                claim: job.claim,
                                transition: JobTransition.after(
                                    .succeeded, attempt: job.attempt, maxAttempts: job.maxAttempts, now: self.now(),
                                    policy: entry.retry),
                                now: self.now())
                            let updated = try await JobStore.complete([completion], owner: self.configuration.name, on: db)
                            // The lease was lost (the job was rescued): roll the effects back.
                            guard updated == [job.id] else { throw LeaseLost() }
                        }
                    }
                    completedInTransaction = true
                }
                outcome = .succeeded
            } catch {
                outcome = self.outcome(of: error, job: job, timeout: timeout)
            }
            finish(job, outcome: outcome, policy: entry.retry, alreadyRecorded: completedInTransaction, logger: logger)
        } else {
            finish(
                job, outcome: .failed(message: "no handler is registered for kind \(job.kind)"), policy: .default,
                alreadyRecorded: false, logger: logger)
        }
    }

    private struct LeaseLost: Error {}
    private struct TimedOut: Error { let after: Duration }

    private func outcome(of error: any Error, job: Job, timeout: Duration?) -> JobOutcome {
        switch error {
        case let snooze as JobSnooze: return .snoozed(for: snooze.delay)
        case let cancel as JobCancel: return .cancelled(reason: cancel.reason)
        case let timedOut as TimedOut: return .failed(message: "timed out after \(timedOut.after)")
        default: return .failed(message: String(describing: error))
        }
    }

    private func finish(_ job: Job, outcome: JobOutcome, policy: RetryPolicy, alreadyRecorded: Bool, logger: Logger) {
        let reason = state.withLock { state -> StopReason? in
            state.running[job.claim] = nil
            return state.stopReasons.removeValue(forKey: job.claim)
        }
        switch reason {
        case .shutdown:
            if !alreadyRecorded { state.withLock { $0.released.append(job.claim) } }
            logger.info("job handed back at shutdown")
        case .leaseLost:
            logger.warning("job stopped: its lease was lost")
        case .cancelRequested:
            if !alreadyRecorded { record(job, .cancelled(reason: "cancelled by an operator"), policy: policy) }
        case nil:
            if !alreadyRecorded { record(job, outcome, policy: policy) }
            JobMetrics.finished(kind: job.kind, outcome: Self.label(outcome, job: job))
            switch outcome {
            case .succeeded: logger.debug("job completed")
            case .failed(let message): logger.warning("job failed", metadata: ["error": "\(message)", "job.attempt": "\(job.attempt)"])
            case .snoozed(let delay): logger.debug("job snoozed", metadata: ["delay": "\(delay)"])
            case .cancelled(let why): logger.notice("job cancelled", metadata: ["reason": "\(why)"])
            }
        }
        flush.continuation.yield()
        // While the queue has more, claim again once half the slots are free (or the batch fits),
        // so that claims stay batched rather than one round trip per finished job.
        let claimAgain = state.withLock { state in
            let free = configuration.concurrency - state.running.count
            return state.queueMayHaveMore && (free >= min(configuration.claimBatch, max(1, configuration.concurrency / 2)))
        }
        if claimAgain { wake.continuation.yield() }
    }

    /// The metric label of an outcome: the state it leads to (or `snoozed`).
    private static func label(_ outcome: JobOutcome, job: Job) -> String {
        switch outcome {
        case .succeeded: "completed"
        case .failed: job.attempt >= job.maxAttempts ? "discarded" : "retryable"
        case .snoozed: "snoozed"
        case .cancelled: "cancelled"
        }
    }

    private func record(_ job: Job, _ outcome: JobOutcome, policy: RetryPolicy) {
        let now = self.now()
        var random = SystemRandomNumberGenerator()
        let transition = JobTransition.after(
            outcome, attempt: job.attempt, maxAttempts: job.maxAttempts, now: now, policy: policy, random: &random)
        state.withLock { $0.completions.append(JobStore.Completion(claim: job.claim, transition: transition, now: now)) }
    }

    private func withTimeout(_ timeout: Duration?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard let timeout else { return try await body() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TimedOut(after: timeout)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    // MARK: - Writing outcomes

    private func flushLoop() async {
        for await _ in flush.stream {
            await writeOutcomes()
        }
    }

    /// Writes the finished jobs' outcomes in batches. A batch that cannot be written (the database away) is
    /// kept and tried again, after 0.1 s doubling to 5 s, so a short outage does not run a finished job
    /// again. Writing is guarded by the claim (attempt, owner, state), so a batch written twice counts once.
    /// While the worker stops, it gives up after three failed tries: those jobs stay running under a lease
    /// nobody renews, and are rescued when it expires.
    private func writeOutcomes() async {
        var delay = Duration.milliseconds(100)
        var failedWhileStopping = 0
        while true {
            let (completions, released) = state.withLock { state in
                let batch = Array(state.completions.prefix(configuration.completionBatch))
                state.completions.removeFirst(batch.count)
                defer { state.released = [] }
                return (batch, state.released)
            }
            if completions.isEmpty && released.isEmpty { return }
            do {
                try await client.withConnection { db in
                    try await JobStore.complete(completions, owner: configuration.name, on: db)
                    try await JobStore.release(released, owner: configuration.name, on: db)
                }
                outcomeFailures.succeeded(logger: logger)
                delay = .milliseconds(100)
            } catch {
                let stopping = state.withLock { state in
                    state.completions.insert(contentsOf: completions, at: 0)
                    state.released.append(contentsOf: released)
                    return state.shuttingDown
                }
                outcomeFailures.failed(error, logger: logger, metadata: ["count": "\(completions.count + released.count)"])
                if stopping { failedWhileStopping += 1 }
                if failedWhileStopping >= 3 || Task.isCancelled {
                    let left = state.withLock { $0.completions.count + $0.released.count }
                    logger.error(
                        "stopping without recording the outcomes of finished jobs: they run again when their leases expire",
                        metadata: ["error": "\(error)", "count": "\(left)"])
                    return
                }
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    // MARK: - Leases, notifications, polling

    private func leaseLoop() async {
        let interval = configuration.leaseDuration / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let claims = state.withLock { Array($0.running.keys) }
            guard !claims.isEmpty else { continue }
            do {
                let held = try await client.withConnection { db in
                    try await JobStore.renewLeases(claims, owner: configuration.name, lease: configuration.leaseDuration, on: db)
                }
                let heldClaims = Set(held.map(\.claim))
                let cancelled = Set(held.filter(\.cancelRequested).map(\.claim))
                state.withLock { state in
                    for claim in claims {
                        guard let task = state.running[claim] else { continue }
                        if !heldClaims.contains(claim) {
                            state.stopReasons[claim] = .leaseLost
                            task.cancel()
                        } else if cancelled.contains(claim) {
                            state.stopReasons[claim] = .cancelRequested
                            task.cancel()
                        }
                    }
                }
                leaseFailures.succeeded(logger: logger)
            } catch {
                leaseFailures.failed(error, logger: logger)
            }
        }
    }

    private func listenLoop() async {
        while !Task.isCancelled {
            do {
                let notifications = try await client.listen(on: JobClient.channel)
                listenFailures.succeeded(logger: logger)
                // Jobs may have arrived while not listening.
                wake.continuation.yield()
                for try await notification in notifications where notification.payload == configuration.queue {
                    wake.continuation.yield()
                }
            } catch {
                if Task.isCancelled { return }
                listenFailures.failed(error, logger: logger)
                try? await Task.sleep(for: configuration.pollInterval)
            }
        }
    }

    /// Passes on the shared connection's wake-ups for this worker's queue until cancelled.
    private func relay(_ wakeups: JobWakeups) async {
        for await _ in wakeups.subscribe(queue: configuration.queue) {
            wake.continuation.yield()
        }
    }

    private func pollLoop() async {
        while !Task.isCancelled {
            let jitter = Double.random(in: 0.8...1.2)
            try? await Task.sleep(for: configuration.pollInterval * jitter)
            wake.continuation.yield()
        }
    }

    // MARK: - Shutdown

    private func drain() async {
        let deadline = ContinuousClock.now + configuration.drainTimeout
        while ContinuousClock.now < deadline && runningCount > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let remaining = state.withLock { state in
            for claim in state.running.keys { state.stopReasons[claim] = .shutdown }
            return Array(state.running.values)
        }
        if !remaining.isEmpty {
            logger.notice("cancelling jobs still running at shutdown", metadata: ["count": "\(remaining.count)"])
        }
        for task in remaining { task.cancel() }
        for task in remaining { await task.value }
    }
}
