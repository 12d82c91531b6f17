/// A score on the 0–100 scale with four decimal places, held exactly as ten-thousandths of a point.
/// JSON writes it as a string such as `"87.5000"`, so no client reads it as a binary float.
public struct Points: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The value in ten-thousandths: 875000 is 87.5.
    public var tenThousandths: Int64

    /// Creates a value from ten-thousandths.
    public init(tenThousandths: Int64) {
        self.tenThousandths = tenThousandths
    }

    /// `numerator / denominator` ten-thousandths, rounded half up (both non-negative, denominator > 0).
    init(rounding numerator: Int64, over denominator: Int64) {
        tenThousandths = (2 * numerator + denominator) / (2 * denominator)
    }

    public static func < (a: Points, b: Points) -> Bool { a.tenThousandths < b.tenThousandths }

    /// `87.5000`.
    public var description: String {
        let whole = tenThousandths / 10_000
        let fraction = String(tenThousandths % 10_000)
        return "\(whole)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 4, let whole = Int64(parts[0]), let fraction = Int64(parts[1]), whole >= 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a decimal such as 87.5000")
        }
        tenThousandths = whole * 10_000 + fraction
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
