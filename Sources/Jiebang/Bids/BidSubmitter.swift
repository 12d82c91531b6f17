extension BidStore {
    /// Who submits a bid: an actor already identified, or a bearer token that the submission's first statement
    /// looks up, so that a request needs one round trip to PostgreSQL fewer.
    public enum Submitter: Sendable {
        /// An actor identified before.
        case actor(Actor)
        /// A token not looked up yet. `admit` is given what the lookup found (nil: unknown, expired, revoked or
        /// its user disabled) before any rule is checked; it returns the actor or throws the refusal, which
        /// rolls the transaction back. The bid is locked only for a token that exists with the write scope.
        case token(AccessToken, admit: @Sendable (TokenUse?) throws -> Actor)
    }
}
