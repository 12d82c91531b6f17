public import Foundation
public import JobQueue

/// The acceptance jobs; their handlers are registered in `Workers/ProductJobs.swift`.
public enum AcceptanceJobs {
    /// Draws the acceptance experts of acceptance `acceptance` (`AcceptanceDrawing`). 5 attempts; an
    /// instance without enough eligible experts is recorded as a failed draw, not retried.
    public struct Assign: JobArguments {
        public static let kind = "acceptance.assign"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        public var acceptance: Int

        /// Creates the arguments.
        public init(acceptance: Int) {
            self.acceptance = acceptance
        }
    }

    /// Fails the projects whose three months to rectify passed (every ten minutes). 5 attempts.
    public struct ExpireRectifications: JobArguments {
        public static let kind = "acceptance.expire_rectifications"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        /// The cron slot that enqueued it: the moment the expiry is evaluated at.
        public var slot: Date

        /// Creates the arguments.
        public init(slot: Date) {
            self.slot = slot
        }
    }

    /// The client the domain enqueues with.
    static let client = JobClient()
}
