public import Logging
import Synchronization

/// A failure that repeats while something is away (a worker's claim, a periodic write, while the database
/// restarts): logged once when the streak starts and once, with how many attempts failed and for how long,
/// when it ends, instead of at every attempt.
public final class FailureStreak: Sendable {
    private struct State {
        var failures = 0
        var since: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    /// What fails, for the log lines ("claiming jobs", "writing tokens' last-use stamps").
    public let what: String

    /// A streak of `what`, not running.
    public init(_ what: String) {
        self.what = what
    }

    /// Records a failed attempt and logs it (warning) only when it starts a streak.
    /// - Returns: whether it was logged.
    @discardableResult
    public func failed(_ error: any Error, logger: Logger, metadata: Logger.Metadata = [:]) -> Bool {
        let first = state.withLock { state -> Bool in
            state.failures += 1
            guard state.since == nil else { return false }
            state.since = .now
            return true
        }
        if first {
            logger.warning(
                "\(what) failed; trying again quietly until it works", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        return first
    }

    /// Records a successful attempt, and logs the end of a streak (notice) when one was running.
    /// - Returns: how many attempts the streak had failed, or nil when none was running.
    @discardableResult
    public func succeeded(logger: Logger) -> Int? {
        let ended = state.withLock { state -> (Int, Duration)? in
            guard let since = state.since else { return nil }
            defer { state = State() }
            return (state.failures, .now - since)
        }
        guard let (failures, duration) = ended else { return nil }
        logger.notice("\(what) works again", metadata: ["failures": "\(failures)", "duration": "\(duration)"])
        return failures
    }
}
