/// How much a programme may fund one project: at most a share of the
/// project's total investment and at most an absolute amount (002 §四(三):
/// Gansu 10% and 5,000,000 CNY; 003 §3: Qinghai 30% and 3,000,000 CNY, paid after the fact).
///
/// Money is integer fen (分); the share is in basis points (1000 = 10%).
public struct FundingPolicy: Sendable, Hashable, Codable {
    /// When the money is paid.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// When the project starts (Gansu).
        case upfront
        /// After the fact, on actual spending (Qinghai 后补助).
        case postSubsidy = "post_subsidy"
    }

    /// The largest share of the total investment, in basis points (1 to 10,000).
    public var ratioCapBasisPoints: Int
    /// The largest amount in fen.
    public var absoluteCapFen: Int64
    /// When it is paid.
    public var mode: Mode

    /// Creates a policy.
    public init(ratioCapBasisPoints: Int, absoluteCapFen: Int64, mode: Mode = .upfront) {
        self.ratioCapBasisPoints = ratioCapBasisPoints
        self.absoluteCapFen = absoluteCapFen
        self.mode = mode
    }

    /// Gansu (seed 002): 10% of total investment, at most 5,000,000 CNY, paid up front.
    public static let gansu = FundingPolicy(ratioCapBasisPoints: 1_000, absoluteCapFen: 500_000_000, mode: .upfront)
    /// Qinghai (seed 003): 30% of R&D spending, at most 3,000,000 CNY, paid after the fact.
    public static let qinghai = FundingPolicy(ratioCapBasisPoints: 3_000, absoluteCapFen: 300_000_000, mode: .postSubsidy)

    /// The most that may be requested for a project with this total investment:
    /// min(⌊total × ratio⌋, absolute cap), exact in fen for any total (no overflow).
    public func cap(totalInvestmentFen total: Int64) -> Int64 {
        guard total > 0 else { return 0 }
        let basisPoints = Int64(ratioCapBasisPoints)
        let share = (total / 10_000) * basisPoints + (total % 10_000) * basisPoints / 10_000
        return min(share, absoluteCapFen)
    }

    /// Why a request is refused.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notPositive
        case totalNotPositive
        case exceedsCap(requestedFen: Int64, capFen: Int64)
        case exceedsCeiling(requestedFen: Int64, ceilingFen: Int64)

        public var description: String {
            switch self {
            case .notPositive: "must be more than 0"
            case .totalNotPositive: "the total investment must be more than 0"
            case .exceedsCap(let requested, let cap):
                "\(FundingPolicy.yuan(requested)) is more than the programme allows for this project (\(FundingPolicy.yuan(cap)))"
            case .exceedsCeiling(let requested, let ceiling):
                "\(FundingPolicy.yuan(requested)) is more than the challenge's funding ceiling (\(FundingPolicy.yuan(ceiling)))"
            }
        }
    }

    /// Checks a requested amount against the policy and, when given, the challenge's funding ceiling:
    /// the request is at most min(the ceiling, ⌊total × ratio⌋, the absolute cap).
    /// - Throws: `FundingPolicy.Problem` naming the limit that binds; exactly at it passes, one fen over fails.
    public func check(requestedFen: Int64, totalInvestmentFen: Int64, challengeCeilingFen: Int64? = nil) throws(Problem) {
        guard totalInvestmentFen > 0 else { throw .totalNotPositive }
        guard requestedFen > 0 else { throw .notPositive }
        let cap = cap(totalInvestmentFen: totalInvestmentFen)
        if let ceiling = challengeCeilingFen, ceiling < cap, requestedFen > ceiling {
            throw .exceedsCeiling(requestedFen: requestedFen, ceilingFen: ceiling)
        }
        guard requestedFen <= cap else { throw .exceedsCap(requestedFen: requestedFen, capFen: cap) }
    }

    /// An amount in fen written in yuan, e.g. `5,000,000.00 元`.
    static func yuan(_ fen: Int64) -> String {
        let whole = String(fen / 100)
        var grouped = ""
        for (index, digit) in whole.reversed().enumerated() {
            if index > 0 && index % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        let cents = fen % 100
        return String(grouped.reversed()) + "." + (cents < 10 ? "0" : "") + String(cents) + " 元"
    }
}
