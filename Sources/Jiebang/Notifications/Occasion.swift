/// Why a notification is sent. Each occasion has a message template (a file in `Templates/`) and is
/// mandatory (cannot be muted) or optional; the database keeps the same list in `notification_occasions`.
public enum Occasion: String, Sendable, Hashable, Codable, CaseIterable {
    /// Seven days before an application deadline, to units with draft or returned bids on the challenge.
    case applicationDeadlineWeek = "application_deadline.t7"
    /// One day before an application deadline, to the same units.
    case applicationDeadlineDay = "application_deadline.t1"
    /// A bid returned for revision by its city's recommender, to the lead unit.
    case bidReturned = "bid.returned"
    /// A unit invited into a consortium, to that unit.
    case bidInvited = "bid.invited"
    /// An expert seated on review panels (by a draw, a promotion from alternate or a replacement), to that expert.
    case reviewAssigned = "review.assigned"
    /// Three days before a round's scoring deadline, to experts with unsubmitted panel scores.
    case reviewDueThreeDays = "review.due.t3"
    /// One day before a round's scoring deadline, to the same experts.
    case reviewDueOneDay = "review.due.t1"
    /// After the scoring deadline of a round not yet closed, to experts whose scores are still missing.
    case reviewOverdue = "review.overdue"
    /// From 1 to 10 December, to municipal recommenders of regions with executing projects whose report for
    /// the year is missing.
    case progressReportDue = "progress_report.due"
    /// From 11 December, to the same recommenders while reports are still missing.
    case progressReportOverdue = "progress_report.overdue"
    /// An expert drawn for a project's acceptance, to that expert.
    case acceptanceAssigned = "acceptance.assigned"
    /// A project past its completion date without an acceptance request, to the lead unit's admins.
    case acceptanceOverdue = "acceptance.overdue"
    /// Seven days before a milestone's due date while it is not submitted, to the lead unit's people.
    case milestoneDue = "milestone.due"
    /// After a milestone's due date while it is not submitted, to the same people.
    case milestoneOverdue = "milestone.overdue"
    /// From three days before a programme's recommendation window closes, to each municipal recommender
    /// whose city has submitted bids not yet decided.
    case recommendationDue = "recommendation.due"
    /// Thirty days before a demand lapses (six months after it was last confirmed), to its unit's admins and members.
    case demandRefreshDue = "demand.refresh_due"
    /// When a demand lapsed, to the same people.
    case demandLapsed = "demand.lapsed"

    /// Whether users may not mute it.
    public var isMandatory: Bool {
        switch self {
        case .applicationDeadlineWeek, .applicationDeadlineDay, .reviewDueThreeDays, .reviewDueOneDay, .progressReportDue, .milestoneDue,
            .recommendationDue,
            .demandRefreshDue:
            false
        case .bidReturned, .bidInvited, .reviewAssigned, .reviewOverdue, .progressReportOverdue, .acceptanceAssigned, .acceptanceOverdue,
            .milestoneOverdue, .demandLapsed:
            true
        }
    }
}
