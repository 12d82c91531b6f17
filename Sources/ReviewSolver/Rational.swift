/// A probability cap such as 1/2, kept as a reduced fraction so that capacities scale exactly.
///
/// The solver multiplies every capacity by ``denominator``; a pair may then carry at most
/// ``numerator`` units, which is `q` in units of `1/denominator`.
public struct Rational: Hashable, Sendable, CustomStringConvertible {
    /// The numerator, `1 ... denominator`.
    public let numerator: Int
    /// The denominator, `1 ... Rational.maximumDenominator`.
    public let denominator: Int

    /// The largest denominator accepted, so that `load × denominator` stays far inside `Int32`.
    public static let maximumDenominator = 1_000

    /// The cap 1: the deterministic optimum.
    public static let one = Rational(reduced: 1, 1)

    /// Creates the cap `numerator / denominator`, reduced.
    /// - Throws: ``ReviewSolverError/invalidInput(_:)`` unless `0 < q ≤ 1` and the reduced
    ///   denominator is at most ``maximumDenominator``.
    public init(_ numerator: Int, _ denominator: Int) throws(ReviewSolverError) {
        guard denominator > 0, numerator > 0, numerator <= denominator else {
            throw .invalidInput("q must satisfy 0 < q ≤ 1, got \(numerator)/\(denominator)")
        }
        let divisor = Rational.gcd(numerator, denominator)
        guard denominator / divisor <= Rational.maximumDenominator else {
            throw .invalidInput("q's denominator must be at most \(Rational.maximumDenominator), got \(denominator / divisor)")
        }
        self.init(reduced: numerator / divisor, denominator / divisor)
    }

    private init(reduced numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Parses `"1/2"`, `"1"`, or a decimal such as `"0.5"` (at most three decimals).
    /// - Throws: ``ReviewSolverError/invalidInput(_:)`` naming the text.
    public init(parsing text: String) throws(ReviewSolverError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, let n = Int(parts[0]), let d = Int(parts[1]) {
            try self.init(n, d)
            return
        }
        let decimal = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 1, decimal.count <= 2, decimal.count >= 1,
            let whole = Int(decimal[0].isEmpty ? "0" : decimal[0])
        {
            let fraction = decimal.count == 2 ? decimal[1] : ""
            guard fraction.count <= 3, fraction.allSatisfy(\.isASCII), fraction.isEmpty || Int(fraction) != nil
            else { throw .invalidInput("q must be a fraction such as 1/2 or a decimal with at most three places, got \(text)") }
            var scale = 1
            for _ in 0..<fraction.count { scale *= 10 }
            guard whole >= 0, whole <= 1 else {
                throw .invalidInput("q must satisfy 0 < q ≤ 1, got \(text)")
            }
            let numerator = whole * scale + (Int(fraction) ?? 0)
            try self.init(numerator, scale)
            return
        }
        throw .invalidInput("q must be a fraction such as 1/2 or a decimal with at most three places, got \(text)")
    }

    /// `numerator/denominator`, or `1`.
    public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

    /// The value as a `Double`, for display.
    public var doubleValue: Double { Double(numerator) / Double(denominator) }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
