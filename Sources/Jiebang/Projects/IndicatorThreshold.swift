public import Foundation

/// How a challenge's indicator text bounds a contracted target: "最大磁能积不低于52 MGOe" is at least 52,
/// "成本不高于5万元" at most 5, and a text without such a phrase is qualitative. The database reads the
/// same phrases in the same order (`indicator_direction`, `indicator_threshold`).
public struct IndicatorThreshold: Sendable, Hashable, Codable {
    /// `at_least`, `at_most` or `qualitative`.
    public var direction: String
    /// The bound, absent for a qualitative indicator.
    public var threshold: Decimal?

    /// Phrases that make the number after them a lower bound (checked first).
    public static let atLeast = ["不低于", "不少于", "不小于", "≥", ">=", "至少", "达到"]
    /// Phrases that make the number after them an upper bound.
    public static let atMost = ["不高于", "不超过", "不大于", "≤", "<=", "至多"]

    /// Reads `text`.
    public init(parsing text: String) {
        if let number = Self.number(after: Self.atLeast, in: text) {
            self.init(direction: "at_least", threshold: number)
        } else if let number = Self.number(after: Self.atMost, in: text) {
            self.init(direction: "at_most", threshold: number)
        } else {
            self.init(direction: "qualitative", threshold: nil)
        }
    }

    /// Creates a threshold.
    public init(direction: String, threshold: Decimal?) {
        self.direction = direction
        self.threshold = threshold
    }

    /// Whether `target` keeps the bound (any target does for a qualitative indicator).
    public func isKept(by target: Decimal?) -> Bool {
        guard let threshold else { return true }
        guard let target else { return false }
        return direction == "at_least" ? target >= threshold : target <= threshold
    }

    /// The first number following one of `phrases` (after optional white space), at the earliest
    /// position in `text` where a phrase is directly followed by a digit.
    static func number(after phrases: [String], in text: String) -> Decimal? {
        let scalars = Array(text.unicodeScalars)
        for start in scalars.indices {
            for phrase in phrases {
                let phraseScalars = Array(phrase.unicodeScalars)
                guard start + phraseScalars.count <= scalars.count,
                    Array(scalars[start..<start + phraseScalars.count]) == phraseScalars
                else { continue }
                var index = start + phraseScalars.count
                while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
                var digits = ""
                var seenPoint = false
                while index < scalars.count {
                    let scalar = scalars[index]
                    if ("0"..."9").contains(scalar) {
                        digits.unicodeScalars.append(scalar)
                    } else if scalar == ".", !seenPoint, !digits.isEmpty, index + 1 < scalars.count,
                        ("0"..."9").contains(scalars[index + 1])
                    {
                        seenPoint = true
                        digits.unicodeScalars.append(scalar)
                    } else {
                        break
                    }
                    index += 1
                }
                if !digits.isEmpty, let number = Decimal(string: digits, locale: Locale(identifier: "en_US_POSIX")) {
                    return number
                }
            }
        }
        return nil
    }
}
