public import Foundation
public import Postgres

/// Signing in with a login and password, without holding a database connection while the password is checked.
///
/// One short statement reads the account's hash and the connection goes back to the pool; the password
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

    /// Creates the sign-in.
    public init(database: PostgresClient, passwords: PasswordHashingPool) {
        self.database = database
        self.passwords = passwords
    }

    /// Checks `login` and `password` and issues a session token.
    /// - Throws: `AccountError.invalidCredentials` for an unknown login, a wrong password or a disabled
    ///   user; `PasswordHashingPool.Busy` when too many checks wait already.
    public func signIn(login: String, password: String) async throws -> Session {
        let account = try await database.withConnection { try await AccountStore.passwordHash(login: login, on: $0) }
        guard try await passwords.verify(password, against: account?.hash), let account else {
            throw AccountError.invalidCredentials
        }
        return try await database.withTransaction { tx in
            let (token, expiresAt) = try await AccountStore.issueToken(
                userID: account.userID, kind: "session", label: nil, lifetime: lifetime, on: tx)
            // The user may have been disabled while the password was checked.
            guard let actor = try await AccountStore.authenticate(token, on: tx) else { throw AccountError.invalidCredentials }
            return Session(token: token, expiresAt: expiresAt, user: try await AccountAdministration.user(id: actor.userID, on: tx))
        }
    }
}
