/// Who is making a request: the signed-in user, their role and scope.
public struct Actor: Sendable, Hashable {
    /// The user's id.
    public var userID: Int
    /// The user's display name, for audit rows.
    public var displayName: String
    /// The role.
    public var role: Role
    /// The unit of a unit member or admin (or an expert's home unit).
    public var unitID: Int?
    /// The bureau of a publisher or recommender.
    public var bureauID: Int?
    /// The bureau's region: a province (publisher) or prefecture (recommender).
    public var regionCode: String?

    /// Creates an actor.
    public init(userID: Int, displayName: String, role: Role, unitID: Int?, bureauID: Int?, regionCode: String?) {
        self.userID = userID
        self.displayName = displayName
        self.role = role
        self.unitID = unitID
        self.bureauID = bureauID
        self.regionCode = regionCode
    }
}
