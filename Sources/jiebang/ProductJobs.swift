import Foundation
import Jiebang
import JobQueue

/// The product's job handlers and periodic jobs, registered in one place for `serve` and `work`.
///
/// Review assignment, deadline reminders and acceptance register here as they
/// are built. Every handler is idempotent or transactional (see README).
enum ProductJobs {
    /// Closes the challenges whose application deadline passed (every minute).
    struct CloseExpiredChallenges: JobArguments {
        static let kind = "challenges.close_expired"  // never rename
        static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The cron slot that enqueued it.
        var slot: Date
    }

    /// Every handler, by kind.
    static func registry() -> JobRegistry {
        var registry = JobRegistry()
        registry.registerTransactional(CloseExpiredChallenges.self, retry: .fixed(.seconds(10), maxAttempts: 5)) { _, _, db in
            _ = try await ChallengeStore.closeExpired(on: db)
        }
        return registry
    }

    /// Every periodic job, evaluated in Asia/Shanghai.
    static func schedules() -> [CronScheduler.Entry] {
        var closeExpired = CronSchedule(name: "challenges.close_expired", expression: .everyMinute)
        closeExpired.catchUp = .latest
        return [CronScheduler.entry(closeExpired) { slot in CloseExpiredChallenges(slot: slot) }]
    }
}

extension CronExpression {
    /// `* * * * *`.
    static let everyMinute: CronExpression = {
        do {
            return try CronExpression("* * * * *")
        } catch {
            preconditionFailure("\(error)")
        }
    }()
}
