public import Foundation

/// A review round (单位遴选): the formally passed bids of some challenges of one programme, reviewed by
/// panels of `panelSize` experts drawn from the programme's bureau's pool.
///
/// ```text
/// preparing ─draw applied→ assigned ─close→ closed
/// ```
public struct ReviewRound: Codable, Sendable, Hashable {
    public var id: Int
    public var programmeID: Int
    public var name: String
    /// `preparing`, `assigned` or `closed`.
    public var status: String
    /// `k`: experts per bid.
    public var panelSize: Int
    /// Alternates (替补) per bid.
    public var alternates: Int
    /// The pair cap `q` as a fraction such as `1/2`.
    public var q: String
    public var scoringDeadline: Date
    public var challengeIDs: [Int]
    /// The formally passed bids the round reviews.
    public var bidCount: Int
    public var createdAt: Date
    public var closedAt: Date?
    public var revision: Int

    /// What a publisher sends to start a round.
    public struct Input: Codable, Sendable, Hashable {
        public var programmeID: Int
        public var name: String
        public var challengeIDs: [Int]
        /// Default: the programme's panel size (5 unless set), never below 3.
        public var panelSize: Int?
        /// Default 1.
        public var alternates: Int?
        /// Default `1` (the deterministic optimum); for example `1/2` or `0.5`.
        public var q: String?
        public var scoringDeadline: Date

        /// Creates an input.
        public init(
            programmeID: Int, name: String, challengeIDs: [Int], panelSize: Int? = nil, alternates: Int? = nil,
            q: String? = nil, scoringDeadline: Date
        ) {
            self.programmeID = programmeID
            self.name = name
            self.challengeIDs = challengeIDs
            self.panelSize = panelSize
            self.alternates = alternates
            self.q = q
            self.scoringDeadline = scoringDeadline
        }
    }

    /// One draw of a round as the publisher sees it. The seed stays hidden while the draw is pending;
    /// its SHA-256 is shown from the start.
    public struct DrawRecord: Codable, Sendable, Hashable {
        public var roundID: Int
        public var number: Int
        public var dryRun: Bool
        /// `pending`, `applied`, `previewed`, `failed` or `superseded`.
        public var status: String
        public var seedSha256: String
        /// The seed's decimal digits, once the draw has run.
        public var seed: String?
        /// The instance's fingerprint (16 hex digits), once the draw has run.
        public var fingerprint: String?
        /// Σ affinity · x of the fractional solution with the round's q.
        public var expectedAffinity: Double?
        /// Σ affinity of the deterministic optimum (q = 1).
        public var optimumAffinity: Double?
        /// `expectedAffinity` as a percentage of `optimumAffinity`: the price of q.
        public var percentOfOptimum: Double?
        /// Σ affinity of the sampled panels.
        public var drawnAffinity: Int?
        /// Why the draw failed, naming the bids.
        public var failure: String?
        public var requestedAt: Date
        public var finishedAt: Date?
        /// The seats and alternates the draw gave (shown once it has run).
        public var outcome: ReviewOutcome?
    }

    /// One assignment as the publisher sees it.
    public struct Seat: Codable, Sendable, Hashable {
        public var id: Int
        public var bidID: Int
        public var challengeID: Int
        public var expertID: Int
        public var expertName: String
        public var organisation: String
        /// `panel` or `alternate`.
        public var role: String
        public var alternateRank: Int?
        /// `active` or `recused`.
        public var status: String
        /// `drawn` or `replacement`.
        public var source: String
        public var recusalReason: String?
        public var drawNumber: Int
    }

    /// One of an expert's own assignments, with what they need to review the bid (never the other
    /// experts).
    public struct Assignment: Codable, Sendable, Hashable {
        public var id: Int
        public var roundID: Int
        public var roundName: String
        public var scoringDeadline: Date
        public var role: String
        public var alternateRank: Int?
        public var status: String
        public var bidID: Int
        public var challengeID: Int
        public var challengeTitle: String
        public var leadUnitName: String
        public var partnerUnitNames: [String]
        public var technicalRoute: String
        public var rdFoundation: String
        public var requestedFundingFen: Int
        public var totalInvestmentFen: Int
    }
}
