import JobQueue

/// The product's job handlers and periodic jobs, registered in one place for `serve` and `work`.
///
/// Review assignment, deadline reminders and acceptance register their
/// handlers and cron schedules here as they are built; until then the
/// workers run the queue's housekeeping (promotion, rescue, pruning) only.
enum ProductJobs {
    /// Every handler, by kind.
    static func registry() -> JobRegistry {
        JobRegistry()
    }

    /// Every periodic job.
    static func schedules() -> [CronScheduler.Entry] {
        []
    }
}
