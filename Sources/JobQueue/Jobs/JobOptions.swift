public import Foundation

/// How a job is queued: where, how urgently, how often it may be tried, and whether it is unique.
public struct JobOptions: Sendable, Hashable {
    /// The queue it runs on. Default `default`.
    public var queue: String = "default"
    /// 0 runs first, 9 last. Default 5.
    public var priority: Int = 5
    /// How many attempts before the job is discarded, stored in `jobs.max_attempts`: the one limit the
    /// worker and the rescuer obey (a `RetryPolicy` holds only the backoff). Default 25, which is also
    /// the column's default for a job inserted by hand without one.
    public var maxAttempts: Int = 25
    /// When to run it; nil or a past time means now. Default nil.
    public var runAt: Date?
    /// How long one attempt may run before it is cancelled and counted as failed. Default nil (no limit).
    public var timeout: Duration?
    /// A key that makes the job unique among jobs of its kind in `uniqueStates`. Default nil.
    public var uniqueKey: String?
    /// The states in which a job with the same kind and key blocks a new one.
    /// Default: available, scheduled, running, retryable (a finished job does not block).
    public var uniqueStates: Set<JobState> = [.available, .scheduled, .running, .retryable]

    /// Creates options.
    public init(
        queue: String = "default", priority: Int = 5, maxAttempts: Int = 25, runAt: Date? = nil,
        timeout: Duration? = nil, uniqueKey: String? = nil,
        uniqueStates: Set<JobState> = [.available, .scheduled, .running, .retryable]
    ) {
        self.queue = queue
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.timeout = timeout
        self.uniqueKey = uniqueKey
        self.uniqueStates = uniqueStates
    }

    /// Checks every field, naming the first one that is out of range.
    /// - Throws: `JobQueueError` with code `.invalidOptions`.
    public func validate() throws(JobQueueError) {
        guard (1...128).contains(queue.count) else {
            throw JobQueueError(.invalidOptions, "queue: must be 1 to 128 characters")
        }
        guard (0...9).contains(priority) else {
            throw JobQueueError(.invalidOptions, "priority: \(priority) is not between 0 and 9")
        }
        guard (1...Int(Int16.max)).contains(maxAttempts) else {
            throw JobQueueError(.invalidOptions, "maxAttempts: \(maxAttempts) is not between 1 and \(Int16.max)")
        }
        if let timeout, timeout <= .zero || timeout > .seconds(86_400 * 7) {
            throw JobQueueError(.invalidOptions, "timeout: \(timeout) is not between 1 ms and 7 days")
        }
        if uniqueKey != nil && uniqueStates.isEmpty {
            throw JobQueueError(.invalidOptions, "uniqueStates: a unique key needs at least one state")
        }
    }

    /// The timeout in milliseconds, or 0 for none.
    var timeoutMilliseconds: Int {
        guard let timeout else { return 0 }
        return max(1, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
    }
}
