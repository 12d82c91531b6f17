public import Crypto
public import Foundation

/// The keys that seal the secrets the server must read back (webhook secrets, which sign deliveries): AES-256-GCM
/// under a key kept apart from the rows it protects (`JIEBANG_SECRETS_KEY`, `JIEBANG_SECRETS_KEY_FILE`, the embedded
/// cluster's key file, or at worst the database's own key in `server_secrets`).
///
/// A sealed secret is `v1:<key id>:<base64 of the 12-byte nonce, the ciphertext and the 16-byte tag>`; the key id
/// (``Key/id``) names the key that sealed it, so a secret sealed under a retired key is still opened, and
/// sealed again under the current one (``WebhookStore/sealSecrets(with:on:)``).
public struct SecretsKeyring: Sendable {
    /// One 256-bit key and where it came from.
    public struct Key: Sendable {
        /// The first four bytes of the SHA-256 of the key, in hex: names the key in sealed secrets and in errors.
        public let id: String
        /// Where the key came from, for errors (`JIEBANG_SECRETS_KEY`, a file's path, the database).
        public let source: String
        let key: SymmetricKey

        /// A key from its 32 bytes.
        /// - Throws: `SecretsKeyError` naming `source` when there are not 32 bytes.
        public init(_ bytes: Data, source: String) throws(SecretsKeyError) {
            guard bytes.count == 32 else {
                throw SecretsKeyError("\(source) must hold 32 bytes (a 256-bit key), not \(bytes.count)")
            }
            self.init(key: SymmetricKey(data: bytes), source: source)
        }

        private init(key: SymmetricKey, source: String) {
            self.key = key
            self.source = source
            self.id = key.withUnsafeBytes { SHA256.hash(data: $0) }.prefix(4).map { String(format: "%02x", $0) }.joined()
        }

        /// A key from the base64 text of its 32 bytes (surrounding white space ignored), as `openssl rand -base64 32` prints it.
        /// - Throws: `SecretsKeyError` naming `source` when the text is not base64 of 32 bytes.
        public init(base64 text: String, source: String) throws(SecretsKeyError) {
            guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw SecretsKeyError("\(source) is not base64 text (make a key with: openssl rand -base64 32)")
            }
            try self.init(bytes, source: source)
        }

        /// A new random key.
        public static func random(source: String) -> Key {
            Key(key: SymmetricKey(size: .bits256), source: source)
        }

        /// The key's 32 bytes as base64 text, as a key file holds them.
        public var base64: String { bytes.base64EncodedString() }

        /// The key's 32 bytes.
        var bytes: Data { key.withUnsafeBytes { Data($0) } }
    }

    /// The key new secrets are sealed under.
    public var current: Key
    /// Keys that only open what they sealed before (``current`` replaced them).
    public var retired: [Key]

    /// Creates a keyring.
    public init(current: Key, retired: [Key] = []) {
        self.current = current
        self.retired = retired.filter { $0.id != current.id }
    }

    /// The version tag of sealed secrets.
    static let version = "v1"
    /// Authenticated with every sealed secret: a sealed value opens only as what it was made for.
    private static let context = Data("jiebang sealed secret v1".utf8)

    /// `secret` sealed under the current key with a fresh random nonce: `v1:<key id>:<base64>`.
    /// - Throws: `SecretsKeyError` if the cipher fails (it does not for a 256-bit key).
    public func seal(_ secret: String) throws(SecretsKeyError) -> String {
        guard let box = try? AES.GCM.seal(Data(secret.utf8), using: current.key, authenticating: Self.context),
            let combined = box.combined
        else { throw SecretsKeyError("a secret could not be sealed under key \(current.id)") }
        return "\(Self.version):\(current.id):\(combined.base64EncodedString())"
    }

    /// The prefix of a secret sealed under the current key.
    public var currentPrefix: String { "\(Self.version):\(current.id):" }

    /// Opens a sealed secret with whichever key of the ring sealed it.
    /// - Throws: `SecretsKeyError` naming the problem: not a sealed secret, sealed under a key this ring does not
    ///   hold (the wrong `JIEBANG_SECRETS_KEY`), or altered.
    public func open(_ sealed: String) throws(SecretsKeyError) -> String {
        let parts = sealed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.version, let combined = Data(base64Encoded: String(parts[2])) else {
            throw SecretsKeyError("the stored secret is not sealed (\(Self.version):<key id>:<base64>)")
        }
        guard let key = ([current] + retired).first(where: { $0.id == parts[1] }) else {
            throw SecretsKeyError(
                """
                the stored secret was sealed under key \(parts[1]), but the key configured is \(current.id) (from \(current.source)): \
                set JIEBANG_SECRETS_KEY or JIEBANG_SECRETS_KEY_FILE to the key it was sealed with, or give that key in \
                JIEBANG_SECRETS_KEY_RETIRED to move its secrets under the new one
                """)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: combined)
            let plain = try AES.GCM.open(box, using: key.key, authenticating: Self.context)
            guard let text = String(data: plain, encoding: .utf8) else { throw SecretsKeyError("not UTF-8") }
            return text
        } catch {
            throw SecretsKeyError("the stored secret sealed under key \(key.id) does not open: it was altered")
        }
    }
}

/// A secrets key that is missing, malformed or wrong, or a sealed secret that does not open; the description names
/// the problem and what to set.
public struct SecretsKeyError: Error, CustomStringConvertible, Sendable, Hashable {
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}
