public import Foundation

/// A project (攻关项目): a final award in execution, with its task book (任务书), milestones, tranches,
/// yearly progress reports and change requests.
public struct Project: Codable, Sendable, Hashable {
    public var id: Int
    public var bidID: Int
    public var challengeID: Int
    public var programmeID: Int
    public var leadUnitID: Int
    public var regionCode: String
    public var status: ProjectStatus
    public var awardFen: Int
    /// Σ of paid tranches.
    public var paidFen: Int
    public var completionDeadline: String
    public var originalCompletionDeadline: String
    public var stoppedReason: String?
    public var indicators: [Indicator]
    public var milestones: [Milestone]
    public var tranches: [Tranche]
    public var revision: Int

    /// A task-book indicator: the challenge's text and bound, and the contracted target.
    public struct Indicator: Codable, Sendable, Hashable {
        public var position: Int
        public var challengeText: String
        public var direction: String
        public var challengeThreshold: Decimal?
        public var target: Decimal?
        public var targetText: String
    }

    /// A milestone (里程碑).
    public struct Milestone: Codable, Sendable, Hashable {
        public var id: Int
        public var position: Int
        public var title: String
        public var dueOn: String
        public var deliverables: String
        /// `planned`, `submitted`, `approved` or `rejected`.
        public var status: String
    }

    /// A tranche of the award.
    public struct Tranche: Codable, Sendable, Hashable {
        public var id: Int
        /// The milestone it is tied to, by id; absent for the tranche paid on signing.
        public var milestoneID: Int?
        public var amountFen: Int
        /// `scheduled`, `paid` or `cancelled`.
        public var status: String
        public var paidAt: Date?
        /// 后补助: the share of the verified spend, scheduled when the acceptance passed.
        public var postSubsidy: Bool
    }

    /// What the publisher sends to turn a final award into a project.
    public struct Input: Codable, Sendable, Hashable {
        public var bidID: Int
        public var awardFen: Int
        /// Default: the challenge's completion deadline.
        public var completionDeadline: String?
        /// One per indicator of the challenge, in its order.
        public var indicators: [IndicatorTarget]
        public var milestones: [MilestoneInput]
        public var tranches: [TrancheInput]

        public init(
            bidID: Int, awardFen: Int, completionDeadline: String? = nil, indicators: [IndicatorTarget],
            milestones: [MilestoneInput], tranches: [TrancheInput]
        ) {
            self.bidID = bidID
            self.awardFen = awardFen
            self.completionDeadline = completionDeadline
            self.indicators = indicators
            self.milestones = milestones
            self.tranches = tranches
        }
    }

    /// A contracted target: a number for an indicator with a bound, and the text in any case.
    public struct IndicatorTarget: Codable, Sendable, Hashable {
        public var target: Decimal?
        public var targetText: String

        public init(target: Decimal?, targetText: String) {
            self.target = target
            self.targetText = targetText
        }
    }

    /// A planned milestone.
    public struct MilestoneInput: Codable, Sendable, Hashable {
        public var title: String
        public var dueOn: String
        public var deliverables: String

        public init(title: String, dueOn: String, deliverables: String) {
            self.title = title
            self.dueOn = dueOn
            self.deliverables = deliverables
        }
    }

    /// A planned tranche: on signing (no milestone) or on the approval of milestone `milestone` (1-based).
    public struct TrancheInput: Codable, Sendable, Hashable {
        public var milestone: Int?
        public var amountFen: Int

        public init(milestone: Int?, amountFen: Int) {
            self.milestone = milestone
            self.amountFen = amountFen
        }
    }
}
