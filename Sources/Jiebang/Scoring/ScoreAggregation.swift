public import Foundation

/// How experts' scores become a ranking (单位遴选): pure arithmetic, exact, no floating point.
///
/// 1. Each expert's **weighted total** on a 0–100 scale:
///    `100 × Σ weight · (score − min) / (max − min) / Σ weight`, computed exactly over integers and
///    rounded half up to four decimal places (`Points`).
/// 2. Each bid's **trimmed mean** of its submitted totals: with 5 or more, the one highest and the one
///    lowest are dropped; the mean of the rest is compared exactly (as a fraction) and shown rounded half up.
/// 3. The **ranking** per challenge, best first. Ties are broken by, in order: the higher trimmed mean;
///    the higher median of all submitted totals; the higher average 创新能力 score (criterion key
///    `innovation`; equal when the rubric has none); the earlier bid submission; the lower bid id.
///    A bid without a submitted score ranks after every scored bid.
public enum ScoreAggregation {
    /// The part of a rubric criterion the arithmetic needs.
    public struct Criterion: Sendable, Hashable {
        public var key: String
        public var weight: Int
        public var minScore: Int
        public var maxScore: Int

        /// Creates a criterion.
        public init(key: String, weight: Int, minScore: Int, maxScore: Int) {
            self.key = key
            self.weight = weight
            self.minScore = minScore
            self.maxScore = maxScore
        }
    }

    /// One bid's submitted scores, each a value per criterion key.
    public struct BidScores: Sendable, Hashable {
        public var bidID: Int
        /// When the bid was submitted (the fourth tie rule); nil sorts last.
        public var submittedAt: Date?
        public var sheets: [[String: Int]]

        /// Creates a bid's scores.
        public init(bidID: Int, submittedAt: Date?, sheets: [[String: Int]]) {
            self.bidID = bidID
            self.submittedAt = submittedAt
            self.sheets = sheets
        }
    }

    /// A bid's place in its challenge's ranking.
    public struct Standing: Sendable, Hashable, Codable {
        public var bidID: Int
        /// 1 for the best; every bid has its own rank (the tie rule decides).
        public var rank: Int
        /// How many submitted scores the bid has.
        public var scoreCount: Int
        /// The experts' weighted totals, highest first (who gave which is not shown).
        public var totals: [Points]
        /// The totals the mean is taken of (all, or all but the highest and the lowest).
        public var countedTotals: Int
        public var trimmedMean: Points?
        public var median: Points?
        /// The average score of the `innovation` criterion.
        public var innovationAverage: Points?
    }

    /// The key of the criterion of the third tie rule (创新能力).
    public static let innovationKey = "innovation"

    /// The weighted total of one expert's values, rounded half up to four decimal places.
    ///
    /// A criterion without a value counts as its minimum (a submitted score has every value).
    public static func weightedTotal(_ values: [String: Int], rubric: [Criterion]) -> Points {
        guard !rubric.isEmpty else { return Points(tenThousandths: 0) }
        let common = rubric.reduce(Int128(1)) { lcm($0, Int128($1.maxScore - $1.minScore)) }
        var numerator: Int128 = 0
        var weights: Int128 = 0
        for criterion in rubric {
            let range = Int128(criterion.maxScore - criterion.minScore)
            let value = Int128(min(max(values[criterion.key] ?? criterion.minScore, criterion.minScore), criterion.maxScore))
            numerator += Int128(criterion.weight) * (value - Int128(criterion.minScore)) * (common / range)
            weights += Int128(criterion.weight)
        }
        let denominator = weights * common
        return Points(tenThousandths: Int64((2 * 1_000_000 * numerator + denominator) / (2 * denominator)))
    }

    /// The totals the mean is taken of: with 5 or more, all but one highest and one lowest.
    public static func trimmed(_ totals: [Points]) -> [Points] {
        let sorted = totals.sorted()
        return sorted.count >= 5 ? Array(sorted.dropFirst().dropLast()) : sorted
    }

    /// The ranking of a challenge's bids, best first, by the rules of this type.
    public static func rank(_ bids: [BidScores], rubric: [Criterion]) -> [Standing] {
        let keyed = bids.map { bid in Key(bid, rubric: rubric) }
        return keyed.sorted(by: Key.before).enumerated().map { index, key in
            Standing(
                bidID: key.bid.bidID, rank: index + 1, scoreCount: key.totals.count,
                totals: key.totals.sorted(by: >), countedTotals: key.trimmedCount,
                trimmedMean: key.trimmedCount > 0 ? Points(rounding: key.trimmedSum, over: Int64(key.trimmedCount)) : nil,
                median: key.totals.isEmpty ? nil : Points(rounding: key.doubleMedian, over: 2),
                innovationAverage: key.innovationCount > 0
                    ? Points(rounding: key.innovationSum * 10_000, over: Int64(key.innovationCount)) : nil)
        }
    }

    /// The exact quantities the ranking compares.
    struct Key {
        var bid: BidScores
        var totals: [Points]
        var trimmedSum: Int64
        var trimmedCount: Int
        /// Twice the median, in ten-thousandths (an integer even for an even count).
        var doubleMedian: Int64
        var innovationSum: Int64
        var innovationCount: Int

        init(_ bid: BidScores, rubric: [Criterion]) {
            self.bid = bid
            totals = bid.sheets.map { weightedTotal($0, rubric: rubric) }
            let kept = trimmed(totals)
            trimmedSum = kept.reduce(0) { $0 + $1.tenThousandths }
            trimmedCount = kept.count
            let sorted = totals.sorted()
            if sorted.isEmpty {
                doubleMedian = 0
            } else if sorted.count % 2 == 1 {
                doubleMedian = 2 * sorted[sorted.count / 2].tenThousandths
            } else {
                doubleMedian = sorted[sorted.count / 2 - 1].tenThousandths + sorted[sorted.count / 2].tenThousandths
            }
            let innovation = rubric.contains { $0.key == innovationKey } ? bid.sheets.compactMap { $0[innovationKey] } : []
            innovationSum = innovation.reduce(0) { $0 + Int64($1) }
            innovationCount = innovation.count
        }

        /// Whether `a` ranks before `b`.
        static func before(_ a: Key, _ b: Key) -> Bool {
            if (a.trimmedCount > 0) != (b.trimmedCount > 0) { return a.trimmedCount > 0 }
            if a.trimmedCount > 0 {
                let left = a.trimmedSum * Int64(b.trimmedCount)
                let right = b.trimmedSum * Int64(a.trimmedCount)
                if left != right { return left > right }
                if a.doubleMedian != b.doubleMedian { return a.doubleMedian > b.doubleMedian }
            }
            let innovationLeft = a.innovationSum * Int64(max(b.innovationCount, 1))
            let innovationRight = b.innovationSum * Int64(max(a.innovationCount, 1))
            if innovationLeft != innovationRight { return innovationLeft > innovationRight }
            switch (a.bid.submittedAt, b.bid.submittedAt) {
            case let (left?, right?) where left != right: return left < right
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.bid.bidID < b.bid.bidID
            }
        }
    }

    static func gcd(_ a: Int128, _ b: Int128) -> Int128 { b == 0 ? a : gcd(b, a % b) }
    static func lcm(_ a: Int128, _ b: Int128) -> Int128 { a / gcd(a, b) * b }
}
