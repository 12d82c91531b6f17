/// What a worker reports after running one attempt of a job.
public enum JobOutcome: Sendable, Hashable {
    /// The job finished successfully.
    case succeeded
    /// The attempt failed; the job is retried with backoff unless it was the last attempt.
    case failed(message: String)
    /// The job asks to run again later without spending an attempt.
    case snoozed(for: Duration)
    /// The job (or an operator) cancelled it permanently.
    case cancelled(reason: String)
}
