public import Foundation

/// How many sign-in attempts a login, or a client address, may make before each further attempt must
/// wait, and how long: pure rules, applied by ``SignInThrottleStore`` to rows it holds locked.
///
/// Every attempt counts when it is allowed, and a successful one takes its attempt back, so the count
/// is of failures (and of attempts still being checked). Past `freeAttempts`, each attempt blocks the
/// next for `baseDelay` doubled per further attempt, at most `maximumDelay`; an attempt while blocked is
/// refused with the time left, and is not counted. After `window` without attempts the count starts again.
public struct SignInThrottle: Sendable, Hashable {
    /// Attempts allowed one after another without waiting.
    public var freeAttempts: Int
    /// The first wait, doubled for each attempt after it. Default 1 s.
    public var baseDelay: Duration = .seconds(1)
    /// The longest wait. Default 15 minutes.
    public var maximumDelay: Duration = .seconds(900)
    /// How long without attempts forgets the count. Default 1 hour.
    public var window: Duration = .seconds(3_600)

    /// A throttle allowing `freeAttempts` in a row.
    public init(freeAttempts: Int) {
        self.freeAttempts = freeAttempts
    }

    /// Per login (whether or not the account exists): 5 in a row.
    public static let perLogin = SignInThrottle(freeAttempts: 5)
    /// Per client address: 50 in a row (an office behind one address signs in together).
    public static let perAddress = SignInThrottle(freeAttempts: 50)

    /// Units registered by people not signed in, per client address: 10 in a row, then waits from a
    /// minute doubling to a day, forgotten after a day without registrations. It keeps a stranger from
    /// filling a bureau's queue of pending units (and the accounts of their admins).
    public static let registrationsPerAddress: SignInThrottle = {
        var throttle = SignInThrottle(freeAttempts: 10)
        throttle.baseDelay = .seconds(60)
        throttle.maximumDelay = .seconds(86_400)
        throttle.window = .seconds(86_400)
        return throttle
    }()

    /// The throttles one sign-in passes: its login's and its client address's.
    public struct Rules: Sendable, Hashable {
        /// Per login, whether or not the account exists.
        public var login: SignInThrottle
        /// Per client address.
        public var address: SignInThrottle

        /// Creates rules.
        public init(login: SignInThrottle, address: SignInThrottle) {
            self.login = login
            self.address = address
        }

        /// Five in a row per login, fifty per address, waits from 1 s doubling to 15 minutes.
        public static let standard = Rules(login: .perLogin, address: .perAddress)
    }

    /// What a login or address has done so far.
    public struct State: Sendable, Hashable {
        /// Attempts counted in the current window.
        public var attempts: Int
        /// The last counted attempt.
        public var lastAttemptAt: Date
        /// No attempt before this instant.
        public var blockedUntil: Date?

        /// Creates a state.
        public init(attempts: Int, lastAttemptAt: Date, blockedUntil: Date?) {
            self.attempts = attempts
            self.lastAttemptAt = lastAttemptAt
            self.blockedUntil = blockedUntil
        }
    }

    /// The verdict on one attempt.
    public enum Verdict: Sendable, Hashable {
        /// Go ahead; store the new state.
        case allowed(State)
        /// Refused: try again after this long.
        case refused(retryAfter: Duration)
    }

    /// The verdict on an attempt at `now` given `state`.
    public func attempt(_ state: State, at now: Date) -> Verdict {
        if let blockedUntil = state.blockedUntil, now < blockedUntil {
            return .refused(retryAfter: .milliseconds(Int64((blockedUntil.timeIntervalSince(now) * 1000).rounded(.up))))
        }
        let stale = now.timeIntervalSince(state.lastAttemptAt) > Double(window.components.seconds)
        let attempts = (stale ? 0 : state.attempts) + 1
        return .allowed(State(attempts: attempts, lastAttemptAt: now, blockedUntil: block(after: attempts).map { now + $0 }))
    }

    /// The wait that `attempts` counted attempts impose on the next one, or nil when it need not wait.
    public func block(after attempts: Int) -> TimeInterval? {
        guard attempts >= freeAttempts else { return nil }
        let doublings = min(attempts - freeAttempts, 30)
        let delay = baseDelay.seconds * Double(1 << doublings)
        return min(delay, maximumDelay.seconds)
    }

    /// The state after the attempt counted in `state` succeeded: its attempt taken back, and the wait
    /// it set shortened to what the remaining count imposes. A login's
    /// count starts again (``SignInThrottleStore`` deletes its row instead).
    public func succeeded(_ state: State) -> State {
        var state = state
        state.attempts = max(0, state.attempts - 1)
        state.blockedUntil = block(after: state.attempts).map { state.lastAttemptAt + $0 }
        return state
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
