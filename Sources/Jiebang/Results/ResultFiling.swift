public import Foundation
public import Postgres

/// The result pool (成果库, seeds 000 and 004): universities' and institutes' results, filed one at a time, and
/// accepted projects' result records, which enter by themselves (`definitions/22_result_pool.sql`). Read within the
/// reader's scope, as demands are: a unit sees its own, a bureau its region's or province's.
public enum ResultFiling {
    /// The kinds of intellectual property a result may rest on (知识产权).
    public static let ipStatuses = ["patent_granted", "patent_pending", "software_copyright", "know_how", "none"]

    /// A result as a client files it.
    public struct Input: Codable, Sendable, Hashable {
        /// The university or institute that holds it (a bureau files on its behalf).
        public var unitID: Int
        public var title: String
        /// What it is and what it achieves.
        public var summary: String
        /// 技术领域.
        public var domain: String
        /// 所属产业链.
        public var industryChain: String
        public var keywords: [String]?
        /// 技术成熟度, 1 to 9.
        public var maturity: Int
        /// One of `ipStatuses`.
        public var ipStatus: String
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String

        public init(
            unitID: Int, title: String, summary: String, domain: String, industryChain: String, keywords: [String]? = nil,
            maturity: Int, ipStatus: String, contactName: String, contactPhone: String, contactEmail: String
        ) {
            self.unitID = unitID
            self.title = title
            self.summary = summary
            self.domain = domain
            self.industryChain = industryChain
            self.keywords = keywords
            self.maturity = maturity
            self.ipStatus = ipStatus
            self.contactName = contactName
            self.contactPhone = contactPhone
            self.contactEmail = contactEmail
        }

        /// The input trimmed.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked() throws(DomainError) -> Input {
            var result = self
            result.title = title.trimmingCharacters(in: .whitespacesAndNewlines)
            result.summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
            result.domain = domain.trimmingCharacters(in: .whitespacesAndNewlines)
            result.industryChain = industryChain.trimmingCharacters(in: .whitespacesAndNewlines)
            result.keywords = (keywords ?? []).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            result.contactName = contactName.trimmingCharacters(in: .whitespacesAndNewlines)
            result.contactPhone = contactPhone.trimmingCharacters(in: .whitespaces)
            result.contactEmail = contactEmail.trimmingCharacters(in: .whitespaces)
            var checker = FieldChecker()
            if unitID <= 0 { checker.add("unitID", "must be a unit's id") }
            checker.name("title", result.title, 4...200)
            checker.length("summary", result.summary, 10...5000)
            checker.name("domain", result.domain, 2...50)
            checker.name("industryChain", result.industryChain, 2...50)
            let words = result.keywords ?? []
            if words.count > 20 { checker.add("keywords", "must have at most 20 items") }
            if Set(words).count != words.count { checker.add("keywords", "must not repeat an item") }
            if words.contains(where: { $0.isEmpty || $0.count > 20 }) { checker.add("keywords", "each must have 1 to 20 characters") }
            checker.range("maturity", maturity, 1...9)
            if !ResultFiling.ipStatuses.contains(ipStatus) {
                checker.add("ipStatus", "must be one of \(ResultFiling.ipStatuses.joined(separator: ", "))")
            }
            checker.name("contactName", result.contactName, 1...100)
            checker.phone("contactPhone", result.contactPhone)
            checker.email("contactEmail", result.contactEmail)
            try checker.check()
            return result
        }
    }

    /// A result in the pool.
    public struct Result: Codable, Sendable, Hashable {
        public var id: Int
        public var revision: Int
        public var unitID: Int
        public var unitName: String
        public var regionCode: String
        /// The accepted project it came from, if it did.
        public var projectID: Int?
        public var filedByBureauID: Int?
        public var title: String
        public var summary: String
        public var domain: String
        public var industryChain: String
        public var keywords: [String]
        public var maturity: Int
        public var ipStatus: String
        public var contactName: String
        public var contactPhone: String
        public var contactEmail: String
        public var createdAt: Date
    }

    /// Files a result for the actor's own university or institute or, for a bureau, a verified one in its region.
    /// - Throws: `DomainError` (invalid fields, an unknown unit, a unit outside the actor's scope, an enterprise).
    public static func file(_ input: Input, by actor: Actor, on tx: PostgresConnection) async throws -> Result {
        try AccessPolicy.require(actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher], to: "file a result")
        let input = try input.checked()
        guard
            let (region, kind, verification) = try await tx.query(
                "SELECT region_code, kind::text, verification FROM units WHERE id = \(input.unitID)"
            ).first?.decode((String, String, String).self)
        else { throw DomainError.invalid("unitID", "no unit has id \(input.unitID)") }
        guard AccessPolicy.mayFileDemand(unitID: input.unitID, regionCode: region, by: actor) else {
            throw DomainError.forbidden("unit \(input.unitID) is outside your scope")
        }
        guard kind == "university" || kind == "institute" else {
            throw DomainError.invalid("unitID", "unit \(input.unitID) is neither a university nor an institute; enterprises file demands")
        }
        if actor.unitID != input.unitID, verification != "verified" {
            throw DomainError.conflict(field: "unitID", message: "unit \(input.unitID) is not verified yet; verify it before filing for it")
        }
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO results (unit_id, region_code, filed_by_bureau_id, title, summary, domain, industry_chain, keywords,
                                     maturity, ip_status, contact_name, contact_phone, contact_email)
                VALUES (\(input.unitID), \(region), \(actor.bureauID), \(input.title), \(input.summary), \(input.domain),
                        \(input.industryChain), \(input.keywords ?? []), \(input.maturity), \(input.ipStatus), \(input.contactName),
                        \(input.contactPhone), \(input.contactEmail))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "result.file", entity: "result", entityID: "\(id)",
                after: ["unitID": "\(input.unitID)", "title": input.title], on: tx)
            return try await result(id: id, for: actor, on: tx)
        }
    }

    /// A result, if the actor may read its unit's data.
    /// - Throws: `DomainError.notFound` (also for another's result, as for a missing id) or `.forbidden`.
    public static func result(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Result {
        guard let row = try await db.query("\(unsafeRaw: select) WHERE r.id = \(id)").first else {
            throw DomainError.notFound("no result has id \(id)")
        }
        let result = try decode(row)
        guard AccessPolicy.mayRead(unitID: result.unitID, regionCode: result.regionCode, by: actor) else {
            throw DomainError.refusal(
                of: actor, scopedRoles: [.unitAdmin, .unitMember, .municipalRecommender, .provincialPublisher],
                missing: "no result has id \(id)", reason: "result \(id) is outside your scope")
        }
        return result
    }

    /// The results the actor may read, newest first: a unit's own, a region's, a province's or (a system admin) all.
    public static func list(beforeID: Int?, limit: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Result] {
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher, .systemAdmin], to: "list results")
        let (unitID, region, province) = AccessPolicy.listScope(of: actor)
        return try await db.query(
            """
            \(unsafeRaw: select)
            WHERE (\(unitID)::bigint IS NULL OR r.unit_id = \(unitID))
              AND (\(region)::text IS NULL OR r.region_code = \(region))
              AND (\(province)::text IS NULL OR left(r.region_code, 2) = \(province))
              AND (\(beforeID)::bigint IS NULL OR r.id < \(beforeID))
            ORDER BY r.id DESC
            LIMIT \(min(max(limit, 1), 201))
            """
        ).map(decode)
    }

    static let select = """
        SELECT r.id, r.revision, r.unit_id, u.name, r.region_code, r.project_id, r.filed_by_bureau_id, r.title, r.summary,
               r.domain, r.industry_chain, r.keywords, r.maturity, r.ip_status, r.contact_name, r.contact_phone,
               r.contact_email, r.created_at
        FROM results r JOIN units u ON u.id = r.unit_id
        """

    static func decode(_ row: PostgresRow) throws -> Result {
        Result(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1), unitID: try row.decode(Int.self, at: 2),
            unitName: try row.decode(String.self, at: 3), regionCode: try row.decode(String.self, at: 4),
            projectID: try row.decode(Int?.self, at: 5), filedByBureauID: try row.decode(Int?.self, at: 6),
            title: try row.decode(String.self, at: 7), summary: try row.decode(String.self, at: 8),
            domain: try row.decode(String.self, at: 9), industryChain: try row.decode(String.self, at: 10),
            keywords: try row.decode([String].self, at: 11), maturity: try row.decode(Int.self, at: 12),
            ipStatus: try row.decode(String.self, at: 13), contactName: try row.decode(String.self, at: 14),
            contactPhone: try row.decode(String.self, at: 15), contactEmail: try row.decode(String.self, at: 16),
            createdAt: try row.decode(Date.self, at: 17))
    }
}
