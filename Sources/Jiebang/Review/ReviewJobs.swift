public import JobQueue

/// The review jobs the domain enqueues (in the transaction of the request that causes them); their
/// handlers are registered in `Workers/ProductJobs.swift`.
public enum ReviewJobs {
    /// Runs draw `number` of round `round`: builds the instance, solves, samples with the recorded seed
    /// and applies the result atomically (or only records it, for a dry run). 5 attempts; an
    /// infeasible instance is recorded as a failed draw, not retried.
    public struct RunDraw: JobArguments {
        public static let kind = "review.draw"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        public var round: Int
        public var number: Int

        /// Creates the arguments.
        public init(round: Int, number: Int) {
            self.round = round
            self.number = number
        }
    }

    /// Fills the seat an expert left by recusing: the bid's first alternate, else a replacement drawn
    /// from the pool under the same rules. 5 attempts.
    public struct ReplaceRecused: JobArguments {
        public static let kind = "review.replace_recused"  // never rename
        public static var defaultOptions: JobOptions { JobOptions(maxAttempts: 5) }
        public var assignment: Int

        /// Creates the arguments.
        public init(assignment: Int) {
            self.assignment = assignment
        }
    }

    /// The client the domain enqueues with.
    static let client = JobClient()
}
