/// Where a project (攻关项目) stands; the database holds the same transitions (`projects_transition`).
///
/// ```text
/// executing ─requestAcceptance→ acceptance_requested ─assignExperts→ under_acceptance
/// under_acceptance ─pass→ accepted | ─passAfterRectification→ rectifying | ─fail→ failed
/// rectifying ─resubmit→ under_acceptance | ─fail→ failed
/// executing ─stop→ stopped   (赛马制: a racer stopped at a milestone review)
/// ```
public enum ProjectStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case executing
    case acceptanceRequested = "acceptance_requested"
    case underAcceptance = "under_acceptance"
    case rectifying, accepted, failed, stopped

    /// What is done to a project.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case requestAcceptance, assignExperts, pass, passAfterRectification, fail, resubmit, stop
    }

    /// Why an action is refused in this status.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var status: ProjectStatus
        public var action: Action
        public var description: String { "a \(status.rawValue) project cannot take the action \(action.rawValue)" }
    }

    /// Whether the project is over (accepted, failed or stopped).
    public var isFinal: Bool { self == .accepted || self == .failed || self == .stopped }

    /// The status after `action`.
    /// - Throws: `ProjectStatus.Problem` when the action does not apply.
    public func applying(_ action: Action) throws(Problem) -> ProjectStatus {
        switch (self, action) {
        case (.executing, .requestAcceptance): return .acceptanceRequested
        case (.executing, .stop): return .stopped
        case (.acceptanceRequested, .assignExperts): return .underAcceptance
        case (.underAcceptance, .pass): return .accepted
        case (.underAcceptance, .passAfterRectification): return .rectifying
        case (.underAcceptance, .fail), (.rectifying, .fail): return .failed
        case (.rectifying, .resubmit): return .underAcceptance
        default: throw Problem(status: self, action: action)
        }
    }
}
