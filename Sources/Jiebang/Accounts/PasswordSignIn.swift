public import Foundation
public import Postgres

/// Signing in with a login and password, without holding a database connection while the password is checked.
///
/// One short transaction counts the attempt (``SignInThrottle``) and reads the account's hash, and the
/// connection goes back to the pool; the password
/// is checked on the ``PasswordHashingPool`` (against a dummy hash of the same cost when the login is
/// unknown, disabled or has no password, so every attempt costs exactly one scrypt run and takes as
/// long); then the token is issued in its own short transaction.
public struct PasswordSignIn: Sendable {
    /// A session: its token (shown once), when it expires, and whose it is.
    public struct Session: Sendable {
        /// The bearer token.
        public var token: AccessToken
        /// When the token expires.
        public var expiresAt: Date
        /// The signed-in user.
        public var user: AccountAdministration.User
    }

    /// The connection pool.
    public let database: PostgresClient
    /// Where passwords are checked.
    public let passwords: PasswordHashingPool
    /// How long a session token lives. Default 12 hours.
    public var lifetime: Duration = .seconds(12 * 3600)
    /// How attempts are counted per login and per address (``SignInThrottle``); nil counts nothing (only
    /// for tests that measure signing in itself). Default `.standard`.
    public var throttles: SignInThrottle.Rules? = .standard

    /// Creates the sign-in.
    public init(database: PostgresClient, passwords: PasswordHashingPool) {
        self.database = database
        self.passwords = passwords
    }

    /// One password check's place in the throttle: its login's and address's keys (none when unthrottled).
    struct ThrottledAttempt: Sendable {
        var login: SignInThrottleStore.Key?
        var address: SignInThrottleStore.Key?

        /// Counts the attempt, or refuses it while the login or the address must wait.
        func count(on tx: PostgresConnection) async throws {
            guard let login else { return }
            if let wait = try await SignInThrottleStore.attempt([login] + (address.map { [$0] } ?? []), on: tx) {
                throw AccountError.throttled(retryAfter: wait)
            }
        }

        /// Takes the attempt back after the password proved right.
        func succeeded(on tx: PostgresConnection) async throws {
            guard let login else { return }
            try await SignInThrottleStore.succeeded(login: login, address: address, on: tx)
        }
    }

    /// The throttle keys of an attempt at `login` from `address`.
    func attempt(login: String, address: String?) -> ThrottledAttempt {
        guard let rules = throttles else { return ThrottledAttempt() }
        return ThrottledAttempt(
            login: .login(login, throttle: rules.login), address: address.map { .address($0, throttle: rules.address) })
    }

    /// Changes the signed-in user's password: the current one is checked as a sign-in attempt is (and
    /// counts toward the login's throttle), the new one against the policy; then every session of the
    /// user is revoked and a new session is issued, in one transaction.
    /// - Throws: `DomainError.invalid` naming `currentPassword` (wrong) or `newPassword` (the policy);
    ///   `AccountError.throttled`; `PasswordHashingPool.Busy`.
    public func changePassword(of actor: Actor, current: String, new: String, address: String? = nil) async throws -> Session {
        guard let account = try await database.withConnection({ try await AccountStore.credentials(userID: actor.userID, on: $0) })
        else { throw AccountError.invalidCredentials }
        let attempt = attempt(login: account.login, address: address)
        try await database.withTransaction { try await attempt.count(on: $0) }
        guard try await passwords.verify(current, against: account.hash) else {
            throw DomainError.invalid("currentPassword", "is not your current password")
        }
        let password = try await NewPassword.prepare(new, personal: [account.login, account.displayName, account.email], on: passwords)
        if let problem = password.problem { throw DomainError.invalid("newPassword", "the password \(problem)") }
        guard let hash = password.hash else { throw DomainError.invalid("newPassword", "could not be hashed") }
        return try await database.withTransaction { tx in
            try await attempt.succeeded(on: tx)
            try await AccountStore.setPassword(userID: actor.userID, hash: hash, by: actor.displayName, on: tx)
            let (token, expiresAt) = try await AccountStore.issueToken(
                userID: actor.userID, kind: "session", label: nil, lifetime: lifetime, on: tx)
            return Session(token: token, expiresAt: expiresAt, user: try await AccountAdministration.user(id: actor.userID, on: tx))
        }
    }

    /// Checks `login` and `password` and issues a session token.
    ///
    /// The attempt is counted first, per login (whether or not the account exists, so the answer and
    /// its time say nothing about that) and per client `address`; while either is blocked the attempt
    /// is refused without checking the password. A success takes its attempt back.
    /// - Parameters:
    ///   - address: the client's address, or nil when unknown (then only the login is counted).
    /// - Throws: `AccountError.invalidCredentials` for an unknown login, a wrong password or a disabled
    ///   user; `AccountError.throttled` while the login or the address must wait;
    ///   `PasswordHashingPool.Busy` when too many checks wait already.
    public func signIn(login: String, password: String, address: String? = nil) async throws -> Session {
        let attempt = attempt(login: login, address: address)
        let account = try await database.withTransaction { tx in
            try await attempt.count(on: tx)
            return try await AccountStore.passwordHash(login: login, on: tx)
        }
        guard try await passwords.verify(password, against: account?.hash), let account else {
            throw AccountError.invalidCredentials
        }
        return try await database.withTransaction { tx in
            try await attempt.succeeded(on: tx)
            let (token, expiresAt) = try await AccountStore.issueToken(
                userID: account.userID, kind: "session", label: nil, lifetime: lifetime, on: tx)
            // The user may have been disabled while the password was checked.
            guard let actor = try await AccountStore.authenticate(token, on: tx) else { throw AccountError.invalidCredentials }
            return Session(token: token, expiresAt: expiresAt, user: try await AccountAdministration.user(id: actor.userID, on: tx))
        }
    }
}
