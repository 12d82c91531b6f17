/// The lifecycle state of a job row.
///
/// Raw values are stored verbatim in PostgreSQL, so they must never change.
/// See ``JobTransition`` for the state machine that moves a job between states.
public enum JobState: String, Sendable, CaseIterable, Codable {
    /// Ready to be claimed by a worker (`run_at <= now`).
    case available
    /// Waiting for its `run_at` (inserted for the future, or snoozed).
    case scheduled
    /// Claimed by a worker that holds a lease on it.
    case running
    /// Failed or rescued, waiting for its backoff `run_at` before another attempt.
    case retryable
    /// Finished successfully.
    case completed
    /// Failed on its last allowed attempt; will not run again.
    case discarded
    /// Cancelled by the job itself or an operator; will not run again.
    case cancelled

    /// Whether the job has reached a terminal state (completed, discarded or cancelled).
    public var isFinal: Bool {
        switch self {
        case .completed, .discarded, .cancelled:
            true
        case .available, .scheduled, .running, .retryable:
            false
        }
    }
}
