public import Foundation

/// The pure state machine of a job: what a worker's outcome (or an expired lease) does to the job row.
///
/// States and the transitions between them:
///
/// ```text
///  insert ──► available   (run_at <= now)
///  insert ──► scheduled   (run_at >  now)
///  scheduled, retryable ──► available    when run_at <= now (promoted by the scheduler)
///  available ──► running                 claimed by a worker; attempt += 1, lease taken
///  running ──► completed                 .succeeded                       finished_at = now
///  running ──► retryable                 .failed, attempt < maxAttempts   run_at = now + backoff
///  running ──► discarded                 .failed, attempt >= maxAttempts  finished_at = now
///  running ──► scheduled                 .snoozed(for: d)                 run_at = now + d, attempt -= 1
///  running ──► cancelled                 .cancelled                       finished_at = now
///  running ──► retryable / discarded     lease expired (rescue), same attempt rule as .failed
/// ```
///
/// completed, discarded and cancelled are final (``JobState/isFinal``).
///
/// `attempt` is always the number of the attempt that just ran, i.e. the value the claim bumped it to (1 on the
/// first run). Backoff delays come from ``RetryPolicy``; the job row's own `max_attempts` is passed separately
/// because it is fixed at insert time.
public struct JobTransition: Sendable, Hashable {
    /// The state to write.
    public let state: JobState
    /// The new `run_at`, or `nil` to leave the column unchanged (final states).
    public let runAt: Date?
    /// The new `finished_at`: `now` for final states, `nil` (cleared) otherwise.
    public let finishedAt: Date?
    /// What to add to the job's `attempt` column: `-1` on snooze (undoing the claim's bump), `0` otherwise.
    public let attemptAdjustment: Int
    /// The failure message, cancellation reason or rescue note to record in the job's errors, if any.
    public let errorMessage: String?

    /// Creates a transition; prefer the factory functions, which encode the rules.
    ///
    /// - Parameters:
    ///   - state: The state to write.
    ///   - runAt: The new `run_at`, or `nil` to keep it.
    ///   - finishedAt: The new `finished_at`.
    ///   - attemptAdjustment: The change to the `attempt` column.
    ///   - errorMessage: A message to record, if any.
    public init(state: JobState, runAt: Date?, finishedAt: Date?, attemptAdjustment: Int, errorMessage: String?) {
        self.state = state
        self.runAt = runAt
        self.finishedAt = finishedAt
        self.attemptAdjustment = attemptAdjustment
        self.errorMessage = errorMessage
    }

    /// The transition for a running job whose attempt ended with `outcome`.
    ///
    /// - Parameters:
    ///   - outcome: What the worker reported.
    ///   - attempt: The 1-based attempt that just ran (already bumped by the claim).
    ///   - maxAttempts: The job's `max_attempts`; a failure at `attempt >= maxAttempts` discards the job.
    ///   - now: The current time (injected clock).
    ///   - policy: The retry policy giving the backoff after a failure.
    ///   - random: The jitter source for the backoff.
    /// - Returns: The new state, `run_at`, `finished_at` and attempt adjustment.
    public static func after(
        _ outcome: JobOutcome,
        attempt: Int,
        maxAttempts: Int,
        now: Date,
        policy: RetryPolicy,
        random: inout some RandomNumberGenerator
    ) -> JobTransition {
        resolve(outcome, attempt: attempt, maxAttempts: maxAttempts, now: now) {
            policy.delay(afterAttempt: attempt, random: &random)
        }
    }

    /// The transition for a running job whose attempt ended with `outcome`, using the un-jittered backoff.
    ///
    /// Identical to ``after(_:attempt:maxAttempts:now:policy:random:)`` except that a retry waits exactly
    /// ``RetryPolicy/baseDelay(afterAttempt:)``.
    ///
    /// - Parameters:
    ///   - outcome: What the worker reported.
    ///   - attempt: The 1-based attempt that just ran.
    ///   - maxAttempts: The job's `max_attempts`.
    ///   - now: The current time.
    ///   - policy: The retry policy.
    /// - Returns: The transition.
    public static func after(
        _ outcome: JobOutcome,
        attempt: Int,
        maxAttempts: Int,
        now: Date,
        policy: RetryPolicy
    ) -> JobTransition {
        resolve(outcome, attempt: attempt, maxAttempts: maxAttempts, now: now) {
            policy.baseDelay(afterAttempt: attempt)
        }
    }

    /// The transition for a running job whose lease expired at `now` (its worker died or stalled).
    ///
    /// The lost attempt counts as a failure: the job becomes retryable after the policy's backoff, or is
    /// discarded when `attempt >= maxAttempts`.
    ///
    /// - Parameters:
    ///   - attempt: The job's current `attempt` (the one that was running).
    ///   - maxAttempts: The job's `max_attempts`.
    ///   - now: The current time.
    ///   - policy: The retry policy giving the backoff.
    ///   - random: The jitter source for the backoff.
    /// - Returns: The transition.
    public static func rescue(
        attempt: Int,
        maxAttempts: Int,
        now: Date,
        policy: RetryPolicy,
        random: inout some RandomNumberGenerator
    ) -> JobTransition {
        retryOrDiscard(attempt: attempt, maxAttempts: maxAttempts, now: now, message: rescueMessage(attempt: attempt)) {
            policy.delay(afterAttempt: attempt, random: &random)
        }
    }

    /// The rescue transition using the un-jittered backoff; see ``rescue(attempt:maxAttempts:now:policy:random:)``.
    ///
    /// - Parameters:
    ///   - attempt: The job's current `attempt`.
    ///   - maxAttempts: The job's `max_attempts`.
    ///   - now: The current time.
    ///   - policy: The retry policy.
    /// - Returns: The transition.
    public static func rescue(attempt: Int, maxAttempts: Int, now: Date, policy: RetryPolicy) -> JobTransition {
        retryOrDiscard(attempt: attempt, maxAttempts: maxAttempts, now: now, message: rescueMessage(attempt: attempt)) {
            policy.baseDelay(afterAttempt: attempt)
        }
    }

    private static func resolve(
        _ outcome: JobOutcome,
        attempt: Int,
        maxAttempts: Int,
        now: Date,
        retryDelay: () -> Duration
    ) -> JobTransition {
        switch outcome {
        case .succeeded:
            JobTransition(state: .completed, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: nil)
        case .failed(let message):
            retryOrDiscard(attempt: attempt, maxAttempts: maxAttempts, now: now, message: message, delay: retryDelay)
        case .snoozed(let duration):
            JobTransition(
                state: .scheduled,
                runAt: now.addingTimeInterval(max(duration, .zero).timeInterval),
                finishedAt: nil,
                attemptAdjustment: -1,
                errorMessage: nil
            )
        case .cancelled(let reason):
            JobTransition(state: .cancelled, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: reason)
        }
    }

    private static func rescueMessage(attempt: Int) -> String {
        "lease expired while attempt \(attempt) was running"
    }

    private static func retryOrDiscard(
        attempt: Int,
        maxAttempts: Int,
        now: Date,
        message: String,
        delay: () -> Duration
    ) -> JobTransition {
        if attempt >= maxAttempts {
            return JobTransition(state: .discarded, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: message)
        }
        return JobTransition(
            state: .retryable,
            runAt: now.addingTimeInterval(delay().timeInterval),
            finishedAt: nil,
            attemptAdjustment: 0,
            errorMessage: message
        )
    }
}
