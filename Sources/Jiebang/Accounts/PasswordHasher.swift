import Crypto
import CryptoExtras
public import Foundation

/// Hashes passwords with scrypt and a random salt, and checks them in constant time.
///
/// A hash is stored as `scrypt$<log2 N>$<r>$<p>$<salt>$<key>` (base64), so the
/// cost can rise later without invalidating stored hashes.
public struct PasswordHasher: Sendable {
    /// log2 of scrypt's N (CPU and memory cost). Default 15 (N = 32,768; 32 MiB, about 0.1 s).
    public var costExponent: Int = 15
    /// scrypt's block size r. Default 8.
    public var blockSize: Int = 8
    /// scrypt's parallelism p. Default 1.
    public var parallelism: Int = 1
    /// The shortest password accepted. Default 12 characters.
    public var minimumLength: Int = 12

    /// The defaults.
    public init() {}

    /// A cheap hasher for tests (N = 1,024).
    public static var fastForTests: PasswordHasher {
        var hasher = PasswordHasher()
        hasher.costExponent = 10
        return hasher
    }

    /// Why a password is refused.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case tooShort(minimum: Int)
        case tooLong
        /// The password is or contains the user's login, name, phone or e-mail address.
        case containsPersonalDetail

        public var description: String {
            switch self {
            case .tooShort(let minimum): "must be at least \(minimum) characters"
            case .tooLong: "must be at most 200 characters"
            case .containsPersonalDetail: "must not be or contain your login, name, phone number or e-mail address"
            }
        }
    }

    /// Checks the password policy: its length, and that it neither is nor contains any of `personal`
    /// (the user's login, name, phone, e-mail), compared without regard to case and ignoring details
    /// of one character (or two ASCII characters), which would refuse too much.
    public func validate(_ password: String, personal: [String?] = []) throws(Problem) {
        guard password.count >= minimumLength else { throw .tooShort(minimum: minimumLength) }
        guard password.count <= 200 else { throw .tooLong }
        let folded = password.lowercased()
        for detail in Self.personalFragments(personal) where folded.contains(detail) {
            throw .containsPersonalDetail
        }
    }

    /// The fragments of personal details a password may not contain: each detail itself, an e-mail's
    /// local part, a phone's digits; lower-cased and trimmed.
    static func personalFragments(_ personal: [String?]) -> [String] {
        var fragments: [String] = []
        for case let detail? in personal {
            let trimmed = detail.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            fragments.append(trimmed)
            if let at = trimmed.firstIndex(of: "@") { fragments.append(String(trimmed[..<at])) }
            let digits = trimmed.filter(\.isASCII).filter(\.isNumber)
            if digits.count >= 7 { fragments.append(digits) }
        }
        return fragments.filter { fragment in
            fragment.count >= 3 || (fragment.count == 2 && fragment.contains { !$0.isASCII })
        }
    }

    /// Hashes `password` with a new random salt.
    public func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = UInt8.random(in: 0...255, using: &generator) }
        let key = try derive(password, salt: salt, exponent: costExponent, blockSize: blockSize, parallelism: parallelism)
        return [
            "scrypt", "\(costExponent)", "\(blockSize)", "\(parallelism)", Data(salt).base64EncodedString(),
            Data(key).base64EncodedString(),
        ].joined(separator: "$")
    }

    /// Whether `password` matches `encoded` (made by `hash`). Exactly one scrypt run: a malformed hash
    /// matches nothing, after the same work as ``dummyHash`` costs.
    public func verify(_ password: String, against encoded: String) -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let exponent = Int(parts[1]), (1...20).contains(exponent),
            let blockSize = Int(parts[2]), (1...32).contains(blockSize), let parallelism = Int(parts[3]),
            (1...4).contains(parallelism), let salt = Data(base64Encoded: String(parts[4])),
            let expected = Data(base64Encoded: String(parts[5])), expected.count == 32
        else {
            _ = try? derive(
                password, salt: [UInt8](repeating: 0, count: 16), exponent: costExponent, blockSize: self.blockSize,
                parallelism: self.parallelism)
            return false
        }
        guard let key = try? derive(password, salt: Array(salt), exponent: exponent, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(key, expected) { difference |= a ^ b }
        return difference == 0
    }

    /// A hash with this hasher's parameters that matches no password (its key is all zeros, which no
    /// password derives in practice): checking against it costs what checking a real hash costs.
    public var dummyHash: String {
        [
            "scrypt", "\(costExponent)", "\(blockSize)", "\(parallelism)", Data(count: 16).base64EncodedString(),
            Data(count: 32).base64EncodedString(),
        ].joined(separator: "$")
    }

    private func derive(_ password: String, salt: [UInt8], exponent: Int, blockSize: Int, parallelism: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: 1 << exponent, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
