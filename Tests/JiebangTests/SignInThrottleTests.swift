import Foundation
import Jiebang
import Testing

@Suite("Sign-in throttle rules")
struct SignInThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let throttle = SignInThrottle.perLogin

    /// Runs `count` attempts, each as soon as it is allowed (at `start`, or when the last one's wait
    /// ends), and returns the last state.
    func attempts(_ count: Int) -> SignInThrottle.State {
        var state = SignInThrottle.State(attempts: 0, lastAttemptAt: start, blockedUntil: nil)
        for index in 0..<count {
            guard case .allowed(let next) = throttle.attempt(state, at: state.blockedUntil ?? state.lastAttemptAt) else {
                Issue.record("attempt \(index + 1) was refused")
                return state
            }
            state = next
        }
        return state
    }

    @Test("Five attempts in a row pass; the fifth makes the next wait a second, and each later one doubles the wait up to 15 minutes")
    func growingDelays() {
        #expect(attempts(4).blockedUntil == nil)
        #expect(attempts(5).blockedUntil == start + 1)
        #expect(throttle.block(after: 6) == 2)
        #expect(throttle.block(after: 7) == 4)
        #expect(throttle.block(after: 14) == 512)
        #expect(throttle.block(after: 15) == 900)
        #expect(throttle.block(after: 1_000) == 900)
        #expect(SignInThrottle.perAddress.block(after: 49) == nil)
        #expect(SignInThrottle.perAddress.block(after: 50) == 1)
    }

    @Test("An attempt while blocked is refused with the time left, rounded up, and is not counted")
    func refusedWhileBlocked() {
        // The sixth attempt came at start + 1, when the fifth's wait ended, and set a wait of two seconds.
        let state = attempts(6)
        #expect(state.blockedUntil == start + 3)
        #expect(throttle.attempt(state, at: start + 1.5) == .refused(retryAfter: .milliseconds(1_500)))
        guard case .allowed(let next) = throttle.attempt(state, at: start + 3) else {
            Issue.record("the attempt after the wait was refused")
            return
        }
        #expect(next.attempts == 7)
        #expect(next.blockedUntil == start + 3 + 4)
    }

    @Test("After an hour without attempts the count starts again")
    func windowForgets() {
        let state = attempts(8)
        guard case .allowed(let next) = throttle.attempt(state, at: state.lastAttemptAt + 3_601) else {
            Issue.record("refused after the window")
            return
        }
        #expect(next.attempts == 1)
        #expect(next.blockedUntil == nil)
    }

    @Test("A success takes its attempt back and shortens the wait to what the remaining count imposes")
    func successRefunds() {
        let address = SignInThrottle.perAddress
        let blocked = SignInThrottle.State(attempts: 50, lastAttemptAt: start, blockedUntil: start + 1)
        let after = address.succeeded(blocked)
        #expect(after.attempts == 49)
        #expect(after.blockedUntil == nil)
        let deeper = address.succeeded(SignInThrottle.State(attempts: 53, lastAttemptAt: start, blockedUntil: start + 8))
        #expect(deeper.attempts == 52)
        #expect(deeper.blockedUntil == start + 4)
        #expect(address.succeeded(SignInThrottle.State(attempts: 0, lastAttemptAt: start, blockedUntil: nil)).attempts == 0)
    }
}
