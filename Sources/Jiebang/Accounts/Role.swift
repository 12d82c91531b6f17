/// What a user may do, and over which scope (see domain.md, "Who uses the system").
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// 省工信厅 staff: runs programmes, publishes challenges. Scope: a provincial bureau.
    case provincialPublisher = "provincial_publisher"
    /// 市州工信部门 staff: recommends the bids of one region. Scope: a municipal bureau.
    case municipalRecommender = "municipal_recommender"
    /// A member of a unit: drafts demands and bids. Scope: one unit.
    case unitMember = "unit_member"
    /// A unit's administrator: invites members, accepts consortium invitations. Scope: one unit.
    case unitAdmin = "unit_admin"
    /// A reviewer from the expert pool.
    case expert
    /// Runs the system itself.
    case systemAdmin = "system_admin"
}
