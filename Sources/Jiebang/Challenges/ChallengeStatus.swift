public import Foundation

/// Where a challenge (榜单任务) stands.
///
/// ```text
/// draft ──publish──► published ──application deadline──► closed
/// ```
/// A draft is edited freely. Once published, every change is an amendment
/// with a reason, kept for everyone to see; a challenge never returns to draft.
/// The bid and review stages add the states after closed.
public enum ChallengeStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case draft, published, closed

    /// Why a transition is refused.
    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case notDraft(ChallengeStatus)
        case deadlinePassed
        case notOpen(ChallengeStatus)

        public var description: String {
            switch self {
            case .notDraft(let status): "only a draft can be published; this challenge is \(status.rawValue)"
            case .deadlinePassed: "the application deadline has already passed"
            case .notOpen(let status): "only a published challenge can be amended or closed; this one is \(status.rawValue)"
            }
        }
    }

    /// The status after publishing at `now` a challenge whose applications close at `deadline`.
    public func publishing(at now: Date, deadline: Date) throws(Problem) -> ChallengeStatus {
        guard self == .draft else { throw .notDraft(self) }
        guard deadline > now else { throw .deadlinePassed }
        return .published
    }

    /// The status at `now`: a published challenge closes when its deadline passes.
    public func closing(at now: Date, deadline: Date) -> ChallengeStatus {
        self == .published && deadline <= now ? .closed : self
    }

    /// Whether a change needs an amendment with a reason (rather than an edit of the draft).
    public var changesNeedAmendment: Bool { self != .draft }

    /// Checks that an amendment is allowed.
    public func amending() throws(Problem) {
        guard self == .published else { throw .notOpen(self) }
    }
}
