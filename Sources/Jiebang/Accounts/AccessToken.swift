public import Foundation
import Crypto

/// A bearer token: `jb_` and 43 characters of base64url randomness (256 bits).
///
/// Only its SHA-256 is stored, so a copy of the database gives no usable token.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible {
    /// The token as the client sends it.
    public let value: String

    /// Makes a new random token.
    public static func generate() -> AccessToken {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return AccessToken(value: "jb_" + Base64URL.encode(bytes))
    }

    /// Wraps a token received from a client.
    public init(value: String) { self.value = value }

    /// The SHA-256 digest stored in `access_tokens.token_hash`.
    public var digest: Data { Data(SHA256.hash(data: Data(value.utf8))) }

    /// The token is a secret: it never appears in logs or descriptions.
    public var description: String { "jb_****" }
}
