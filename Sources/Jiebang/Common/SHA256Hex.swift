import Crypto
public import Foundation

/// SHA-256 digests written as 64 lower-case hex digits, as receipts and attachments store them.
public enum SHA256Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The digest of `bytes` in hex.
    public static func digest(of bytes: some DataProtocol) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
