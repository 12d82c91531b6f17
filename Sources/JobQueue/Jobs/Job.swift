public import Foundation

/// A job a worker claimed: its row as the handler sees it.
public struct Job: Sendable, Hashable {
    /// The job's id.
    public var id: Int
    /// The kind, which selects the handler.
    public var kind: String
    /// The queue it ran on.
    public var queue: String
    /// The arguments as JSON text.
    public var arguments: String
    /// This attempt's number, from 1.
    public var attempt: Int
    /// The attempts allowed in all.
    public var maxAttempts: Int
    /// 0 (first) to 9 (last).
    public var priority: Int
    /// The per-job timeout, if any.
    public var timeout: Duration?
    /// When it was enqueued.
    public var createdAt: Date
    /// When it became due.
    public var runAt: Date
    /// When this attempt started.
    public var attemptedAt: Date
}

/// Thrown by a handler to run the job again after `delay` without spending an attempt.
public struct JobSnooze: Error, Sendable {
    /// How long to wait.
    public var delay: Duration
    /// Creates a snooze.
    public init(_ delay: Duration) { self.delay = delay }
}

/// Thrown by a handler to cancel the job for good (it will not be retried).
public struct JobCancel: Error, Sendable {
    /// Why, recorded in the job's errors.
    public var reason: String
    /// Creates a cancellation.
    public init(_ reason: String) { self.reason = reason }
}
