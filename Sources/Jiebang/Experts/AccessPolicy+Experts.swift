extension AccessPolicy {
    /// Whether the actor keeps the expert pool of `bureauID`: a publisher of that provincial bureau.
    public static func mayManageExperts(ofBureau bureauID: Int, by actor: Actor) -> Bool {
        actor.role == .provincialPublisher && actor.bureauID == bureauID
    }

    /// Whether the actor may read an expert's profile and ties: the pool's publisher, or the expert.
    public static func mayReadExpert(id: Int, bureauID: Int, by actor: Actor) -> Bool {
        mayManageExperts(ofBureau: bureauID, by: actor) || (actor.role == .expert && actor.userID == id)
    }
}
