public import Foundation
import Jiebang
public import JobQueue

/// The product's job handlers and periodic jobs, registered in one place for `serve` and `work`.
///
/// Review assignment, deadline reminders and acceptance register here as they
/// are built. Every handler is idempotent or transactional (see README).
public enum ProductJobs {
    /// Closes the challenges whose application deadline passed (every minute); 5 attempts.
    public struct CloseExpiredChallenges: JobArguments {
        public static let kind = "challenges.close_expired"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// Deletes idempotency keys older than a day (daily at 03:30); 3 attempts.
    public struct PruneIdempotencyKeys: JobArguments {
        public static let kind = "idempotency_keys.prune"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 3) }
        /// The cron slot that enqueued it.
        public var slot: Date
    }

    /// Every handler, by kind, with its backoff; each kind's attempts are its `defaultOptions.maxAttempts`.
    public static func registry() -> JobRegistry {
        var registry = JobRegistry()
        registry.registerTransactional(CloseExpiredChallenges.self, retry: .fixed(.seconds(10))) { _, _, db in
            _ = try await ChallengeStore.closeExpired(on: db)
        }
        registry.registerTransactional(PruneIdempotencyKeys.self, retry: .fixed(.seconds(60))) { _, _, db in
            _ = try await IdempotencyStore.prune(olderThan: .seconds(86_400), on: db)
        }
        return registry
    }

    /// Every periodic job, evaluated in Asia/Shanghai.
    public static func schedules() -> [CronScheduler.Entry] {
        var closeExpired = CronSchedule(name: "challenges.close_expired", expression: .everyMinute)
        closeExpired.catchUp = .latest
        var prune = CronSchedule(name: "idempotency_keys.prune", expression: .daily(hour: 3, minute: 30))
        prune.catchUp = .latest
        return [
            CronScheduler.entry(closeExpired) { slot in CloseExpiredChallenges(slot: slot) },
            CronScheduler.entry(prune) { slot in PruneIdempotencyKeys(slot: slot) },
        ]
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

    /// `* * * * *`.
    static let everyMinute: CronExpression = {
        do {
            return try CronExpression("* * * * *")
        } catch {
            preconditionFailure("\(error)")
        }
    }()
}
