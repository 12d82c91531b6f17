/// What can make the review solver refuse an instance.
public enum ReviewSolverError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No assignment satisfies the constraints; `bids` are the bids that cannot be staffed (in input
    /// order, by id) and `reason` says which constraint stops them.
    case infeasible(bids: [String], reason: InfeasibilityReason)
    /// The instance itself is malformed (unknown id, duplicate, negative load, absurd size); the text
    /// names the field.
    case invalidInput(String)

    /// A sentence for logs and the command line.
    public var description: String {
        switch self {
        case .infeasible(let bids, let reason):
            let shown = bids.prefix(20).joined(separator: ", ")
            let more = bids.count > 20 ? " and \(bids.count - 20) more" : ""
            return "infeasible: \(reason) — bids: \(shown)\(more)"
        case .invalidInput(let text):
            return "invalid input: \(text)"
        }
    }
}

/// The constraint that makes an instance infeasible.
public enum InfeasibilityReason: Equatable, Sendable, CustomStringConvertible {
    /// After conflicts, the bid's eligible experts (at most one per organisation, each at most `q`)
    /// can cover only `available` of the `required` panel seats (both in units of `1/denominator`).
    case tooFewEligibleExperts(required: Int, available: Int, denominator: Int)
    /// Every bid has enough eligible experts on its own, but the experts' load caps cannot cover all
    /// panels at once; the named bids are those left short.
    case loadCapsExhausted(totalLoad: Int, seatsNeeded: Int)

    /// A sentence naming the constraint.
    public var description: String {
        switch self {
        case .tooFewEligibleExperts(let required, let available, let denominator):
            let scale = denominator == 1 ? "" : " (in 1/\(denominator) seats)"
            return "too few eligible experts after conflicts, organisation rule and cap q: \(available) of \(required) seats\(scale)"
        case .loadCapsExhausted(let totalLoad, let seatsNeeded):
            return "expert load caps exhausted (total load \(totalLoad), seats needed \(seatsNeeded))"
        }
    }
}
