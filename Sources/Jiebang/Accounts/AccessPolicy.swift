/// Who may do what, over which scope: pure rules over the signed-in `Actor`.
///
/// Stores load the scope of the thing acted on (its unit, region or bureau) and ask here.
/// A refusal names the action, so the client learns what it lacks.
public enum AccessPolicy {
    /// Requires one of `roles`.
    public static func require(_ actor: Actor, _ roles: Set<Role>, to action: String) throws(DomainError) {
        guard roles.contains(actor.role) else {
            throw .forbidden("a \(actor.role.rawValue) may not \(action)")
        }
    }

    /// Whether the actor may see a unit's private data (contacts, demands): its own people,
    /// the recommender of its region, a publisher of its province, a system admin.
    public static func mayRead(unitID: Int, regionCode: String, by actor: Actor) -> Bool {
        switch actor.role {
        case .systemAdmin: true
        case .unitMember, .unitAdmin: actor.unitID == unitID
        case .municipalRecommender: actor.regionCode == regionCode
        case .provincialPublisher: actor.regionCode.map { $0.prefix(2) == regionCode.prefix(2) } ?? false
        case .expert: false
        }
    }

    /// Whose units' records a list shows the actor, as `mayRead` decides for one: a unit's people their unit's, a
    /// municipal recommender its region's, a provincial publisher its province's (a two-digit prefix); nil filters
    /// nothing (a system admin sees all).
    public static func listScope(of actor: Actor) -> (unitID: Int?, regionCode: String?, province: String?) {
        (
            [.unitMember, .unitAdmin].contains(actor.role) ? actor.unitID : nil,
            actor.role == .municipalRecommender ? actor.regionCode : nil,
            actor.role == .provincialPublisher ? actor.regionCode.map { String($0.prefix(2)) } : nil
        )
    }

    /// Whether the actor may file a demand for a unit: its own people, or a bureau on its behalf.
    public static func mayFileDemand(unitID: Int, regionCode: String, by actor: Actor) -> Bool {
        actor.role != .systemAdmin && mayRead(unitID: unitID, regionCode: regionCode, by: actor)
    }

    /// Whether the actor may edit a unit's record: its unit admin or a system admin.
    public static func mayEdit(unitID: Int, by actor: Actor) -> Bool {
        actor.role == .systemAdmin || (actor.role == .unitAdmin && actor.unitID == unitID)
    }

    /// Whether the actor confirms units of `unitRegion` against their business licences (and changes their
    /// credit code or region): the municipal recommender of that region, or a system admin.
    public static func mayVerify(unitRegion: String, by actor: Actor) -> Bool {
        actor.role == .systemAdmin || (actor.role == .municipalRecommender && actor.regionCode == unitRegion)
    }

    /// Requires a publisher of `bureauID`'s programmes. A publisher of another bureau gets `.notFound(missing)`, the
    /// words for an id that does not exist (see `DomainError.refusal`); any other role gets 403 with `reason`.
    public static func requireManager(ofBureau bureauID: Int, _ actor: Actor, missing: String, reason: String) throws(DomainError) {
        guard mayManageProgrammes(ofBureau: bureauID, by: actor) else {
            throw .refusal(of: actor, scopedRoles: [.provincialPublisher], missing: missing, reason: reason)
        }
    }

    /// Whether the actor runs the programmes of `bureauID`: a publisher of that bureau.
    public static func mayManageProgrammes(ofBureau bureauID: Int, by actor: Actor) -> Bool {
        actor.role == .provincialPublisher && actor.bureauID == bureauID
    }
}
