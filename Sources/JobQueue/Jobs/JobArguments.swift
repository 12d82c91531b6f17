/// The typed arguments of one kind of job; stored as `jsonb` in `jobs.args`.
///
/// ```swift
/// struct RemindReviewer: JobArguments {
///     static let kind = "review.remind_reviewer"   // never rename a deployed kind
///     let assignmentID: Int
/// }
/// ```
public protocol JobArguments: Codable, Sendable {
    /// The stable name the job is stored under. Renaming a deployed kind orphans its queued jobs.
    static var kind: String { get }
    /// The options used when `enqueue` is given none: queue, priority, attempts, timeout.
    static var defaultOptions: JobOptions { get }
}

extension JobArguments {
    public static var defaultOptions: JobOptions { JobOptions() }
}
