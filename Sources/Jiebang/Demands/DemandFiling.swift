public import Foundation
public import Postgres

/// Technology demands filed one at a time, and read within the reader's scope.
public enum DemandFiling {
    /// A demand as a client sends it: the row of seed 000's table, for a registered unit.
    public struct Input: Codable, Sendable, Hashable {
        /// The programme the demand is collected for, if any.
        public var programmeID: Int?
        /// The enterprise with the need (a bureau files on an enterprise's behalf).
        public var unitID: Int
        /// 所属重点产业链.
        public var industryChain: String
        /// 技术需求.
        public var need: String
        /// 支持条件: site, equipment, people and money the enterprise offers.
        public var supportConditions: String?
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        /// 备注.
        public var remarks: String?

        public init(
            programmeID: Int? = nil, unitID: Int, industryChain: String, need: String, supportConditions: String? = nil,
            contactName: String, contactPhone: String, contactEmail: String, remarks: String? = nil
        ) {
            self.programmeID = programmeID
            self.unitID = unitID
            self.industryChain = industryChain
            self.need = need
            self.supportConditions = supportConditions
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
            self.remarks = remarks
        }

        /// The input trimmed.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked() throws(DomainError) -> Input {
            var result = self
            result.industryChain = industryChain.trimmingCharacters(in: .whitespacesAndNewlines)
            result.need = need.trimmingCharacters(in: .whitespacesAndNewlines)
            result.supportConditions = supportConditions ?? ""
            result.contactName = contactName.trimmingCharacters(in: .whitespacesAndNewlines)
            result.contactPhone = contactPhone.trimmingCharacters(in: .whitespaces)
            result.contactEmail = contactEmail.trimmingCharacters(in: .whitespaces)
            result.remarks = remarks ?? ""
            var checker = FieldChecker()
            if unitID <= 0 { checker.add("unitID", "must be a unit's id") }
            if let programmeID, programmeID <= 0 { checker.add("programmeID", "must be a programme's id") }
            DemandLimits.check(
                DemandLimits.Fields(
                    industryChain: industryChain, need: need, supportConditions: result.supportConditions ?? "",
                    contactName: contactName, contactPhone: result.contactPhone, contactEmail: result.contactEmail,
                    remarks: result.remarks ?? ""),
                into: &checker)
            try checker.check()
            return result
        }
    }

    /// A filed demand.
    public struct Demand: Codable, Sendable, Hashable {
        public var id: Int
        public var revision: Int
        public var programmeID: Int?
        public var unitID: Int
        public var unitName: String
        public var filedByBureauID: Int?
        public var regionCode: String
        public var industryChain: String
        public var need: String
        public var supportConditions: String
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        public var remarks: String
        public var createdAt: Date
        /// `open`, `closed` (by its unit, final) or `lapsed` (not confirmed for six months; confirming reopens it).
        public var status: String
        /// When it was filed or last confirmed (`DemandRefresh`).
        public var confirmedAt: Date
        /// When it lapses unless confirmed, changed or closed before: six months after `confirmedAt`.
        public var refreshDueAt: Date
        public var closedAt: Date?
        public var lapsedAt: Date?
    }

    /// Files a demand for a unit the actor belongs to or, for a bureau, a unit in its region.
    /// - Throws: `DomainError` (unknown unit or programme, a unit outside the actor's scope, invalid fields).
    public static func file(_ input: Input, by actor: Actor, on tx: PostgresConnection) async throws -> Demand {
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a demand")
        let input = try input.checked()
        guard
            let (region, verification) = try await tx.query(
                "SELECT region_code, verification FROM units WHERE id = \(input.unitID)"
            ).first?.decode((String, String).self)
        else { throw DomainError.invalid("unitID", "no unit has id \(input.unitID)") }
        guard AccessPolicy.mayFileDemand(unitID: input.unitID, regionCode: region, by: actor) else {
            throw DomainError.forbidden("unit \(input.unitID) is outside your scope")
        }
        // A bureau files only for a unit it has verified: an unverified unit may be squatting someone's code.
        if actor.unitID != input.unitID, verification != "verified" {
            throw DomainError.conflict(field: "unitID", message: "unit \(input.unitID) is not verified yet; verify it before filing for it")
        }
        if let programmeID = input.programmeID,
            try await tx.query("SELECT 1 FROM programmes WHERE id = \(programmeID)").first == nil
        {
            throw DomainError.invalid("programmeID", "no programme has id \(programmeID)")
        }
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO demands (programme_id, unit_id, filed_by_bureau_id, region_code, industry_chain, need,
                                     support_conditions, contact_name, contact_phone, contact_email, remarks)
                VALUES (\(input.programmeID), \(input.unitID), \(actor.bureauID), \(region), \(input.industryChain),
                        \(input.need), \(input.supportConditions), \(input.contactName), \(input.contactPhone),
                        \(input.contactEmail), \(input.remarks))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "demand.file", entity: "demand", entityID: "\(id)",
                after: ["unitID": "\(input.unitID)", "industryChain": input.industryChain], on: tx)
            return try await demand(id: id, for: actor, on: tx)
        }
    }

    /// A demand, if the actor may read its unit's private data.
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func demand(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Demand {
        guard let row = try await db.query("\(unsafeRaw: select) WHERE d.id = \(id)").first else {
            throw DomainError.notFound("no demand has id \(id)")
        }
        let demand = try decode(row)
        guard AccessPolicy.mayRead(unitID: demand.unitID, regionCode: demand.regionCode, by: actor) else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.unitAdmin, .unitMember, .municipalRecommender, .provincialPublisher],
                missing: "no demand has id \(id)", reason: "demand \(id) is outside your scope")
        }
        return demand
    }

    /// The demands the actor may read, newest first: a unit's own, a region's, a province's or (for a system admin) all.
    /// - Parameters:
    ///   - programmeID: only the demands of this programme.
    ///   - beforeID: continue below this id (the previous page's last id).
    public static func list(
        programmeID: Int?, beforeID: Int?, limit: Int, for actor: Actor, on db: PostgresConnection
    ) async throws -> [Demand] {
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher, .systemAdmin], to: "list demands")
        let (unitID, region, province) = AccessPolicy.listScope(of: actor)
        return try await db.query(
            """
            \(unsafeRaw: select)
            WHERE (\(unitID)::bigint IS NULL OR d.unit_id = \(unitID))
              AND (\(region)::text IS NULL OR d.region_code = \(region))
              AND (\(province)::text IS NULL OR left(d.region_code, 2) = \(province))
              AND (\(programmeID)::bigint IS NULL OR d.programme_id = \(programmeID))
              AND (\(beforeID)::bigint IS NULL OR d.id < \(beforeID))
            ORDER BY d.id DESC
            LIMIT \(min(max(limit, 1), 200))
            """
        ).map(decode)
    }

    static let select = """
        SELECT d.id, d.revision, d.programme_id, d.unit_id, u.name, d.filed_by_bureau_id, d.region_code, d.industry_chain,
               d.need, d.support_conditions, d.contact_name, d.contact_phone, d.contact_email, d.remarks, d.created_at,
               d.status, d.confirmed_at, d.confirmed_at + interval '6 months', d.closed_at, d.lapsed_at
        FROM demands d JOIN units u ON u.id = d.unit_id
        """

    static func decode(_ row: PostgresRow) throws -> Demand {
        Demand(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            programmeID: try row.decode(Int?.self, at: 2), unitID: try row.decode(Int.self, at: 3),
            unitName: try row.decode(String.self, at: 4), filedByBureauID: try row.decode(Int?.self, at: 5),
            regionCode: try row.decode(String.self, at: 6), industryChain: try row.decode(String.self, at: 7),
            need: try row.decode(String.self, at: 8), supportConditions: try row.decode(String.self, at: 9),
            contactName: try row.decode(String.self, at: 10), contactPhone: try row.decode(String.self, at: 11),
            contactEmail: try row.decode(String.self, at: 12), remarks: try row.decode(String.self, at: 13),
            createdAt: try row.decode(Date.self, at: 14), status: try row.decode(String.self, at: 15),
            confirmedAt: try row.decode(Date.self, at: 16), refreshDueAt: try row.decode(Date.self, at: 17),
            closedAt: try row.decode(Date?.self, at: 18), lapsedAt: try row.decode(Date?.self, at: 19))
    }
}
