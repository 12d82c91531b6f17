import Foundation
import JobQueue
import Testing

@Suite("JobTransition")
struct JobTransitionTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test("success completes the job and stamps finished_at")
    func success() {
        var random = SplitMix64(seed: 1)
        let transition = JobTransition.after(.succeeded, attempt: 1, maxAttempts: 25, now: now, policy: .default, random: &random)
        #expect(transition == JobTransition(state: .completed, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: nil))
    }

    @Test("a failure before the last attempt is retryable after the jittered backoff")
    func failureRetries() {
        var random = SplitMix64(seed: 9)
        var sameSeed = SplitMix64(seed: 9)
        let transition = JobTransition.after(.failed(message: "boom"), attempt: 3, maxAttempts: 25, now: now, policy: .default, random: &random)
        let delay = RetryPolicy.default.delay(afterAttempt: 3, random: &sameSeed)
        #expect(transition.state == .retryable)
        #expect(transition.runAt == now.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) * 1e-18))
        #expect(transition.finishedAt == nil)
        #expect(transition.attemptAdjustment == 0)
        #expect(transition.errorMessage == "boom")
    }

    @Test("without a random source a retry waits exactly the policy's base delay")
    func failureWithoutJitter() {
        let transition = JobTransition.after(.failed(message: "boom"), attempt: 2, maxAttempts: 5, now: now, policy: .default)
        #expect(transition.state == .retryable)
        #expect(transition.runAt == now.addingTimeInterval(16))
    }

    @Test("a failure on the last attempt or beyond discards the job", arguments: [(5, 5), (6, 5), (1, 1)])
    func failureDiscards(attempt: Int, maxAttempts: Int) {
        var random = SplitMix64(seed: 1)
        let transition = JobTransition.after(.failed(message: "boom"), attempt: attempt, maxAttempts: maxAttempts, now: now, policy: .default, random: &random)
        #expect(transition == JobTransition(state: .discarded, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: "boom"))
    }

    @Test("a job of one attempt is discarded at its first failure")
    func nonePolicyDiscards() {
        let transition = JobTransition.after(.failed(message: "x"), attempt: 1, maxAttempts: 1, now: now, policy: .fixed(.zero))
        #expect(transition.state == .discarded)
    }

    @Test("a snooze reschedules without spending an attempt, even on the last attempt", arguments: [1, 25])
    func snooze(attempt: Int) {
        var random = SplitMix64(seed: 1)
        let transition = JobTransition.after(.snoozed(for: .seconds(90)), attempt: attempt, maxAttempts: 25, now: now, policy: .default, random: &random)
        #expect(transition == JobTransition(state: .scheduled, runAt: now.addingTimeInterval(90), finishedAt: nil, attemptAdjustment: -1, errorMessage: nil))
    }

    @Test("a negative snooze is treated as zero")
    func negativeSnooze() {
        let transition = JobTransition.after(.snoozed(for: .seconds(-5)), attempt: 1, maxAttempts: 3, now: now, policy: .default)
        #expect(transition.runAt == now)
        #expect(transition.state == .scheduled)
    }

    @Test("a cancellation is final and records its reason")
    func cancellation() {
        let transition = JobTransition.after(.cancelled(reason: "user deleted account"), attempt: 2, maxAttempts: 25, now: now, policy: .default)
        #expect(transition == JobTransition(state: .cancelled, runAt: nil, finishedAt: now, attemptAdjustment: 0, errorMessage: "user deleted account"))
    }

    @Test("final outcomes stamp finished_at and non-final ones clear it", arguments: [
        JobOutcome.succeeded, .failed(message: "x"), .snoozed(for: .seconds(1)), .cancelled(reason: "x"),
    ])
    func finishedAtMatchesFinality(outcome: JobOutcome) {
        let transition = JobTransition.after(outcome, attempt: 1, maxAttempts: 3, now: now, policy: .default)
        #expect((transition.finishedAt != nil) == transition.state.isFinal)
        #expect((transition.runAt != nil) == !transition.state.isFinal)
    }

    @Test("a job whose lease expired before its last attempt becomes retryable again")
    func rescueRetries() throws {
        var random = SplitMix64(seed: 3)
        let transition = JobTransition.rescue(attempt: 2, maxAttempts: 25, now: now, policy: .default, random: &random)
        #expect(transition.state == .retryable)
        let runAt = try #require(transition.runAt)
        #expect(runAt >= now.addingTimeInterval(16 * 0.9) && runAt <= now.addingTimeInterval(16 * 1.1))
        #expect(transition.attemptAdjustment == 0)
        #expect(transition.finishedAt == nil)
        #expect(transition.errorMessage?.contains("lease expired") == true)
    }

    @Test("a job whose lease expired on its last attempt is discarded", arguments: [25, 26])
    func rescueDiscards(attempt: Int) {
        let transition = JobTransition.rescue(attempt: attempt, maxAttempts: 25, now: now, policy: .default)
        #expect(transition.state == .discarded)
        #expect(transition.finishedAt == now)
        #expect(transition.runAt == nil)
    }

    @Test("a rescue without a random source waits exactly the base delay")
    func rescueWithoutJitter() {
        let transition = JobTransition.rescue(attempt: 3, maxAttempts: 25, now: now, policy: .default)
        #expect(transition.runAt == now.addingTimeInterval(81))
    }
}
