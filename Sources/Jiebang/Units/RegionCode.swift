import Foundation

/// The 6-digit administrative division code (行政区划代码, GB/T 2260) of a
/// city or prefecture, for example 620100 (兰州市).
///
/// Units and municipal recommenders are placed at this level: the first two
/// digits name a province, the next two a prefecture (not 00), the last two
/// are 00.
public struct RegionCode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The six digits.
    public let value: String

    /// The first two digits of China's provinces, autonomous regions and municipalities, Taiwan, Hong Kong and Macao.
    static let provinces: Set<String> = [
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
        "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
    ]

    /// Why a text is not a prefecture-level code.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notSixDigits
        case unknownProvince(String)
        case notPrefectureLevel

        public var description: String {
            switch self {
            case .notSixDigits: "must be 6 digits"
            case .unknownProvince(let prefix): "\(prefix) is not a province's code"
            case .notPrefectureLevel: "must name a city or prefecture (like 620100): digits 3–4 not 00, digits 5–6 00"
            }
        }
    }

    /// Validates `text`.
    /// - Throws: `RegionCode.Problem`.
    public init(_ text: String) throws(Problem) {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard digits.count == 6, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .notSixDigits }
        let province = String(digits.prefix(2))
        guard Self.provinces.contains(province) else { throw .unknownProvince(province) }
        guard digits.hasSuffix("00"), digits.dropFirst(2).prefix(2) != "00" else { throw .notPrefectureLevel }
        value = digits
    }

    /// The province's code (two digits followed by 0000).
    public var province: String { value.prefix(2) + "0000" }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
