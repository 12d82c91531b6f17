public import Postgres

/// 需求库每半年更新 (seed 004): every half year a demand's unit confirms it or closes it. One not confirmed for six
/// months lapses (`ReminderScan.demandRefresh`, which also reminds the unit thirty days before); confirming a
/// lapsed demand reopens it; closing is final. The database holds the same transitions
/// (`definitions/21_demand_refresh.sql`).
public enum DemandRefresh {
    /// A demand's text as its unit changes it: every field a client may edit (the unit and programme stay).
    public struct Change: Codable, Sendable, Hashable {
        public var industryChain: String
        public var need: String
        public var supportConditions: String?
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        public var remarks: String?

        public init(
            industryChain: String, need: String, supportConditions: String? = nil, contactName: String, contactPhone: String,
            contactEmail: String, remarks: String? = nil
        ) {
            self.industryChain = industryChain
            self.need = need
            self.supportConditions = supportConditions
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
            self.remarks = remarks
        }
    }

    /// Changes the demand's text if it is still at `revision`; a change confirms it too (its half year starts again,
    /// and a lapsed demand is open again).
    /// - Throws: `DomainError` as `confirm` does, `.stale` for an older revision, `.invalid` listing every field at fault.
    public static func change(
        id: Int, _ change: Change, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> DemandFiling.Demand {
        let before = try await actionable(id: id, by: actor, verb: "change", on: tx)
        guard before.revision == revision else { throw DomainError.stale(current: before.revision) }
        let input = try DemandFiling.Input(
            programmeID: before.programmeID, unitID: before.unitID, industryChain: change.industryChain, need: change.need,
            supportConditions: change.supportConditions, contactName: change.contactName, contactPhone: change.contactPhone,
            contactEmail: change.contactEmail, remarks: change.remarks
        ).checked()
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE demands SET industry_chain = \(input.industryChain), need = \(input.need),
                       support_conditions = \(input.supportConditions ?? ""), contact_name = \(input.contactName),
                       contact_phone = \(input.contactPhone), contact_email = \(input.contactEmail), remarks = \(input.remarks ?? ""),
                       status = 'open', lapsed_at = NULL, confirmed_at = now()
                WHERE id = \(id)
                """)
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "demand.change", entity: "demand", entityID: "\(id)",
            before: ["status": before.status, "need": before.need], after: ["status": "open", "need": input.need], on: tx)
        return try await DemandFiling.demand(id: id, for: actor, on: tx)
    }

    /// Confirms that the demand still stands: its half year starts again, and a lapsed demand is open again.
    /// - Throws: `DomainError`: 404 for an unknown demand or one outside the actor's scope, 403 for a role that never
    ///   acts on demands, 409 for a closed demand.
    public static func confirm(id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> DemandFiling.Demand {
        let before = try await actionable(id: id, by: actor, verb: "confirm", on: tx)
        try await ConstraintCatalog.translating {
            try await tx.execute(
                "UPDATE demands SET status = 'open', lapsed_at = NULL, confirmed_at = now() WHERE id = \(id)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "demand.confirm", entity: "demand", entityID: "\(id)",
            before: ["status": before.status], after: ["status": "open"], on: tx)
        return try await DemandFiling.demand(id: id, for: actor, on: tx)
    }

    /// Closes the demand for good (solved, or no longer needed).
    /// - Throws: `DomainError` as `confirm` does.
    public static func close(id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> DemandFiling.Demand {
        let before = try await actionable(id: id, by: actor, verb: "close", on: tx)
        try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE demands SET status = 'closed', closed_at = now(), lapsed_at = NULL WHERE id = \(id)")
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "demand.close", entity: "demand", entityID: "\(id)",
            before: ["status": before.status], after: ["status": "closed"], on: tx)
        return try await DemandFiling.demand(id: id, for: actor, on: tx)
    }

    /// The demand, locked, if the actor may act on it (its unit's people, or a bureau that may file for the unit)
    /// and it is not closed.
    private static func actionable(id: Int, by actor: Actor, verb: String, on tx: PostgresConnection) async throws -> DemandFiling.Demand {
        let roles: Set<Role> = [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher]
        try AccessPolicy.require(actor, roles, to: "\(verb) a demand")
        guard
            let (unitID, region, status) = try await tx.query(
                "SELECT unit_id, region_code, status FROM demands WHERE id = \(id) FOR UPDATE"
            ).first?.decode((Int, String, String).self),
            AccessPolicy.mayFileDemand(unitID: unitID, regionCode: region, by: actor)
        else {
            throw DomainError.notFound("no demand has id \(id)")
        }
        guard status != "closed" else {
            throw DomainError.conflict(field: "status", message: "demand \(id) is closed; file a new one instead")
        }
        return try await DemandFiling.demand(id: id, for: actor, on: tx)
    }
}
