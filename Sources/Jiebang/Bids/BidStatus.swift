/// Where a bid (揭榜申请) stands.
///
/// ```text
/// draft ─submit→ submitted ─recommend→ recommended ─formal check→ formal_passed | formal_failed
///                submitted ─return→ returned ─submit→ submitted
///                submitted ─decline→ declined
/// draft | submitted | returned ─withdraw→ withdrawn
/// ```
/// A live bid (submitted, returned, recommended, checked) holds its units: each unit
/// is in at most one live bid per programme. Withdrawn and declined bids free them.
public enum BidStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case draft, submitted, returned, recommended, declined, withdrawn
    case formalPassed = "formal_passed"
    case formalFailed = "formal_failed"

    /// What is done to a bid.
    public enum Action: String, Sendable, Hashable {
        case submit, recommend, `return`, decline, withdraw, passFormalCheck, failFormalCheck
    }

    /// Why an action is refused in this status.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var status: BidStatus
        public var action: Action
        public var description: String { "a \(status.rawValue) bid cannot be \(action.pastTense)" }
    }

    /// Whether the bid holds its units.
    public var isLive: Bool {
        switch self {
        case .submitted, .returned, .recommended, .formalPassed, .formalFailed: true
        case .draft, .declined, .withdrawn: false
        }
    }

    /// Whether the lead may still change the bid's content and consortium.
    public var isEditable: Bool { self == .draft || self == .returned }

    /// The status after `action`.
    /// - Throws: `BidStatus.Problem` when the action does not apply.
    public func applying(_ action: Action) throws(Problem) -> BidStatus {
        switch (self, action) {
        case (.draft, .submit), (.returned, .submit), (.submitted, .submit): return .submitted
        case (.submitted, .recommend): return .recommended
        case (.submitted, .return): return .returned
        case (.submitted, .decline): return .declined
        case (.draft, .withdraw), (.submitted, .withdraw), (.returned, .withdraw): return .withdrawn
        case (.recommended, .passFormalCheck): return .formalPassed
        case (.recommended, .failFormalCheck): return .formalFailed
        default: throw Problem(status: self, action: action)
        }
    }
}

extension BidStatus.Action {
    var pastTense: String {
        switch self {
        case .submit: "submitted"
        case .recommend: "recommended"
        case .return: "returned"
        case .decline: "declined"
        case .withdraw: "withdrawn"
        case .passFormalCheck, .failFormalCheck: "formally checked"
        }
    }
}
