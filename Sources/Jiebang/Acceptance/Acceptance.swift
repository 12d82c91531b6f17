public import Foundation

/// An acceptance of a project (验收), as its readers see it.
public struct Acceptance: Codable, Sendable, Hashable {
    public var id: Int
    public var projectID: Int
    /// 1, or 2 after 整改后通过.
    public var attempt: Int
    /// requested, assigned, concluded or draw_failed.
    public var status: String
    public var summary: String
    public var spentFen: Int
    public var panelSize: Int
    /// The SHA-256 of the draw's seed, recorded with the request before the draw ran.
    public var seedSha256: String
    /// The seed, revealed once the draw has run (its SHA-256 was recorded before).
    public var seed: String?
    public var results: [Result]
    /// Verdicts received so far.
    public var verdicts: Int
    /// The panel and its verdicts: for the programme's publisher only.
    public var panel: [Seat]?
    public var financialPassed: Bool?
    public var financialNote: String
    public var taskConclusion: AcceptanceConclusion?
    public var conclusion: AcceptanceConclusion?
    /// Why the draw failed, when it did.
    public var failure: String?
    public var requestedAt: Date
    public var assignedAt: Date?
    public var concludedAt: Date?
    /// Until when a rectified project may be resubmitted (after 整改后通过).
    public var rectifyBy: Date?

    /// The lead's result for one task-book indicator.
    public struct Result: Codable, Sendable, Hashable {
        public var position: Int
        public var result: Decimal?
        public var resultText: String
    }

    /// One acceptance expert and their verdict.
    public struct Seat: Codable, Sendable, Hashable {
        public var expertID: Int
        public var verdict: Verdict?
    }

    /// An expert's verdict.
    public struct Verdict: Codable, Sendable, Hashable {
        /// Per task-book indicator, in order: met or not.
        public var indicatorsMet: [Bool]
        public var dataTrue: Bool
        /// The targets are those contracted (no change without approval).
        public var targetsKept: Bool
        public var conclusion: AcceptanceConclusion
        public var comment: String?

        /// Creates a verdict.
        public init(indicatorsMet: [Bool], dataTrue: Bool, targetsKept: Bool, conclusion: AcceptanceConclusion, comment: String? = nil) {
            self.indicatorsMet = indicatorsMet
            self.dataTrue = dataTrue
            self.targetsKept = targetsKept
            self.conclusion = conclusion
            self.comment = comment
        }
    }

    /// What the lead sends to request acceptance.
    public struct Input: Codable, Sendable, Hashable {
        public var summary: String
        public var spentFen: Int
        public var results: [ResultInput]

        /// Creates a request.
        public init(summary: String, spentFen: Int, results: [ResultInput]) {
            self.summary = summary
            self.spentFen = spentFen
            self.results = results
        }
    }

    /// A result for one indicator, in the task book's order.
    public struct ResultInput: Codable, Sendable, Hashable {
        public var result: Decimal?
        public var resultText: String

        /// Creates a result.
        public init(result: Decimal?, resultText: String) {
            self.result = result
            self.resultText = resultText
        }
    }
}
