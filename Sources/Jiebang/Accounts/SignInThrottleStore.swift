import Crypto
public import Foundation
public import Postgres

/// The rows of `sign_in_throttle`: one per login and one per client address, counted by
/// ``SignInThrottle``'s rules in short transactions of their own.
public enum SignInThrottleStore {
    /// A throttled key and the rules it follows.
    public struct Key: Sendable, Hashable {
        /// `login:<sha256 hex>` or `address:<address>`.
        public var value: String
        /// The rules.
        public var throttle: SignInThrottle

        /// The key of a login (trimmed, any case), whether or not such an account exists; only its
        /// SHA-256 is stored, so a password typed into the login field is not kept.
        public static func login(_ login: String, throttle: SignInThrottle = .perLogin) -> Key {
            let normalized = login.trimmingCharacters(in: .whitespaces).lowercased()
            return Key(value: "login:" + SHA256Hex.digest(of: Data(normalized.utf8)), throttle: throttle)
        }

        /// The key of unit registrations from a client address (its text, at most 80 characters).
        public static func registrations(from address: String, throttle: SignInThrottle = .registrationsPerAddress) -> Key {
            Key(value: "register:" + String(address.prefix(80)), throttle: throttle)
        }

        /// The key of a client address (its text, at most 80 characters).
        public static func address(_ address: String, throttle: SignInThrottle = .perAddress) -> Key {
            Key(value: "address:" + String(address.prefix(80)), throttle: throttle)
        }
    }

    /// Counts an attempt for every key, or for none when one of them is blocked.
    /// - Returns: nil when the attempt may go ahead; otherwise how long to wait (the longest of the
    ///   blocked keys').
    public static func attempt(_ keys: [Key], on tx: PostgresConnection) async throws -> Duration? {
        let ordered = Dictionary(keys.map { ($0.value, $0) }, uniquingKeysWith: { first, _ in first }).values
            .sorted { $0.value < $1.value }
        let names = ordered.map(\.value)
        try await tx.execute(
            """
            INSERT INTO sign_in_throttle (key) SELECT unnest(\(names)::text[]) ORDER BY 1 ON CONFLICT (key) DO NOTHING
            """)
        let rows = try await tx.query(
            """
            SELECT key, attempts, last_attempt_at, blocked_until, now() FROM sign_in_throttle
            WHERE key = ANY (\(names)::text[]) ORDER BY key FOR UPDATE
            """)
        var states: [String: SignInThrottle.State] = [:]
        var now = Date()
        for row in rows {
            let (key, attempts, last, blocked, clock) = try row.decode((String, Int, Date, Date?, Date).self)
            states[key] = SignInThrottle.State(attempts: attempts, lastAttemptAt: last, blockedUntil: blocked)
            now = clock
        }
        var updated: [(String, SignInThrottle.State)] = []
        var wait: Duration?
        for key in ordered {
            let state = states[key.value] ?? SignInThrottle.State(attempts: 0, lastAttemptAt: now, blockedUntil: nil)
            switch key.throttle.attempt(state, at: now) {
            case .allowed(let next): updated.append((key.value, next))
            case .refused(let retryAfter): wait = max(wait ?? .zero, retryAfter)
            }
        }
        if let wait { return wait }
        try await write(updated, on: tx)
        return nil
    }

    /// Takes back the attempt of a successful sign-in: the login's count starts again; the address's
    /// loses one attempt.
    public static func succeeded(login: Key, address: Key?, on tx: PostgresConnection) async throws {
        try await tx.execute("DELETE FROM sign_in_throttle WHERE key = \(login.value)")
        guard let address else { return }
        let row = try await tx.query(
            "SELECT attempts, last_attempt_at, blocked_until FROM sign_in_throttle WHERE key = \(address.value) FOR UPDATE"
        ).first
        guard let (attempts, last, blocked) = try row?.decode((Int, Date, Date?).self) else { return }
        let state = address.throttle.succeeded(SignInThrottle.State(attempts: attempts, lastAttemptAt: last, blockedUntil: blocked))
        try await write([(address.value, state)], on: tx)
    }

    /// Deletes rows idle for longer than `age` and no longer blocking. Returns how many went.
    public static func prune(idleFor age: Duration, on db: PostgresConnection) async throws -> Int {
        try await db.execute(
            """
            DELETE FROM sign_in_throttle
            WHERE last_attempt_at < now() - \(Int(age.components.seconds)) * interval '1 second'
              AND (blocked_until IS NULL OR blocked_until < now())
            """)
    }

    /// Stores states (a missing `blockedUntil` travels as the epoch, since arrays carry no nulls here).
    private static func write(_ states: [(String, SignInThrottle.State)], on tx: PostgresConnection) async throws {
        guard !states.isEmpty else { return }
        try await tx.execute(
            """
            UPDATE sign_in_throttle t
            SET attempts = u.attempts, last_attempt_at = u.last_attempt_at, blocked_until = NULLIF(u.blocked_until, 'epoch')
            FROM unnest(\(states.map(\.0))::text[], \(states.map(\.1.attempts))::integer[],
                        \(states.map(\.1.lastAttemptAt))::timestamptz[],
                        \(states.map { $0.1.blockedUntil ?? Date(timeIntervalSince1970: 0) })::timestamptz[])
                 AS u (key, attempts, last_attempt_at, blocked_until)
            WHERE t.key = u.key
            """)
    }
}
