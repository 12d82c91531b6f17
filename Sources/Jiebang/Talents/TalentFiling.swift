public import Foundation
public import Postgres

/// The talent pool (人才库, seeds 000 and 004): the people a unit of any kind offers, with their fields, industry
/// chains, keywords and availability, filed and changed by the unit (or a bureau for it). Read within the reader's
/// scope, as results are: a unit sees its own people, a bureau its region's or province's; no other unit sees a record,
/// so the contacts stay with the unit and its bureaus. A talent who is also an expert names that expert, once
/// (`definitions/24_talent_pool.sql`).
public enum TalentFiling {
    /// How far a person takes on new work: available, limited (some capacity, by arrangement), unavailable (listed,
    /// not to be offered now).
    public static let availabilities = ["available", "limited", "unavailable"]

    /// A person as a client files or changes them.
    public struct Input: Codable, Sendable, Hashable {
        /// The unit the person works for (a bureau files on its behalf); a change keeps it.
        public var unitID: Int
        public var name: String
        /// 职称, such as 教授 or 正高级工程师.
        public var title: String?
        /// 技术领域, 1 to 10.
        public var fields: [String]
        /// 所属产业链.
        public var industryChains: [String]?
        public var keywords: [String]?
        /// What the person works on and has achieved.
        public var summary: String
        /// One of `availabilities`; available when absent.
        public var availability: String?
        /// The expert this person is, when they are in an expert pool too: an expert of the same unit.
        public var expertID: Int?
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String

        public init(
            unitID: Int, name: String, title: String? = nil, fields: [String], industryChains: [String]? = nil,
            keywords: [String]? = nil, summary: String, availability: String? = nil, expertID: Int? = nil, contactName: String,
            contactPhone: String, contactEmail: String
        ) {
            self.unitID = unitID
            self.name = name
            self.title = title
            self.fields = fields
            self.industryChains = industryChains
            self.keywords = keywords
            self.summary = summary
            self.availability = availability
            self.expertID = expertID
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
        }

        /// The input trimmed, with the defaults filled in.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked() throws(DomainError) -> Input {
            func trimmed(_ items: [String]?) -> [String] {
                (items ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            var result = self
            result.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            result.title = (title ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            result.fields = trimmed(fields)
            result.industryChains = trimmed(industryChains)
            result.keywords = trimmed(keywords)
            result.summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
            result.availability = availability ?? "available"
            result.contactName = contactName.trimmingCharacters(in: .whitespacesAndNewlines)
            result.contactPhone = contactPhone.trimmingCharacters(in: .whitespaces)
            result.contactEmail = contactEmail.trimmingCharacters(in: .whitespaces)
            var checker = FieldChecker()
            if unitID <= 0 { checker.add("unitID", "must be a unit's id") }
            checker.name("name", result.name, 1...100)
            checker.name("title", result.title ?? "", 0...50)
            Self.tags("fields", result.fields, count: 1...10, length: 50, &checker)
            Self.tags("industryChains", result.industryChains ?? [], count: 0...10, length: 50, &checker)
            Self.tags("keywords", result.keywords ?? [], count: 0...20, length: 20, &checker)
            checker.length("summary", result.summary, 10...2000)
            if !TalentFiling.availabilities.contains(result.availability ?? "") {
                checker.add("availability", "must be one of \(TalentFiling.availabilities.joined(separator: ", "))")
            }
            if let expertID, expertID <= 0 { checker.add("expertID", "must be an expert's id") }
            checker.name("contactName", result.contactName, 1...100)
            checker.phone("contactPhone", result.contactPhone)
            checker.email("contactEmail", result.contactEmail)
            try checker.check()
            return result
        }

        /// Requires `count` distinct items of 1 to `length` characters each.
        static func tags(_ field: String, _ items: [String], count: ClosedRange<Int>, length: Int, _ checker: inout FieldChecker) {
            if !count.contains(items.count) {
                checker.add(
                    field,
                    count.lowerBound > 0
                        ? "must have \(count.lowerBound) to \(count.upperBound) items" : "must have at most \(count.upperBound) items")
            }
            if Set(items).count != items.count { checker.add(field, "must not repeat an item") }
            if items.contains(where: { FieldChecker.controlCharacter(in: $0, singleLine: true) != nil }) {
                checker.add(field, "must not contain control characters, tabs or line breaks")
            }
            if items.contains(where: { $0.isEmpty || $0.unicodeScalars.count > length }) {
                checker.add(field, "each must have 1 to \(length) characters")
            }
        }
    }

    /// A person in the pool.
    public struct Talent: Codable, Sendable, Hashable {
        public var id: Int
        public var revision: Int
        public var unitID: Int
        public var unitName: String
        public var regionCode: String
        /// The expert this person is, if they are in an expert pool too.
        public var expertID: Int?
        public var filedByBureauID: Int?
        public var name: String
        public var title: String
        public var fields: [String]
        public var industryChains: [String]
        public var keywords: [String]
        public var summary: String
        public var availability: String
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// Files a person of the actor's own unit or, for a bureau, of a verified unit in its region or province.
    /// - Throws: `DomainError` (invalid fields, an unknown unit, a unit outside the actor's scope, an expert of another
    ///   unit, an expert who has a record already).
    public static func file(_ input: Input, by actor: Actor, on tx: PostgresConnection) async throws -> Talent {
        try AccessPolicy.require(actor, filers, to: "file a talent")
        let input = try input.checked()
        guard
            let (region, verification) = try await tx.query(
                "SELECT region_code, verification FROM units WHERE id = \(input.unitID)"
            ).first?.decode((String, String).self)
        else { throw DomainError.invalid("unitID", "no unit has id \(input.unitID)") }
        guard AccessPolicy.mayFileDemand(unitID: input.unitID, regionCode: region, by: actor) else {
            throw DomainError.forbidden("unit \(input.unitID) is outside your scope")
        }
        if actor.unitID != input.unitID, verification != "verified" {
            throw DomainError.conflict(field: "unitID", message: "unit \(input.unitID) is not verified yet; verify it before filing for it")
        }
        try await requireExpert(input.expertID, ofUnit: input.unitID, on: tx)
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO talents (unit_id, region_code, expert_id, filed_by_bureau_id, name, title, fields, industry_chains,
                                     keywords, summary, availability, contact_name, contact_phone, contact_email)
                VALUES (\(input.unitID), \(region), \(input.expertID), \(actor.bureauID), \(input.name), \(input.title ?? ""),
                        \(input.fields), \(input.industryChains ?? []), \(input.keywords ?? []), \(input.summary),
                        \(input.availability ?? "available"), \(input.contactName), \(input.contactPhone), \(input.contactEmail))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "talent.file", entity: "talent", entityID: "\(id)",
                after: ["unitID": "\(input.unitID)", "availability": input.availability ?? "available"], on: tx)
            return try await talent(id: id, for: actor, on: tx)
        }
    }

    /// Replaces a person's record if it is still at `revision`; the unit stays (a person who moves is filed anew by
    /// the new unit).
    /// - Throws: `DomainError`: 404 for an unknown record or one outside the actor's scope, 403 for a role that never
    ///   files people, `.stale` for an older revision, `.invalid` listing every field at fault.
    public static func change(id: Int, _ input: Input, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection)
        async throws -> Talent
    {
        try AccessPolicy.require(actor, filers, to: "change a talent")
        guard
            let (unitID, region, current, availability) = try await tx.query(
                "SELECT unit_id, region_code, revision, availability FROM talents WHERE id = \(id) FOR UPDATE"
            ).first?.decode((Int, String, Int, String).self),
            AccessPolicy.mayFileDemand(unitID: unitID, regionCode: region, by: actor)
        else { throw DomainError.notFound("no talent has id \(id)") }
        guard current == revision else { throw DomainError.stale(current: current) }
        let input = try input.checked()
        guard input.unitID == unitID else {
            throw DomainError.invalid("unitID", "must stay \(unitID); a person who moves is filed anew by the new unit")
        }
        try await requireExpert(input.expertID, ofUnit: unitID, on: tx)
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE talents SET expert_id = \(input.expertID), name = \(input.name), title = \(input.title ?? ""),
                       fields = \(input.fields), industry_chains = \(input.industryChains ?? []), keywords = \(input.keywords ?? []),
                       summary = \(input.summary), availability = \(input.availability ?? "available"),
                       contact_name = \(input.contactName), contact_phone = \(input.contactPhone), contact_email = \(input.contactEmail)
                WHERE id = \(id)
                """)
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "talent.change", entity: "talent", entityID: "\(id)",
            before: ["availability": availability], after: ["availability": input.availability ?? "available"], on: tx)
        return try await talent(id: id, for: actor, on: tx)
    }

    /// A person's record, if the actor may read its unit's data.
    /// - Throws: `DomainError.notFound` (also for another's record, as for a missing id) or `.forbidden`.
    public static func talent(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Talent {
        guard let row = try await db.query("\(unsafeRaw: select) WHERE t.id = \(id)").first else {
            throw DomainError.notFound("no talent has id \(id)")
        }
        let talent = try decode(row)
        guard AccessPolicy.mayRead(unitID: talent.unitID, regionCode: talent.regionCode, by: actor) else {
            throw DomainError.refusal(
                of: actor, scopedRoles: filers, missing: "no talent has id \(id)", reason: "talent \(id) is outside your scope")
        }
        return talent
    }

    /// The people the actor may read, newest first: a unit's own, a region's, a province's or (a system admin) all.
    public static func list(beforeID: Int?, limit: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Talent] {
        try AccessPolicy.require(actor, filers.union([.systemAdmin]), to: "list talents")
        let (unitID, region, province) = AccessPolicy.listScope(of: actor)
        return try await db.query(
            """
            \(unsafeRaw: select)
            WHERE (\(unitID)::bigint IS NULL OR t.unit_id = \(unitID))
              AND (\(region)::text IS NULL OR t.region_code = \(region))
              AND (\(province)::text IS NULL OR left(t.region_code, 2) = \(province))
              AND (\(beforeID)::bigint IS NULL OR t.id < \(beforeID))
            ORDER BY t.id DESC
            LIMIT \(min(max(limit, 1), 201))
            """
        ).map(decode)
    }

    /// The roles that file and change people: a unit's own, and the bureaus over it.
    static let filers: Set<Role> = [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher]

    /// Requires `expertID`, when given, to be an expert who works for `unitID`; any other id reads as one that does
    /// not exist.
    static func requireExpert(_ expertID: Int?, ofUnit unitID: Int, on tx: PostgresConnection) async throws {
        guard let expertID else { return }
        let unit = try await tx.query("SELECT unit_id FROM experts WHERE user_id = \(expertID)").first?.decode(Int?.self)
        guard unit == unitID else { throw DomainError.invalid("expertID", "no expert of unit \(unitID) has id \(expertID)") }
    }

    static let select = """
        SELECT t.id, t.revision, t.unit_id, u.name, t.region_code, t.expert_id, t.filed_by_bureau_id, t.name, t.title,
               t.fields, t.industry_chains, t.keywords, t.summary, t.availability, t.contact_name, t.contact_phone,
               t.contact_email, t.created_at, t.updated_at
        FROM talents t JOIN units u ON u.id = t.unit_id
        """

    static func decode(_ row: PostgresRow) throws -> Talent {
        Talent(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1), unitID: try row.decode(Int.self, at: 2),
            unitName: try row.decode(String.self, at: 3), regionCode: try row.decode(String.self, at: 4),
            expertID: try row.decode(Int?.self, at: 5), filedByBureauID: try row.decode(Int?.self, at: 6),
            name: try row.decode(String.self, at: 7), title: try row.decode(String.self, at: 8),
            fields: try row.decode([String].self, at: 9), industryChains: try row.decode([String].self, at: 10),
            keywords: try row.decode([String].self, at: 11), summary: try row.decode(String.self, at: 12),
            availability: try row.decode(String.self, at: 13), contactName: try row.decode(String.self, at: 14),
            contactPhone: try row.decode(String.self, at: 15), contactEmail: try row.decode(String.self, at: 16),
            createdAt: try row.decode(Date.self, at: 17), updatedAt: try row.decode(Date.self, at: 18))
    }
}
