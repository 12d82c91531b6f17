import Foundation

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters
/// whose last one is a check character over the first 17.
///
/// Layout: registration authority (1), organisation category (1), the
/// registering authority's administrative division code (6), the organisation
/// code (9), the check character (1). The alphabet is the digits and the
/// capital letters without I, O, Z, S and V.
public struct CreditCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 18 characters, upper case.
    public let value: String

    /// The 31 characters a code may use, in the order of their values 0–30.
    static let alphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    /// The weight of each of the first 17 positions (3^i mod 31).
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Why a text is not a valid code.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// It does not have 18 characters.
        case wrongLength(Int)
        /// A character outside the code's alphabet, at a 1-based position.
        case invalidCharacter(Character, position: Int)
        /// The 18th character is not the check character of the first 17.
        case wrongCheckCharacter(found: Character, expected: Character)

        public var description: String {
            switch self {
            case .wrongLength(let count):
                "must be 18 characters, not \(count)"
            case .invalidCharacter(let character, let position):
                "character \(position) (\(character)) is not allowed: use digits and capital letters except I, O, Z, S, V"
            case .wrongCheckCharacter(let found, let expected):
                "check character is \(found) but the first 17 characters give \(expected): the code has a typo"
            }
        }
    }

    /// Validates `text` (surrounding spaces are ignored, lower case is accepted).
    /// - Throws: `CreditCode.Problem` saying what is wrong.
    public init(_ text: String) throws(Problem) {
        let characters = Array(text.trimmingCharacters(in: .whitespaces).uppercased())
        guard characters.count == 18 else { throw .wrongLength(characters.count) }
        var values: [Int] = []
        values.reserveCapacity(18)
        for (index, character) in characters.enumerated() {
            guard let value = Self.alphabet.firstIndex(of: character) else {
                throw .invalidCharacter(character, position: index + 1)
            }
            values.append(value)
        }
        let expected = Self.checkCharacter(values.prefix(17))
        guard characters[17] == expected else {
            throw .wrongCheckCharacter(found: characters[17], expected: expected)
        }
        value = String(characters)
    }

    /// The code whose first 17 characters are `prefix`, with its check character appended.
    /// - Throws: `CreditCode.Problem` if `prefix` is not 17 characters of the code's alphabet.
    public static func completing(_ prefix: String) throws(Problem) -> CreditCode {
        let characters = Array(prefix.uppercased())
        guard characters.count == 17 else { throw .wrongLength(characters.count + 1) }
        var values: [Int] = []
        for (index, character) in characters.enumerated() {
            guard let value = alphabet.firstIndex(of: character) else { throw .invalidCharacter(character, position: index + 1) }
            values.append(value)
        }
        return try CreditCode(prefix.uppercased() + String(checkCharacter(values[...])))
    }

    /// The check character of 17 character values.
    static func checkCharacter(_ values: ArraySlice<Int>) -> Character {
        let sum = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return alphabet[(31 - sum % 31) % 31]
    }

    /// The administrative division code of the authority that registered the unit (characters 3–8).
    public var registrationRegion: String { String(value.dropFirst(2).prefix(6)) }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a unified social credit code: \(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
