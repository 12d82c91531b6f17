import Foundation
import JobQueue
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("the default policy is River's: attempt to the fourth seconds, 24 hour cap")
    func defaultIsRiver() {
        let policy = RetryPolicy.default
        #expect(policy.maxDelay == .seconds(86_400))
        #expect(policy.jitter == 0.1)
        #expect(policy.baseDelay(afterAttempt: 1) == .seconds(1))
        #expect(policy.baseDelay(afterAttempt: 2) == .seconds(16))
        #expect(policy.baseDelay(afterAttempt: 3) == .seconds(81))
        #expect(policy.baseDelay(afterAttempt: 10) == .seconds(10_000))
    }

    @Test("jittered delays stay within ten percent of the base over many seeds", arguments: [1, 2, 3, 5, 8, 12])
    func jitterBounds(attempt: Int) {
        let policy = RetryPolicy.default
        let base = policy.baseDelay(afterAttempt: attempt)
        let lower = base * 0.9 - .milliseconds(1)
        let upper = base * 1.1 + .milliseconds(1)
        var sawBelow = false
        var sawAbove = false
        for seed in UInt64(0)..<500 {
            var random = SplitMix64(seed: seed)
            let delay = policy.delay(afterAttempt: attempt, random: &random)
            #expect(delay >= lower && delay <= upper)
            sawBelow = sawBelow || delay < base
            sawAbove = sawAbove || delay > base
        }
        #expect(sawBelow && sawAbove)
    }

    @Test("the same seed always yields the same delays")
    func deterministic() {
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let policy = RetryPolicy.default
        let a = (1...20).map { policy.delay(afterAttempt: $0, random: &first) }
        let b = (1...20).map { policy.delay(afterAttempt: $0, random: &second) }
        #expect(a == b)
    }

    @Test("the midpoint grows strictly until it reaches the cap and then stays there")
    func monotoneMidpoint() {
        let policy = RetryPolicy.default
        let delays = (1...40).map { policy.baseDelay(afterAttempt: $0) }
        for (previous, next) in zip(delays, delays.dropFirst()) {
            #expect(previous < next || next == policy.maxDelay)
            #expect(previous <= next)
        }
        #expect(delays.last == policy.maxDelay)
    }

    @Test("no delay exceeds the cap, jitter included", arguments: [18, 25, 100])
    func cap(attempt: Int) {
        let policy = RetryPolicy.default
        for seed in UInt64(0)..<200 {
            var random = SplitMix64(seed: seed)
            let delay = policy.delay(afterAttempt: attempt, random: &random)
            #expect(delay <= policy.maxDelay)
            #expect(delay >= policy.maxDelay * 0.9 - .milliseconds(1))
        }
    }

    @Test("huge attempt numbers do not overflow", arguments: [1_000, 100_000, Int.max])
    func noOverflow(attempt: Int) {
        var random = SplitMix64(seed: 7)
        for policy in [RetryPolicy.default, .exponential(base: .seconds(1)), .fixed(.seconds(5))] {
            let delay = policy.delay(afterAttempt: attempt, random: &random)
            #expect(delay <= policy.maxDelay)
            #expect(delay > .zero)
        }
    }

    @Test("exponential backoff multiplies the base by the factor each attempt")
    func exponential() {
        let policy = RetryPolicy.exponential(base: .seconds(2), factor: 3, maxDelay: .seconds(100))
        #expect(policy.baseDelay(afterAttempt: 1) == .seconds(2))
        #expect(policy.baseDelay(afterAttempt: 2) == .seconds(6))
        #expect(policy.baseDelay(afterAttempt: 3) == .seconds(18))
        #expect(policy.baseDelay(afterAttempt: 5) == .seconds(100))
    }

    @Test("a fixed policy waits the same time after every attempt")
    func fixed() {
        let policy = RetryPolicy.fixed(.seconds(30))
        var random = SplitMix64(seed: 1)
        #expect((1...5).map { policy.delay(afterAttempt: $0, random: &random) } == Array(repeating: .seconds(30), count: 5))
    }

    @Test("a jitter source maps 0, 0.5 and 1 to the low end, the base and the high end", arguments: [
        (0.0, 14.4), (0.5, 16.0), (1.0, 17.6), (-3.0, 14.4), (9.0, 17.6),
    ])
    func jitterSource(unit: Double, expectedSeconds: Double) {
        let delay = RetryPolicy.default.delay(afterAttempt: 2) { unit }
        #expect(delay == .milliseconds(Int64((expectedSeconds * 1_000).rounded())))
    }

    @Test("attempt numbers below one count as the first attempt")
    func attemptBelowOne() {
        #expect(RetryPolicy.default.baseDelay(afterAttempt: 0) == .seconds(1))
        #expect(RetryPolicy.default.baseDelay(afterAttempt: -5) == .seconds(1))
    }
}
