/// A password chosen for a new account: the policy's verdict and, when it passes, its hash, made before
/// any transaction opens so that no connection is held while scrypt runs.
public struct NewPassword: Sendable, Hashable {
    /// Why the policy refuses the password, or nil.
    public let problem: PasswordHasher.Problem?
    /// The hash, when the policy accepts the password.
    public let hash: String?

    /// Checks `password` against the policy (``PasswordHasher/validate(_:personal:)``, with the user's
    /// login, name, phone and e-mail as `personal`) and, if it passes, hashes it on `pool`.
    /// - Throws: `PasswordHashingPool.Busy` when too many hashes wait already.
    public static func prepare(_ password: String, personal: [String?], on pool: PasswordHashingPool) async throws -> NewPassword {
        do {
            try pool.hasher.validate(password, personal: personal)
        } catch {
            return NewPassword(problem: error, hash: nil)
        }
        return NewPassword(problem: nil, hash: try await pool.hash(password))
    }

    /// Checks `password` against the policy and, if it passes, hashes it on the calling thread (for
    /// command-line tools and tests, never a request).
    public static func prepare(_ password: String, personal: [String?], with hasher: PasswordHasher) throws -> NewPassword {
        do {
            try hasher.validate(password, personal: personal)
        } catch {
            return NewPassword(problem: error, hash: nil)
        }
        return NewPassword(problem: nil, hash: try hasher.hash(password))
    }
}
