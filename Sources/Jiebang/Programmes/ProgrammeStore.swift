public import Foundation
public import Postgres

/// Programmes (年度批次) in PostgreSQL: created and edited by their provincial bureau, readable by all.
public enum ProgrammeStore {
    /// A programme as a publisher sends it. Omitted policy fields take the defaults of seed 002 (Gansu).
    public struct Input: Codable, Sendable, Hashable {
        public var name: String
        public var year: Int
        /// The funding ratio cap in basis points (1000 = 10%). Default 1000.
        public var fundingRatioCapBasisPoints: Int?
        /// The absolute funding cap in fen. Default 500,000,000 (5,000,000 CNY).
        public var fundingAbsoluteCapFen: Int64?
        /// `upfront` (default) or `post_subsidy` (后补助).
        public var fundingMode: String?
        /// The minimum number of partner units in a consortium. Default 1.
        public var minPartners: Int?
        /// The largest consortium (lead and partners), if limited.
        public var maxConsortiumSize: Int?
        /// Whether a unit may be in only one live bid of the programme. Default true.
        public var oneLiveBidPerUnit: Bool?
        /// Winners per challenge (more than one for 赛马制). Default 1.
        public var winnersPerChallenge: Int?
        public var applicationOpensAt: Date
        public var applicationClosesAt: Date
        /// The length of the publicity period (公示) in working days. Default 5.
        public var publicityWorkingDays: Int?
        /// When the municipal recommenders' window closes (组织推荐), after the application deadline; none by default.
        public var recommendationClosesAt: Date?

        public init(name: String, year: Int, applicationOpensAt: Date, applicationClosesAt: Date) {
            self.name = name
            self.year = year
            self.applicationOpensAt = applicationOpensAt
            self.applicationClosesAt = applicationClosesAt
        }

        /// The input with defaults filled in.
        /// - Throws: `DomainError.invalid` listing every field at fault.
        public func checked() throws(DomainError) -> Input {
            var result = self
            result.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            result.fundingRatioCapBasisPoints = fundingRatioCapBasisPoints ?? FundingPolicy.gansu.ratioCapBasisPoints
            result.fundingAbsoluteCapFen = fundingAbsoluteCapFen ?? FundingPolicy.gansu.absoluteCapFen
            result.fundingMode = fundingMode ?? FundingPolicy.Mode.upfront.rawValue
            result.minPartners = minPartners ?? 1
            result.oneLiveBidPerUnit = oneLiveBidPerUnit ?? true
            result.winnersPerChallenge = winnersPerChallenge ?? 1
            result.publicityWorkingDays = publicityWorkingDays ?? 5
            var checker = FieldChecker()
            checker.name("name", name, 2...200)
            checker.range("year", year, 2000...2100)
            checker.range("fundingRatioCapBasisPoints", result.fundingRatioCapBasisPoints!, 1...10_000)
            checker.range("fundingAbsoluteCapFen", result.fundingAbsoluteCapFen!, 1...Int64(1_000_000_000_000))
            if FundingPolicy.Mode(rawValue: result.fundingMode!) == nil {
                checker.add("fundingMode", "must be upfront or post_subsidy")
            }
            checker.range("minPartners", result.minPartners!, 0...50)
            if let size = maxConsortiumSize, (0...50).contains(result.minPartners!), size < 1 + result.minPartners! {
                checker.add("maxConsortiumSize", "must be at least 1 + minPartners = \(1 + result.minPartners!)")
            }
            checker.range("winnersPerChallenge", result.winnersPerChallenge!, 1...20)
            checker.range("publicityWorkingDays", result.publicityWorkingDays!, 1...30)
            if applicationClosesAt <= applicationOpensAt {
                checker.add("applicationClosesAt", "must be after applicationOpensAt")
            }
            if let recommendationClosesAt, recommendationClosesAt <= applicationClosesAt {
                checker.add("recommendationClosesAt", "must be after applicationClosesAt")
            }
            try checker.check()
            return result
        }
    }

    /// A programme with its policy.
    public struct Programme: Codable, Sendable, Hashable {
        public var id: Int
        public var revision: Int
        public var name: String
        public var year: Int
        public var bureauID: Int
        public var bureauName: String
        public var fundingRatioCapBasisPoints: Int
        public var fundingAbsoluteCapFen: Int64
        public var fundingMode: String
        public var minPartners: Int
        public var maxConsortiumSize: Int?
        public var oneLiveBidPerUnit: Bool
        public var winnersPerChallenge: Int
        public var applicationOpensAt: Date
        public var applicationClosesAt: Date
        public var publicityWorkingDays: Int
        public var recommendationClosesAt: Date?
        public var createdAt: Date
        public var updatedAt: Date

        /// The funding rule bids are checked against.
        public var fundingPolicy: FundingPolicy {
            FundingPolicy(
                ratioCapBasisPoints: fundingRatioCapBasisPoints, absoluteCapFen: fundingAbsoluteCapFen,
                mode: FundingPolicy.Mode(rawValue: fundingMode) ?? .upfront)
        }
    }

    /// Creates a programme run by the actor's bureau.
    /// - Throws: `DomainError` (not a publisher, invalid fields, a name already used that year).
    public static func create(_ input: Input, by actor: Actor, on tx: PostgresConnection) async throws -> Programme {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "create a programme")
        let input = try input.checked()
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO programmes (name, year, bureau_id, funding_ratio_cap_bp, funding_absolute_cap_fen, funding_mode,
                    min_partners, max_consortium_size, one_live_bid_per_unit, winners_per_challenge, application_opens_at,
                    application_closes_at, publicity_working_days, recommendation_closes_at)
                VALUES (\(input.name), \(input.year), \(actor.bureauID), \(input.fundingRatioCapBasisPoints),
                    \(input.fundingAbsoluteCapFen), \(input.fundingMode), \(input.minPartners), \(input.maxConsortiumSize),
                    \(input.oneLiveBidPerUnit), \(input.winnersPerChallenge), \(input.applicationOpensAt),
                    \(input.applicationClosesAt), \(input.publicityWorkingDays), \(input.recommendationClosesAt))
                RETURNING id
                """
            ).first!.decode(Int.self)
            let programme = try await programme(id: id, on: tx)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "programme.create", entity: "programme",
                entityID: "\(id)", after: snapshot(programme), on: tx)
            return programme
        }
    }

    /// A programme by id (programmes are public).
    /// - Throws: `DomainError.notFound`.
    public static func programme(id: Int, on db: PostgresConnection) async throws -> Programme {
        guard let row = try await db.query("\(unsafeRaw: select) WHERE p.id = \(id)").first else {
            throw DomainError.notFound("no programme has id \(id)")
        }
        return try decode(row)
    }

    /// Every programme, newest year first.
    public static func list(on db: PostgresConnection) async throws -> [Programme] {
        try await db.query("\(unsafeRaw: select) ORDER BY p.year DESC, p.id DESC LIMIT 500").map(decode)
    }

    /// Replaces a programme's fields, if it is still at `revision`.
    /// - Throws: `DomainError.stale`, `.forbidden` for another bureau, `.conflict` when the policy is fixed
    ///   because a challenge is published.
    public static func update(
        id: Int, _ input: Input, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Programme {
        let input = try input.checked()
        let before = try await programme(id: id, on: tx)
        try AccessPolicy.requireManager(
            ofBureau: before.bureauID, actor, missing: "no programme has id \(id)",
            reason: "only a publisher of \(before.bureauName) may edit programme \(id)")
        return try await ConstraintCatalog.translating {
            let updated = try await tx.execute(
                """
                UPDATE programmes SET name = \(input.name), year = \(input.year),
                    funding_ratio_cap_bp = \(input.fundingRatioCapBasisPoints),
                    funding_absolute_cap_fen = \(input.fundingAbsoluteCapFen), funding_mode = \(input.fundingMode),
                    min_partners = \(input.minPartners), max_consortium_size = \(input.maxConsortiumSize),
                    one_live_bid_per_unit = \(input.oneLiveBidPerUnit), winners_per_challenge = \(input.winnersPerChallenge),
                    application_opens_at = \(input.applicationOpensAt), application_closes_at = \(input.applicationClosesAt),
                    publicity_working_days = \(input.publicityWorkingDays),
                    recommendation_closes_at = \(input.recommendationClosesAt)
                WHERE id = \(id) AND revision = \(revision)
                """)
            let after = try await programme(id: id, on: tx)
            guard updated == 1 else { throw DomainError.stale(current: after.revision) }
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "programme.update", entity: "programme",
                entityID: "\(id)", before: snapshot(before), after: snapshot(after), on: tx)
            return after
        }
    }

    static let select = """
        SELECT p.id, p.revision, p.name, p.year, p.bureau_id, b.name, p.funding_ratio_cap_bp, p.funding_absolute_cap_fen,
               p.funding_mode, p.min_partners, p.max_consortium_size, p.one_live_bid_per_unit, p.winners_per_challenge,
               p.application_opens_at, p.application_closes_at, p.publicity_working_days, p.created_at, p.updated_at,
               p.recommendation_closes_at
        FROM programmes p JOIN bureaus b ON b.id = p.bureau_id
        """

    static func decode(_ row: PostgresRow) throws -> Programme {
        Programme(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            name: try row.decode(String.self, at: 2), year: try row.decode(Int.self, at: 3),
            bureauID: try row.decode(Int.self, at: 4), bureauName: try row.decode(String.self, at: 5),
            fundingRatioCapBasisPoints: try row.decode(Int.self, at: 6), fundingAbsoluteCapFen: try row.decode(Int64.self, at: 7),
            fundingMode: try row.decode(String.self, at: 8), minPartners: try row.decode(Int.self, at: 9),
            maxConsortiumSize: try row.decode(Int?.self, at: 10), oneLiveBidPerUnit: try row.decode(Bool.self, at: 11),
            winnersPerChallenge: try row.decode(Int.self, at: 12), applicationOpensAt: try row.decode(Date.self, at: 13),
            applicationClosesAt: try row.decode(Date.self, at: 14), publicityWorkingDays: try row.decode(Int.self, at: 15),
            recommendationClosesAt: try row.decode(Date?.self, at: 18), createdAt: try row.decode(Date.self, at: 16),
            updatedAt: try row.decode(Date.self, at: 17))
    }

    static func snapshot(_ p: Programme) -> [String: String] {
        [
            "name": p.name, "year": "\(p.year)", "fundingRatioCapBasisPoints": "\(p.fundingRatioCapBasisPoints)",
            "fundingAbsoluteCapFen": "\(p.fundingAbsoluteCapFen)", "fundingMode": p.fundingMode,
            "minPartners": "\(p.minPartners)", "maxConsortiumSize": p.maxConsortiumSize.map { "\($0)" } ?? "",
            "oneLiveBidPerUnit": "\(p.oneLiveBidPerUnit)", "winnersPerChallenge": "\(p.winnersPerChallenge)",
            "applicationOpensAt": "\(p.applicationOpensAt)", "applicationClosesAt": "\(p.applicationClosesAt)",
            "publicityWorkingDays": "\(p.publicityWorkingDays)",
            "recommendationClosesAt": p.recommendationClosesAt.map { "\($0)" } ?? "",
        ]
    }
}
