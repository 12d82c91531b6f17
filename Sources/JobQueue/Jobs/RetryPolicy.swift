import Foundation

/// How long a failed job waits before its next attempt.
///
/// It says nothing about how many attempts a job gets: that limit is stated once, per job, as
/// `JobOptions.maxAttempts` at enqueue (the kind's `defaultOptions` unless the caller passes options),
/// stored in `jobs.max_attempts`, and the worker and the rescuer obey the stored value. A registration
/// therefore cannot disagree with a stored job about its limit.
///
/// The delay after attempt `n` is the backoff's base delay for `n`, capped at ``maxDelay``,
/// then spread by ± ``jitter`` (a fraction of the base), and capped at ``maxDelay`` again,
/// so a delay never exceeds ``maxDelay``. Jitter comes from an injected random source,
/// so the result is deterministic for a seeded generator.
///
/// The default mirrors River's backoff: `attempt⁴` seconds ± 10 %, at most 24 hours.
public struct RetryPolicy: Sendable, Hashable {
    /// The shape of the base delay as a function of the attempt number (1-based).
    public enum Backoff: Sendable, Hashable {
        /// `attempt ^ exponent` seconds (River uses exponent 4).
        case polynomial(exponent: Double)
        /// `base * factor ^ (attempt - 1)`.
        case exponential(base: Duration, factor: Double)
        /// The same delay after every attempt.
        case fixed(Duration)
    }

    /// The base-delay curve.
    public var backoff: Backoff
    /// The upper bound on any delay, jitter included.
    public var maxDelay: Duration
    /// The relative jitter: `0.1` spreads a delay uniformly over ±10 % of its base. Clamped to 0...1.
    public var jitter: Double

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - backoff: The base-delay curve.
    ///   - maxDelay: Upper bound on any delay.
    ///   - jitter: Relative jitter, clamped to 0...1.
    public init(backoff: Backoff, maxDelay: Duration, jitter: Double) {
        self.backoff = backoff
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// River's default: `attempt⁴` seconds ± 10 % jitter, capped at 24 hours.
    public static let `default` = RetryPolicy(
        backoff: .polynomial(exponent: 4),
        maxDelay: .seconds(86_400),
        jitter: 0.1
    )

    /// Exponential backoff: `base * factor ^ (attempt - 1)`.
    ///
    /// - Parameters:
    ///   - base: The delay after the first attempt.
    ///   - factor: The growth factor per attempt.
    ///   - maxDelay: Upper bound on any delay.
    ///   - jitter: Relative jitter, clamped to 0...1.
    /// - Returns: The policy.
    public static func exponential(
        base: Duration,
        factor: Double = 2,
        maxDelay: Duration = .seconds(86_400),
        jitter: Double = 0.1
    ) -> RetryPolicy {
        RetryPolicy(backoff: .exponential(base: base, factor: factor), maxDelay: maxDelay, jitter: jitter)
    }

    /// The same delay after every failed attempt.
    ///
    /// - Parameters:
    ///   - delay: The delay between attempts; also the cap.
    ///   - jitter: Relative jitter (delays never exceed `delay`).
    /// - Returns: The policy.
    public static func fixed(_ delay: Duration, jitter: Double = 0) -> RetryPolicy {
        RetryPolicy(backoff: .fixed(delay), maxDelay: delay, jitter: jitter)
    }

    /// The delay after a failed attempt without jitter (the midpoint of the jittered range), capped at ``maxDelay``.
    ///
    /// - Parameter attempt: The 1-based number of the attempt that just failed; values below 1 count as 1.
    /// - Returns: The un-jittered delay.
    public func baseDelay(afterAttempt attempt: Int) -> Duration {
        Self.duration(seconds: cappedBaseSeconds(afterAttempt: attempt))
    }

    /// The jittered delay after a failed attempt, drawing jitter from `random`.
    ///
    /// - Parameters:
    ///   - attempt: The 1-based number of the attempt that just failed; values below 1 count as 1.
    ///   - random: The jitter source; a seeded generator gives reproducible delays.
    /// - Returns: A delay in `[base × (1 − jitter), base × (1 + jitter)]`, never above ``maxDelay``.
    public func delay(afterAttempt attempt: Int, random: inout some RandomNumberGenerator) -> Duration {
        delay(afterAttempt: attempt, unit: Double.random(in: 0...1, using: &random))
    }

    /// The jittered delay after a failed attempt, drawing jitter from a closure.
    ///
    /// - Parameters:
    ///   - attempt: The 1-based number of the attempt that just failed; values below 1 count as 1.
    ///   - jitterSource: Returns a value in `0...1` (clamped); `0.5` yields the un-jittered delay.
    /// - Returns: A delay in `[base × (1 − jitter), base × (1 + jitter)]`, never above ``maxDelay``.
    public func delay(afterAttempt attempt: Int, jitterSource: () -> Double) -> Duration {
        delay(afterAttempt: attempt, unit: jitterSource())
    }

    private func delay(afterAttempt attempt: Int, unit: Double) -> Duration {
        let base = cappedBaseSeconds(afterAttempt: attempt)
        let spread = min(max(jitter, 0), 1)
        let position = unit.isFinite ? min(max(unit, 0), 1) : 0.5
        let jittered = base * (1 + spread * (2 * position - 1))
        return Self.duration(seconds: min(max(jittered, 0), capSeconds))
    }

    private var capSeconds: Double {
        max(maxDelay.timeInterval, 0)
    }

    private func cappedBaseSeconds(afterAttempt attempt: Int) -> Double {
        let attempt = max(attempt, 1)
        let raw: Double = switch backoff {
        case .polynomial(let exponent):
            pow(Double(attempt), exponent)
        case .exponential(let base, let factor):
            base.timeInterval * pow(factor, Double(attempt - 1))
        case .fixed(let delay):
            delay.timeInterval
        }
        guard raw.isFinite else { return capSeconds }
        return min(max(raw, 0), capSeconds)
    }

    private static func duration(seconds: Double) -> Duration {
        let milliseconds = min((seconds * 1_000).rounded(), 9e15)
        return .milliseconds(Int64(milliseconds))
    }
}
