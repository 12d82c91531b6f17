public import Foundation
public import Jiebang
public import JobQueue
public import SMTP

/// The product's job handlers and periodic jobs, registered in one place for `serve` and `work`.
///
/// Review assignment, deadline reminders and acceptance register here. Every handler is idempotent or transactional (see README).
public enum ProductJobs {
    /// Closes the challenges whose application deadline passed (every minute); 5 attempts.
    public struct CloseExpiredChallenges: JobArguments {
        public static let kind = "challenges.close_expired"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// Deletes idempotency keys older than a day, and sign-in throttle rows idle for a day and no longer
    /// blocking (daily at 03:30); 3 attempts.
    public struct PruneIdempotencyKeys: JobArguments {
        public static let kind = "idempotency_keys.prune"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 3) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// Seals the committed audit entries into the hash chain (every minute); 5 attempts.
    public struct SealAuditChain: JobArguments {
        public static let kind = "audit.seal"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// Verifies the whole audit chain (daily at 04:10); a broken chain fails the job, naming the first
    /// bad entry in the worker's log and on the queue page; 3 attempts.
    public struct VerifyAuditChain: JobArguments {
        public static let kind = "audit.verify"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 3) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// The audit chain does not hold.
    struct BrokenAuditChain: Error, CustomStringConvertible {
        var problem: String
        var description: String { "the audit chain is broken: \(problem)" }
    }

    /// Runs one reminder scan as of its cron slot (every ten minutes); each notification is written once
    /// however often the scan runs.
    public struct RunReminderScan: JobArguments {
        public static let kind = "reminders.scan"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The scan's name (`ReminderScan`).
        public var scan: String
        /// The cron slot that enqueued it: the moment the scan is evaluated at.
        public var slot: Date
    }

    /// Carries out the rematches that changes to demands, results and talents requested (`PoolMatches`), a hundred
    /// per transaction; a trigger enqueues it in the change's transaction, once while one waits; 10 attempts.
    public struct RematchRequested: JobArguments {
        public static let kind = "pools.rematch"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(priority: 7, maxAttempts: 10) }
    }

    /// Recomputes every match of the pools (nightly at 02:40, or `jiebang pools rematch`); 3 attempts.
    public struct RematchPools: JobArguments {
        public static let kind = "pools.rematch_all"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 3) }
        /// The cron slot that enqueued it.
        public var slot: Date?
    }

    /// Every handler, by kind, with its backoff; each kind's attempts are its `defaultOptions.maxAttempts`.
    /// - Parameters:
    ///   - smtp: the server e-mails go through (`SMTP_URL`); without one each e-mail is marked failed, not retried.
    ///   - emailRetry: the backoff of `email.send` (default 30 s doubling to at most an hour: 10 attempts span about 3 hours).
    ///   - secretsKeys: the keys that open webhook secrets to sign deliveries (nil: the database's own key).
    public static func registry(
        smtp: SMTPConfiguration? = nil, emailRetry: RetryPolicy = .exponential(base: .seconds(30), maxDelay: .seconds(3_600)),
        secretsKeys: SecretsKeyring? = nil
    ) -> JobRegistry {
        var registry = JobRegistry()
        registry.registerTransactional(CloseExpiredChallenges.self, retry: .fixed(.seconds(10))) { _, _, db in
            _ = try await ChallengeStore.closeExpired(on: db)
        }
        registry.registerTransactional(PruneIdempotencyKeys.self, retry: .fixed(.seconds(60))) { _, _, db in
            _ = try await IdempotencyStore.prune(olderThan: .seconds(86_400), on: db)
            _ = try await SignInThrottleStore.prune(idleFor: .seconds(86_400), on: db)
        }
        registry.registerTransactional(SealAuditChain.self, retry: .fixed(.seconds(10))) { _, _, db in
            _ = try await AuditChain.seal(limit: 100_000, on: db)
        }
        // Reads only; a broken chain fails the job: the worker logs its error and the queue page shows it.
        registry.registerTransactional(VerifyAuditChain.self, retry: .fixed(.seconds(300)), timeout: .seconds(1_800)) { _, _, db in
            let report = try await AuditChain.verify(on: db)
            if let problem = report.problem { throw BrokenAuditChain(problem: problem) }
        }
        registry.registerTransactional(RematchRequested.self, retry: .exponential(base: .seconds(5), maxDelay: .seconds(300))) {
            _, _, db in
            _ = try await PoolMatches.rematchRequested(batch: 100, on: db)
        }
        registry.registerTransactional(RematchPools.self, retry: .fixed(.seconds(300)), timeout: .seconds(3_600)) { _, _, db in
            _ = try await PoolMatches.rematchAll(on: db)
        }
        registry.registerTransactional(RunReminderScan.self, retry: .fixed(.seconds(30))) { _, arguments, db in
            guard let scan = ReminderScan(rawValue: arguments.scan) else {
                throw UnknownScan(name: arguments.scan)
            }
            _ = try await scan.run(at: arguments.slot, on: db)
        }
        registry.registerTransactional(ReviewJobs.RunDraw.self, retry: .exponential(base: .seconds(5), maxDelay: .seconds(300))) {
            _, arguments, db in
            _ = try await ReviewDrawing.run(roundID: arguments.round, number: arguments.number, on: db)
        }
        registry.registerTransactional(ReviewJobs.ReplaceRecused.self, retry: .exponential(base: .seconds(5), maxDelay: .seconds(300))) {
            _, arguments, db in
            _ = try await ReviewRecusal.replace(assignmentID: arguments.assignment, on: db)
        }
        registry.registerTransactional(AcceptanceJobs.Assign.self, retry: .exponential(base: .seconds(5), maxDelay: .seconds(300))) {
            _, arguments, db in
            _ = try await AcceptanceDrawing.run(acceptanceID: arguments.acceptance, on: db)
        }
        registry.registerTransactional(AcceptanceJobs.ExpireRectifications.self, retry: .fixed(.seconds(30))) { _, arguments, db in
            try await AcceptanceStore.expireRectifications(at: arguments.slot, on: db)
        }
        registry.registerTransactional(
            WebhookDeliveries.Deliver.self, retry: .exponential(base: .seconds(10), maxDelay: .seconds(3_600)), timeout: .seconds(30)
        ) { _, arguments, db in
            try await WebhookDeliveries.attempt(arguments.delivery, keys: secretsKeys, on: db)
        }
        // The session's own timeout (30 s by default) ends an attempt before the job's.
        registry.registerTransactional(EmailDeliveries.Send.self, retry: emailRetry, timeout: .seconds(120)) { _, arguments, db in
            try await EmailDeliveries.attempt(arguments.message, smtp: smtp, on: db)
        }
        return registry
    }

    /// Every periodic job, evaluated in Asia/Shanghai.
    public static func schedules() -> [CronScheduler.Entry] {
        var closeExpired = CronSchedule(name: "challenges.close_expired", expression: .everyMinute)
        closeExpired.catchUp = .latest
        var prune = CronSchedule(name: "idempotency_keys.prune", expression: .daily(hour: 3, minute: 30))
        prune.catchUp = .latest
        var entries = [
            CronScheduler.entry(closeExpired) { slot in CloseExpiredChallenges(slot: slot) },
            CronScheduler.entry(prune) { slot in PruneIdempotencyKeys(slot: slot) },
        ]
        var seal = CronSchedule(name: "audit.seal", expression: .everyMinute)
        seal.catchUp = .latest
        entries.append(CronScheduler.entry(seal) { slot in SealAuditChain(slot: slot) })
        var verify = CronSchedule(name: "audit.verify", expression: .daily(hour: 4, minute: 10))
        verify.catchUp = .latest
        entries.append(CronScheduler.entry(verify) { slot in VerifyAuditChain(slot: slot) })
        var rematch = CronSchedule(name: "pools.rematch_all", expression: .daily(hour: 2, minute: 40))
        rematch.catchUp = .latest
        entries.append(CronScheduler.entry(rematch) { slot in RematchPools(slot: slot) })
        var expire = CronSchedule(name: "acceptance.expire_rectifications", expression: .everyTenMinutes)
        expire.catchUp = .latest
        entries.append(CronScheduler.entry(expire) { slot in AcceptanceJobs.ExpireRectifications(slot: slot) })
        for scan in ReminderScan.allCases {
            var schedule = CronSchedule(name: "reminders.\(scan.rawValue)", expression: .everyTenMinutes)
            schedule.catchUp = .latest
            entries.append(CronScheduler.entry(schedule) { slot in RunReminderScan(scan: scan.rawValue, slot: slot) })
        }
        return entries
    }

    /// A job names a scan this program does not have.
    struct UnknownScan: Error, CustomStringConvertible {
        var name: String
        var description: String { "there is no reminder scan \(name)" }
    }
}

extension CronExpression {
    /// `M H * * *`.
    static func daily(hour: Int, minute: Int) -> CronExpression {
        do {
            return try CronExpression("\(minute) \(hour) * * *")
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// `*/10 * * * *`.
    static let everyTenMinutes: CronExpression = {
        do {
            return try CronExpression("*/10 * * * *")
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    /// `* * * * *`.
    static let everyMinute: CronExpression = {
        do {
            return try CronExpression("* * * * *")
        } catch {
            preconditionFailure("\(error)")
        }
    }()
}
