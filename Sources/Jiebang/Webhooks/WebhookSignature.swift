import Crypto
public import Foundation

/// The `Jiebang-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, one
/// `v1=` per secret that signs (the current one, and the previous one for 24 hours after a rotation).
/// The secret is used as its UTF-8 text (the 64 hex characters), as the receiver has it.
public enum WebhookSignature {
    /// A new secret: 32 random bytes, hex.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
    public static func v1(secret: String, timestamp: Int, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// The header's value for `body` at `timestamp`, signed by each of `secrets` in order.
    public static func header(secrets: [String], timestamp: Int, body: Data) -> String {
        (["t=\(timestamp)"] + secrets.map { "v1=" + v1(secret: $0, timestamp: timestamp, body: body) }).joined(separator: ",")
    }
}
