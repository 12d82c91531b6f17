public import Foundation
public import Logging
public import Postgres
public import ServiceLifecycle

/// Enqueues periodic jobs from crontab schedules, evaluated in each schedule's
/// time zone (Asia/Shanghai by default).
///
/// Every worker process may run it: each slot is enqueued exactly once,
/// because enqueueing a slot moves the schedule's `last_slot` forward in
/// `cron_schedules` under a row lock, in the same transaction as the job
/// insert (and the job carries a unique key per slot as a second guard).
/// There is no leader that could die between two ticks. After downtime the
/// schedule's catch-up policy decides which missed slots still run.
public final class CronScheduler: Service, Sendable {
    /// One periodic job.
    public struct Entry: Sendable {
        /// When it fires.
        public var schedule: CronSchedule
        let enqueue: @Sendable (Date, String, PostgresConnection, JobClient) async throws -> Void
    }

    let client: PostgresClient
    let jobs: JobClient
    let entries: [Entry]
    let tickInterval: Duration
    let logger: Logger
    /// Ticks failing in a row (the database away): logged when they start and when they end.
    let tickFailures = FailureStreak("the cron tick")
    let now: @Sendable () -> Date

    /// Creates the scheduler.
    /// - Parameters:
    ///   - tickInterval: how often schedules are checked. Keep it well under each schedule's grace period.
    ///     Default 1 second.
    ///   - now: the clock (injectable for tests).
    public init(
        client: PostgresClient, jobs: JobClient, entries: [Entry], tickInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "jiebang.jobs.cron"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.client = client
        self.jobs = jobs
        self.entries = entries
        self.tickInterval = tickInterval
        self.logger = logger
        self.now = now
    }

    /// A periodic job of `Arguments.kind`, whose arguments are made for each slot.
    public static func entry<Arguments: JobArguments>(
        _ schedule: CronSchedule, options: JobOptions? = nil, arguments: @escaping @Sendable (Date) -> Arguments
    ) -> Entry {
        Entry(schedule: schedule) { slot, key, db, jobs in
            var options = options ?? Arguments.defaultOptions
            options.uniqueKey = key
            options.uniqueStates = Set(JobState.allCases)
            try await jobs.enqueue(arguments(slot), options: options, on: db)
        }
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.tickOnce()
                    self.tickFailures.succeeded(logger: self.logger)
                } catch {
                    if Task.isCancelled { return }
                    self.tickFailures.failed(error, logger: self.logger)
                }
                try? await Task.sleep(for: self.tickInterval)
            }
        }
    }

    /// Enqueues every slot that is due at `now` for every schedule.
    /// - Returns: the slots this call enqueued, by schedule name (another process may have taken the rest).
    @discardableResult
    public func tickOnce(at time: Date? = nil) async throws -> [String: [Date]] {
        let now = time ?? self.now()
        let lastSlots = try await self.lastSlots()
        var enqueued: [String: [Date]] = [:]
        for entry in entries where !entry.schedule.slotsToEnqueue(lastSlot: lastSlots[entry.schedule.name], now: now).isEmpty {
            let slots = try await client.withTransaction { db in try await self.enqueueDue(entry, now: now, on: db) }
            if !slots.isEmpty {
                enqueued[entry.schedule.name] = slots
                logger.info(
                    "cron enqueued", metadata: ["cron.name": "\(entry.schedule.name)", "cron.slots": "\(slots.count)"])
            }
        }
        return enqueued
    }

    /// Every schedule's last enqueued slot, read without locks in one statement, so a tick opens a transaction
    /// only for a schedule with a slot due. A slot due after a newer last slot is due after this one too (the
    /// last slot only moves forward), so nothing due is skipped; the transaction reads it again under the row lock.
    private func lastSlots() async throws -> [String: Date] {
        let names = entries.map(\.schedule.name)
        var slots: [String: Date] = [:]
        for row in try await client.query("SELECT name, last_slot FROM cron_schedules WHERE name = ANY(\(names))") {
            let (name, slot) = try row.decode((String, Date).self)
            slots[name] = slot
        }
        return slots
    }

    private func enqueueDue(_ entry: Entry, now: Date, on db: PostgresConnection) async throws -> [Date] {
        let name = entry.schedule.name
        let last = try await db.query("SELECT last_slot FROM cron_schedules WHERE name = \(name) FOR UPDATE")
            .first.map { try $0.decode(Date.self) }
        let slots = entry.schedule.slotsToEnqueue(lastSlot: last, now: now)
        guard let newest = slots.last else { return [] }
        let moved: Int
        if last == nil {
            // Two processes may both see no row: the insert decides which one enqueues.
            moved = try await db.execute(
                "INSERT INTO cron_schedules (name, last_slot) VALUES (\(name), \(newest)) ON CONFLICT (name) DO NOTHING")
        } else {
            moved = try await db.execute(
                "UPDATE cron_schedules SET last_slot = \(newest), updated_at = now() WHERE name = \(name) AND last_slot < \(newest)")
        }
        guard moved == 1 else { return [] }
        for slot in slots {
            try await entry.enqueue(slot, entry.schedule.uniqueKey(forSlot: slot), db, jobs)
        }
        return slots
    }
}
