public import Foundation
public import Postgres

/// Bids in PostgreSQL: drafting by the lead unit, the consortium, submission with receipts, withdrawal,
/// and reading within scope.
public enum BidStore {
    /// A unit of the consortium.
    public struct Member: Codable, Sendable, Hashable {
        public var unitID: Int
        public var unitName: String
        public var regionCode: String
        /// `lead` or `partner`.
        public var role: String
        /// `invited`, `accepted` or `declined`.
        public var status: String
        /// The partner's role in the project.
        public var partRole: String
        public var tasks: String
        public var budgetShareFen: Int64
        public var contribution: String
        public var respondedAt: Date?
    }

    /// A partner's own part, filled in when its unit admin accepts.
    public struct Part: Codable, Sendable, Hashable {
        public var partRole: String
        public var tasks: String
        public var budgetShareFen: Int64
        public var contribution: String

        public init(partRole: String, tasks: String, budgetShareFen: Int64, contribution: String) {
            self.partRole = partRole
            self.tasks = tasks
            self.budgetShareFen = budgetShareFen
            self.contribution = contribution
        }

        func check() throws(DomainError) {
            var checker = FieldChecker()
            checker.name("partRole", partRole, 2...200)
            checker.length("tasks", tasks, 2...5000)
            if budgetShareFen < 0 { checker.add("budgetShareFen", "must not be negative") }
            checker.maxLength("contribution", contribution, 5000)
            try checker.check()
        }
    }

    /// A bid with its consortium.
    public struct Bid: Codable, Sendable, Hashable {
        public var id: Int
        /// Bumped by every change: the ETag.
        public var revision: Int
        /// The number of submissions so far.
        public var version: Int
        public var programmeID: Int
        public var challengeID: Int
        public var challengeTitle: String
        public var leadUnitID: Int
        public var regionCode: String
        public var status: BidStatus
        public var content: BidContent
        public var members: [Member]
        public var submittedAt: Date?
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// What a submission returns: proof of what was submitted, and when.
    public struct Receipt: Codable, Sendable, Hashable {
        public var bidID: Int
        public var version: Int
        public var submittedAt: Date
        /// SHA-256 of the submitted content, the consortium and the attachments' digests.
        public var sha256: String
    }

    /// Drafts a bid for a challenge, led by the actor's unit.
    /// - Throws: `DomainError` (not a unit's person, the challenge not open, invalid content).
    public static func create(challengeID: Int, _ content: BidContent, by actor: Actor, on tx: PostgresConnection) async throws -> Bid {
        try AccessPolicy.require(actor, [.unitMember, .unitAdmin], to: "draft a bid")
        guard let unitID = actor.unitID else { throw DomainError.forbidden("only a unit's people draft bids") }
        try content.checkDraft()
        try await requireVerified(unitID: unitID, field: "unit", on: tx)
        let challenge = try await openChallenge(challengeID, on: tx)
        return try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO bids (programme_id, challenge_id, lead_unit_id, region_code, technical_route, rd_foundation,
                                  indicator_answers, total_investment_fen, self_funding_fen, requested_funding_fen, team,
                                  completion_commitment, created_by)
                SELECT \(challenge.programmeID), \(challengeID), u.id, u.region_code, \(content.technicalRoute),
                       \(content.rdFoundation), \(content.indicatorAnswers), \(content.totalInvestmentFen),
                       \(content.selfFundingFen), \(content.requestedFundingFen), \(PostgresJSON(content.team)),
                       \(content.completionCommitment), \(actor.userID)
                FROM units u WHERE u.id = \(unitID)
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                """
                INSERT INTO bid_members (bid_id, unit_id, programme_id, role, status, exclusive, responded_by, responded_at)
                SELECT \(id), \(unitID), id, 'lead', 'accepted', one_live_bid_per_unit, \(actor.userID), now()
                FROM programmes WHERE id = \(challenge.programmeID)
                """)
            try await audit(actor, "bid.create", id, after: ["challengeID": "\(challengeID)", "leadUnitID": "\(unitID)"], on: tx)
            return try await load(id: id, on: tx)
        }
    }

    /// Replaces a draft's (or a returned bid's) content, if it is still at `revision`.
    public static func update(
        id: Int, _ content: BidContent, ifRevision revision: Int, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Bid {
        let bid = try await load(id: id, on: tx, lock: true)
        try requireLead(bid, actor)
        guard bid.status.isEditable else {
            throw DomainError.conflict(field: "status", message: "a \(bid.status.rawValue) bid cannot be edited")
        }
        guard bid.revision == revision else { throw DomainError.stale(current: bid.revision) }
        try content.checkDraft()
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE bids SET technical_route = \(content.technicalRoute), rd_foundation = \(content.rdFoundation),
                    indicator_answers = \(content.indicatorAnswers), total_investment_fen = \(content.totalInvestmentFen),
                    self_funding_fen = \(content.selfFundingFen), requested_funding_fen = \(content.requestedFundingFen),
                    team = \(PostgresJSON(content.team)), completion_commitment = \(content.completionCommitment)
                WHERE id = \(id)
                """)
            try await audit(actor, "bid.update", id, after: ["revision": "\(revision + 1)"], on: tx)
            return try await load(id: id, on: tx)
        }
    }

    /// Invites a partner unit into the consortium.
    /// - Throws: `DomainError` (not the lead, not editable, unknown unit, already a member, too many).
    public static func invite(id: Int, unitID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Bid {
        let bid = try await load(id: id, on: tx, lock: true)
        try requireLead(bid, actor)
        guard bid.status.isEditable else {
            throw DomainError.conflict(field: "status", message: "the consortium of a \(bid.status.rawValue) bid is fixed")
        }
        try await requireVerified(unitID: unitID, field: "unitID", on: tx)
        if bid.members.contains(where: { $0.unitID == unitID }) {
            throw DomainError.conflict(field: "unitID", message: "unit \(unitID) is already in this consortium")
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO bid_members (bid_id, unit_id, programme_id, role, exclusive)
                SELECT \(id), \(unitID), id, 'partner', one_live_bid_per_unit FROM programmes WHERE id = \(bid.programmeID)
                """)
            try await audit(actor, "bid.invite", id, after: ["unitID": "\(unitID)"], on: tx)
            try await notify(unitID, .bidInvited, bidID: id, subject: "bid:\(id)", extra: [:], on: tx)
            return try await load(id: id, on: tx)
        }
    }

    /// A partner's unit admin accepts the invitation with its part, or declines it.
    /// - Throws: `DomainError` (not the partner's admin, not invited, consortium fixed, invalid part).
    public static func respond(
        id: Int, unitID: Int, accept: Bool, part: Part?, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Bid {
        let bid = try await load(id: id, on: tx, lock: true)
        guard actor.role == .unitAdmin, actor.unitID == unitID else {
            let member = bid.members.contains { $0.unitID == actor.unitID }
            if actor.role == .unitAdmin, !member { throw DomainError.notFound("no bid has id \(id)") }
            throw DomainError.forbidden("only the admin of unit \(unitID) answers its invitation")
        }
        guard let member = bid.members.first(where: { $0.unitID == unitID }), member.role == "partner" else {
            throw DomainError.notFound("unit \(unitID) is not invited to bid \(id)")
        }
        guard bid.status.isEditable else {
            throw DomainError.conflict(field: "status", message: "the consortium of a \(bid.status.rawValue) bid is fixed")
        }
        if accept {
            guard let part else { throw DomainError.invalid("part", "is required to accept") }
            try part.check()
        }
        let part = part ?? Part(partRole: "", tasks: "", budgetShareFen: 0, contribution: "")
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE bid_members SET status = \(accept ? "accepted" : "declined"), part_role = \(part.partRole),
                    tasks = \(part.tasks), budget_share_fen = \(part.budgetShareFen), contribution = \(part.contribution),
                    responded_by = \(actor.userID), responded_at = now()
                WHERE bid_id = \(id) AND unit_id = \(unitID)
                """)
            try await audit(
                actor, accept ? "bid.partner_accept" : "bid.partner_decline", id, after: ["unitID": "\(unitID)"], on: tx)
            return try await load(id: id, on: tx)
        }
    }

    /// Submits the bid in a transaction of its own. When the database refuses a unit that is already in
    /// another live bid (one submitted before, or a concurrent submission that won the race), the 409
    /// names the unit and that bid.
    public static func submit(id: Int, ifRevision revision: Int?, by actor: Actor, database: PostgresClient) async throws -> Receipt {
        try await submit(id: id, ifRevision: revision, as: .actor(actor), database: database)
    }

    /// Submits the bid in its own transaction, as ``submit(id:ifRevision:by:database:)``; a submitter's
    /// token is looked up in the same statement that locks and reads the bid.
    public static func submit(id: Int, ifRevision revision: Int?, as submitter: Submitter, database: PostgresClient) async throws -> Receipt
    {
        do {
            return try await database.withTransaction {
                try await submit(id: id, ifRevision: revision, as: submitter, on: $0, committing: true)
            }
        } catch let error as PostgresError where error.constraint == "bid_members_one_live_bid" {
            let clash = try await database.withConnection { conn in
                let bid = try await load(id: id, on: conn)
                return try await liveClash(bid: bid, units: bid.members.filter { $0.status == "accepted" }, on: conn)
            }
            throw clash ?? DomainError.conflict(field: "members", message: "a unit of this consortium is already in another live bid")
        }
    }

    /// Submits the bid (again, while the window is open): every rule is checked, the version kept, a receipt returned.
    ///
    /// With `committing`, the write goes out with the transaction's COMMIT in one round trip
    /// (`PostgresConnection.commit(after:)`), so the caller's transaction must end with it.
    ///
    /// A unit already in another live bid of the programme, or claimed by one that commits while this one
    /// runs, is refused by the primary key of `bid_live_units` with `bid_members_one_live_bid`. Inside the
    /// caller's transaction (without `committing`) the write runs in a savepoint, so the refusal is thrown
    /// as the 409 naming the unit and the bid it is in, and the caller's transaction stays usable. With
    /// `committing` the transaction is void and the `PostgresError` escapes:
    /// `submit(id:ifRevision:by:database:)` names it in the same words.
    ///
    /// The deadline rush runs through here, so it reads what it needs in one statement (the bid locked, with
    /// its challenge, programme and members) and writes in one (the status, which fires the database's own
    /// checks, the kept version and its audit row).
    /// - Throws: `DomainError` naming the rule broken; with `committing`, `PostgresError` with `bid_members_one_live_bid`.
    public static func submit(
        id: Int, ifRevision revision: Int?, by actor: Actor, on tx: PostgresConnection, committing: Bool = false
    ) async throws -> Receipt {
        try await submit(id: id, ifRevision: revision, as: .actor(actor), on: tx, committing: committing)
    }

    /// Submits the bid, as ``submit(id:ifRevision:by:on:committing:)``, for an actor or for a token looked up
    /// in the statement that locks and reads the bid.
    public static func submit(
        id: Int, ifRevision revision: Int?, as submitter: Submitter, on tx: PostgresConnection, committing: Bool = false
    ) async throws -> Receipt {
        // The bid locked, with its challenge, programme and attachments, one row per member. Whether a unit
        // is already in another live bid is not read here: the write claims the units (bid_live_units,
        // whose key is the rule), and a refusal is named by `submit(id:ifRevision:by:database:)`, in the same
        // way whether the other bid was live before or committed while this one ran.
        let rows: PostgresRows
        let actor: Actor
        switch submitter {
        case .actor(let known):
            rows = try await tx.query(submissionRead(id: id))
            actor = known
        case .token(let token, let admit):
            // The token's row first; the bid is read (and locked) beside it only when the token may write.
            rows = try await tx.query(
                """
                WITH who AS (\(fragment: AccountStore.identification(token)))
                SELECT bid.*, who.*
                FROM who LEFT JOIN LATERAL (\(fragment: submissionRead(id: id, whenWhoWrites: true))) AS bid ON true
                ORDER BY bid.member_unit_id
                """)
            let use = try rows.first.flatMap { try AccountStore.tokenUse($0, at: submissionReadColumns) }
            actor = try admit(use)
        }
        guard let row = rows.first, try row.decode(Int?.self, at: 0) != nil else {
            throw DomainError.notFound("no bid has id \(id)")
        }
        let current = try row.decode(Int.self, at: 0)
        let version = try row.decode(Int.self, at: 1)
        let status = BidStatus(rawValue: try row.decode(String.self, at: 2)) ?? .draft
        let programmeID = try row.decode(Int.self, at: 3)
        let challengeID = try row.decode(Int.self, at: 4)
        let leadUnitID = try row.decode(Int.self, at: 5)
        let content = BidContent(
            technicalRoute: try row.decode(String.self, at: 6), rdFoundation: try row.decode(String.self, at: 7),
            indicatorAnswers: try row.decode([String].self, at: 8), totalInvestmentFen: try row.decode(Int64.self, at: 9),
            selfFundingFen: try row.decode(Int64.self, at: 10), requestedFundingFen: try row.decode(Int64.self, at: 11),
            team: try row.decode(TeamColumn.self, at: 12).members,
            completionCommitment: try row.decode(Bool.self, at: 13))
        let challengeStatus = try row.decode(String.self, at: 14)
        let open = try row.decode(Bool.self, at: 15)
        let indicatorCount = try row.decode(Int.self, at: 16)
        let minPartners = try row.decode(Int.self, at: 17)
        let maxSize = try row.decode(Int?.self, at: 18)
        let policy = FundingPolicy(
            ratioCapBasisPoints: try row.decode(Int.self, at: 19), absoluteCapFen: try row.decode(Int64.self, at: 20),
            mode: FundingPolicy.Mode(rawValue: try row.decode(String.self, at: 21)) ?? .upfront)
        let attachments = try row.decode([String].self, at: 22)
        let ceilingFen = try row.decode(Int64.self, at: 30)

        var member = actor.unitID == leadUnitID
        if !member, let unit = actor.unitID {
            member = try await tx.query(
                "SELECT EXISTS (SELECT 1 FROM bid_members WHERE bid_id = \(id) AND unit_id = \(unit))"
            ).first!.decode(Bool.self)
        }
        try requireLead(bidID: id, leadUnitID: leadUnitID, member: member, actor)
        if let revision, revision != current { throw DomainError.stale(current: current) }
        do {
            _ = try status.applying(.submit)
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        try requireOpen(challengeID: challengeID, status: challengeStatus, open: open)
        let members = try rows.map { row in
            (
                unitID: try row.decode(Int.self, at: 23),
                role: try row.decode(String.self, at: 24), status: try row.decode(String.self, at: 25),
                part: Part(
                    partRole: try row.decode(String.self, at: 26), tasks: try row.decode(String.self, at: 27),
                    budgetShareFen: try row.decode(Int64.self, at: 28), contribution: try row.decode(String.self, at: 29))
            )
        }
        let counting = members.filter { $0.status == "accepted" }
        let issues = submissionIssues(
            content: content, indicatorCount: indicatorCount, policy: policy, ceilingFen: ceilingFen,
            acceptedPartners: counting.filter { $0.role == "partner" }.count, minPartners: minPartners, maxSize: maxSize)
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        let record = SubmittedRecord(
            bidID: id, version: version + 1, challengeID: challengeID, leadUnitID: leadUnitID, content: content,
            members: counting.map {
                SubmittedRecord.Member(
                    unitID: $0.unitID, role: $0.role, partRole: $0.part.partRole, tasks: $0.part.tasks,
                    budgetShareFen: $0.part.budgetShareFen, contribution: $0.part.contribution)
            },
            attachmentSHA256: attachments)
        // One statement: the status (which fires the database's own checks), the kept version with its
        // digest, and the audit row. The digest is of the content as PostgreSQL prints it, so anyone
        // can check a receipt with SQL, and the table's check constraint holds every row to it.
        let kept: PostgresRow
        do {
            let write: PostgresQuery = """
                WITH submitted AS (
                    UPDATE bids SET status = 'submitted', version = version + 1, submitted_at = now()
                    WHERE id = \(id)
                    RETURNING id, version
                ), kept AS (
                    INSERT INTO bid_submissions (bid_id, version, submitted_by, content, sha256)
                    SELECT submitted.id, submitted.version, \(actor.userID), record.content,
                           bid_content_digest(record.content)
                    FROM submitted, (SELECT \(PostgresJSON(record))::jsonb AS content) AS record
                    RETURNING version, submitted_at, sha256
                ), audited AS (
                    INSERT INTO audit_log (actor_id, actor_label, action, entity, entity_id, before, after)
                    SELECT \(actor.userID), \(actor.displayName), 'bid.submit', 'bid', \(String(id)),
                           jsonb_build_object('status', \(status.rawValue)),
                           jsonb_build_object('status', 'submitted', 'version', kept.version::text, 'sha256', kept.sha256)
                    FROM kept
                )
                SELECT version, submitted_at, sha256 FROM kept
                """
            let written: PostgresRows
            if committing {
                written = try await tx.commit(after: write)
            } else {
                written = try await namingClash(bidID: id, programmeID: programmeID, units: counting.map(\.unitID), on: tx) {
                    try await tx.query(write)
                }
            }
            guard let row = written.first else { throw DomainError.notFound("no bid has id \(id)") }
            kept = row
        } catch let error as PostgresError where error.constraint != "bid_members_one_live_bid" {
            throw ConstraintCatalog.domainError(for: error) ?? error
        }
        let (keptVersion, at, digest) = try kept.decode((Int, Date, String).self)
        return Receipt(bidID: id, version: keptVersion, submittedAt: at, sha256: digest)
    }

    /// How many columns ``submissionRead(id:whenWhoWrites:)`` gives.
    static let submissionReadColumns = 31

    /// The submission's read: the bid locked, with its challenge, programme and attachments, one row per
    /// member in unit order (`member_unit_id`). With `whenWhoWrites`, it is embedded beside the CTE `who`
    /// (``AccountStore/identification(_:)``) and reads nothing unless that token has the write scope.
    static func submissionRead(id: Int, whenWhoWrites: Bool = false) -> PostgresQuery {
        """
        SELECT b.revision, b.version, b.status::text, b.programme_id, b.challenge_id, b.lead_unit_id,
               b.technical_route, b.rd_foundation, b.indicator_answers, b.total_investment_fen, b.self_funding_fen,
               b.requested_funding_fen, b.team, b.completion_commitment,
               c.status::text, c.application_deadline > now(), cardinality(c.indicators),
               p.min_partners, p.max_consortium_size, p.funding_ratio_cap_bp,
               p.funding_absolute_cap_fen, p.funding_mode,
               ARRAY(SELECT sha256 FROM bid_attachments WHERE bid_id = b.id ORDER BY id),
               m.unit_id AS member_unit_id, m.role, m.status, m.part_role, m.tasks, m.budget_share_fen, m.contribution,
               c.funding_ceiling_fen
        FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN programmes p ON p.id = b.programme_id
             JOIN bid_members m ON m.bid_id = b.id
        WHERE b.id = \(id) \(fragment: whenWhoWrites ? "AND \(TokenScope.write.rawValue) = ANY(who.scopes)" : "")
        ORDER BY m.unit_id
        FOR UPDATE OF b
        """
    }

    /// Withdraws the bid; its units are free for another bid of the programme.
    public static func withdraw(id: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Bid {
        let bid = try await load(id: id, on: tx, lock: true)
        try requireLead(bid, actor)
        do {
            _ = try bid.status.applying(.withdraw)
        } catch {
            throw DomainError.conflict(field: "status", message: error.description)
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE bids SET status = 'withdrawn' WHERE id = \(id)")
            try await audit(actor, "bid.withdraw", id, before: ["status": bid.status.rawValue], after: ["status": "withdrawn"], on: tx)
            return try await load(id: id, on: tx)
        }
    }

    /// The receipts of every submitted version of a bid the actor may see, oldest first.
    public static func receipts(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Receipt] {
        _ = try await bid(id: id, for: actor, on: db)
        return try await db.query(
            "SELECT version, submitted_at, sha256 FROM bid_submissions WHERE bid_id = \(id) ORDER BY version"
        ).map { row in
            let (version, at, digest) = try row.decode((Int, Date, String).self)
            return Receipt(bidID: id, version: version, submittedAt: at, sha256: digest)
        }
    }

    /// A bid, if the actor may see it.
    public static func bid(id: Int, for actor: Actor, on db: PostgresConnection) async throws -> Bid {
        let bid = try await load(id: id, on: db)
        // Every role reads some bids, so a bid the actor may not read is one that does not exist for them.
        guard try await mayRead(bid, actor, on: db) else { throw DomainError.notFound("no bid has id \(id)") }
        return bid
    }

    /// The bids the actor may see, newest first: its unit's, its region's (not drafts), its programmes'
    /// recommended ones, or (a system admin) all.
    public static func list(
        programmeID: Int?, challengeID: Int?, status: BidStatus?, beforeID: Int?, limit: Int, for actor: Actor,
        on db: PostgresConnection
    ) async throws -> [Bid] {
        try AccessPolicy.require(
            actor, [.unitMember, .unitAdmin, .municipalRecommender, .provincialPublisher, .systemAdmin], to: "list bids")
        let unitID: Int? = [.unitMember, .unitAdmin].contains(actor.role) ? actor.unitID : nil
        let region: String? = actor.role == .municipalRecommender ? actor.regionCode : nil
        let bureau: Int? = actor.role == .provincialPublisher ? actor.bureauID : nil
        let ids = try await db.query(
            """
            SELECT b.id FROM bids b JOIN programmes p ON p.id = b.programme_id
            WHERE (\(unitID)::bigint IS NULL OR EXISTS (SELECT 1 FROM bid_members m WHERE m.bid_id = b.id AND m.unit_id = \(unitID)))
              AND (\(region)::text IS NULL OR (b.region_code = \(region) AND b.status <> 'draft'))
              AND (\(bureau)::bigint IS NULL OR (p.bureau_id = \(bureau) AND b.status IN ('recommended', 'formal_passed', 'formal_failed')))
              AND (\(programmeID)::bigint IS NULL OR b.programme_id = \(programmeID))
              AND (\(challengeID)::bigint IS NULL OR b.challenge_id = \(challengeID))
              AND (\(status?.rawValue)::text IS NULL OR b.status::text = \(status?.rawValue))
              AND (\(beforeID)::bigint IS NULL OR b.id < \(beforeID))
            ORDER BY b.id DESC
            LIMIT \(min(max(limit, 1), 201))
            """
        ).decode(Int.self)
        return try await load(ids: ids, on: db)
    }

    /// Whether the actor may read the bid.
    static func mayRead(_ bid: Bid, _ actor: Actor, on db: PostgresConnection) async throws -> Bool {
        switch actor.role {
        case .systemAdmin: return true
        case .unitMember, .unitAdmin: return bid.members.contains { $0.unitID == actor.unitID }
        case .municipalRecommender: return bid.status != .draft && actor.regionCode == bid.regionCode
        case .provincialPublisher:
            guard [.recommended, .formalPassed, .formalFailed].contains(bid.status) else { return false }
            let bureau = try await db.query("SELECT bureau_id FROM programmes WHERE id = \(bid.programmeID)").first?.decode(Int.self)
            return bureau == actor.bureauID
        case .expert:
            // An expert reads the bids of their own active panel seats, once the round has left preparation.
            guard bid.status != .draft else { return false }
            return try await db.query(
                """
                SELECT EXISTS (SELECT 1 FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
                               WHERE a.bid_id = \(bid.id) AND a.expert_id = \(actor.userID) AND a.role = 'panel'
                                 AND a.status = 'active' AND r.status <> 'preparing')
                """
            ).first?.decode(Bool.self) ?? false
        }
    }

    /// The content, consortium and attachments as submitted, kept as jsonb: the receipt's SHA-256 is of its text.
    struct SubmittedRecord: Codable, Sendable {
        struct Member: Codable, Sendable {
            var unitID: Int
            var role: String
            var partRole: String
            var tasks: String
            var budgetShareFen: Int64
            var contribution: String
        }
        var bidID: Int
        var version: Int
        var challengeID: Int
        var leadUnitID: Int
        var content: BidContent
        var members: [Member]
        var attachmentSHA256: [String]
    }

    /// Runs a submission's write in a savepoint of the caller's transaction, so that a refusal by
    /// `bid_members_one_live_bid` leaves the transaction usable: the savepoint is rolled back, the clash is
    /// read in the same transaction (under READ COMMITTED it sees the bid that won, committed) and thrown
    /// as the same 409 `submit(id:ifRevision:by:database:)` answers. Any other failure is rethrown as it is.
    /// - Parameters:
    ///   - units: the units the bid claims (the lead and its accepted partners).
    static func namingClash(
        bidID: Int, programmeID: Int, units: [Int], on tx: PostgresConnection, _ write: () async throws -> PostgresRows
    ) async throws -> PostgresRows {
        try await tx.execute("SAVEPOINT bid_submit")
        let rows: PostgresRows
        do {
            rows = try await write()
        } catch let error as PostgresError where error.constraint == "bid_members_one_live_bid" {
            try await tx.execute("ROLLBACK TO SAVEPOINT bid_submit")
            if let clash = try await liveClash(bidID: bidID, programmeID: programmeID, unitIDs: units, on: tx) { throw clash }
            throw ConstraintCatalog.domainError(for: error) ?? error
        }
        try await tx.execute("RELEASE SAVEPOINT bid_submit")
        return rows
    }

    /// The 409 for a unit already in another live bid of the programme, if one is.
    static func liveClash(bid: Bid, units: [Member], on db: PostgresConnection) async throws -> DomainError? {
        try await liveClash(bidID: bid.id, programmeID: bid.programmeID, unitIDs: units.map(\.unitID), on: db)
    }

    /// The 409 for one of `unitIDs` already in another live bid of the programme than `bidID`, if one is.
    static func liveClash(bidID: Int, programmeID: Int, unitIDs: [Int], on db: PostgresConnection) async throws -> DomainError? {
        guard
            let row = try await db.query(
                """
                SELECT l.unit_id, u.name, l.bid_id FROM bid_live_units l JOIN units u ON u.id = l.unit_id
                WHERE l.programme_id = \(programmeID) AND l.unit_id = ANY (\(unitIDs))
                  AND l.bid_id <> \(bidID)
                ORDER BY l.unit_id LIMIT 1
                """
            ).first
        else { return nil }
        let (unitID, name, other) = try row.decode((Int, String, Int).self)
        return clash(unitID: unitID, name: name, otherBid: other)
    }

    /// The 409 for a unit already in another live bid.
    static func clash(unitID: Int, name: String, otherBid: Int) -> DomainError {
        DomainError.conflict(
            field: "members",
            message:
                "unit \(unitID) (\(name)) is already in live bid \(otherBid) of this programme; each unit may apply for one challenge only")
    }

    struct OpenChallenge {
        var programmeID: Int
        var indicatorCount: Int
    }

    /// The challenge, if it is published and its deadline has not passed.
    static func openChallenge(_ id: Int, on db: PostgresConnection) async throws -> OpenChallenge {
        guard
            let row = try await db.query(
                """
                SELECT programme_id, cardinality(indicators), status::text, application_deadline > now()
                FROM challenges WHERE id = \(id)
                """
            ).first
        else { throw DomainError.notFound("no challenge has id \(id)") }
        let (programme, indicators, status, open) = try row.decode((Int, Int, String, Bool).self)
        try requireOpen(challengeID: id, status: status, open: open)
        return OpenChallenge(programmeID: programme, indicatorCount: indicators)
    }

    /// Refuses a challenge that is not published, or whose application deadline has passed.
    static func requireOpen(challengeID: Int, status: String, open: Bool) throws(DomainError) {
        guard status == "published" else {
            throw DomainError.conflict(field: "challengeID", message: "challenge \(challengeID) is \(status), not open for bids")
        }
        guard open else {
            throw DomainError.conflict(field: "challengeID", message: "the application deadline of challenge \(challengeID) has passed")
        }
    }

    /// Refuses a unit its municipal bureau has not verified (``UnitVerification``): it cannot bid or join a bid.
    static func requireVerified(unitID: Int, field: String, on tx: PostgresConnection) async throws {
        let verification = try await tx.query("SELECT verification FROM units WHERE id = \(unitID)").first?.decode(String.self)
        guard let verification else { throw DomainError.invalid(field, "no unit has id \(unitID)") }
        guard verification == "verified" else {
            throw DomainError.conflict(
                field: field,
                message:
                    "unit \(unitID) is \(verification == "pending" ? "waiting for" : "refused") verification by its municipal bureau, so it cannot bid yet"
            )
        }
    }

    static func requireLead(_ bid: Bid, _ actor: Actor) throws(DomainError) {
        try requireLead(
            bidID: bid.id, leadUnitID: bid.leadUnitID, member: bid.members.contains { $0.unitID == actor.unitID }, actor)
    }

    /// Refuses anyone but the people of the bid's lead unit: 403 for its partners' people and for roles that never
    /// manage bids, 404 (as for a bid that does not exist) for the people of a unit outside the consortium.
    static func requireLead(bidID: Int, leadUnitID: Int, member: Bool, _ actor: Actor) throws(DomainError) {
        let unitPerson = [.unitMember, .unitAdmin].contains(actor.role)
        guard unitPerson, actor.unitID == leadUnitID else {
            if unitPerson, !member { throw DomainError.notFound("no bid has id \(bidID)") }
            throw DomainError.forbidden("only the lead unit's people manage bid \(bidID)")
        }
    }

    static func audit(
        _ actor: Actor, _ action: String, _ id: Int, before: [String: String]? = nil, after: [String: String]? = nil,
        on tx: PostgresConnection
    ) async throws {
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: action, entity: "bid", entityID: "\(id)",
            before: before, after: after, on: tx)
    }

    /// Tells a unit about a bid, in the caller's transaction: the template's values are the challenge's title
    /// and deadline, the bid's number and its lead unit's name, and `extra`.
    static func notify(
        _ unitID: Int, _ occasion: Occasion, bidID: Int, subject: String, extra: [String: String], on tx: PostgresConnection
    ) async throws {
        let row = try await tx.query(
            """
            SELECT c.title, c.application_deadline, u.name
            FROM bids b JOIN challenges c ON c.id = b.challenge_id JOIN units u ON u.id = b.lead_unit_id
            WHERE b.id = \(bidID)
            """
        ).first
        guard let (title, deadline, lead) = try row?.decode((String, Date, String).self) else { return }
        let values = ["challenge": title, "deadline": Shanghai.text(deadline), "bid": String(bidID), "lead": lead]
            .merging(extra) { _, new in new }
        try await NotificationStore.notifyUnit(unitID, occasion, subject: subject, values: values, link: "/v1/bids/\(bidID)", on: tx)
    }

    /// Loads a bid and its members.
    static func load(id: Int, on db: PostgresConnection, lock: Bool = false) async throws -> Bid {
        let rows =
            lock
            ? try await db.query("\(unsafeRaw: select) WHERE b.id = \(id) FOR UPDATE OF b")
            : try await db.query("\(unsafeRaw: select) WHERE b.id = \(id)")
        guard let row = rows.first else { throw DomainError.notFound("no bid has id \(id)") }
        return try decode(row, members: try await members(of: [id], on: db)[id] ?? [])
    }

    /// Loads bids and their members in two statements, in the order of `ids`.
    static func load(ids: [Int], on db: PostgresConnection) async throws -> [Bid] {
        guard !ids.isEmpty else { return [] }
        let members = try await members(of: ids, on: db)
        var bids: [Int: Bid] = [:]
        for row in try await db.query("\(unsafeRaw: select) WHERE b.id = ANY (\(ids))") {
            let bid = try decode(row, members: [])
            bids[bid.id] = bid
        }
        return ids.compactMap { id in
            bids[id].map { bid in
                var bid = bid
                bid.members = members[id] ?? []
                return bid
            }
        }
    }

    /// The members of each bid, lead first.
    static func members(of ids: [Int], on db: PostgresConnection) async throws -> [Int: [Member]] {
        var members: [Int: [Member]] = [:]
        for row in try await db.query(
            """
            SELECT m.bid_id, m.unit_id, u.name, u.region_code, m.role, m.status, m.part_role, m.tasks, m.budget_share_fen,
                   m.contribution, m.responded_at
            FROM bid_members m JOIN units u ON u.id = m.unit_id
            WHERE m.bid_id = ANY (\(ids)) ORDER BY m.bid_id, m.role, m.invited_at, m.unit_id
            """)
        {
            members[try row.decode(Int.self, at: 0), default: []].append(
                Member(
                    unitID: try row.decode(Int.self, at: 1), unitName: try row.decode(String.self, at: 2),
                    regionCode: try row.decode(String.self, at: 3), role: try row.decode(String.self, at: 4),
                    status: try row.decode(String.self, at: 5), partRole: try row.decode(String.self, at: 6),
                    tasks: try row.decode(String.self, at: 7), budgetShareFen: try row.decode(Int64.self, at: 8),
                    contribution: try row.decode(String.self, at: 9), respondedAt: try row.decode(Date?.self, at: 10)))
        }
        return members
    }

    static func decode(_ row: PostgresRow, members: [Member]) throws -> Bid {
        let content = BidContent(
            technicalRoute: try row.decode(String.self, at: 9), rdFoundation: try row.decode(String.self, at: 10),
            indicatorAnswers: try row.decode([String].self, at: 11), totalInvestmentFen: try row.decode(Int64.self, at: 12),
            selfFundingFen: try row.decode(Int64.self, at: 13), requestedFundingFen: try row.decode(Int64.self, at: 14),
            team: try row.decode(TeamColumn.self, at: 15).members,
            completionCommitment: try row.decode(Bool.self, at: 16))
        return Bid(
            id: try row.decode(Int.self, at: 0), revision: try row.decode(Int.self, at: 1),
            version: try row.decode(Int.self, at: 2), programmeID: try row.decode(Int.self, at: 3),
            challengeID: try row.decode(Int.self, at: 4), challengeTitle: try row.decode(String.self, at: 5),
            leadUnitID: try row.decode(Int.self, at: 6), regionCode: try row.decode(String.self, at: 7),
            status: BidStatus(rawValue: try row.decode(String.self, at: 8)) ?? .draft, content: content,
            members: members, submittedAt: try row.decode(Date?.self, at: 17), createdAt: try row.decode(Date.self, at: 18),
            updatedAt: try row.decode(Date.self, at: 19))
    }

    static let select = """
        SELECT b.id, b.revision, b.version, b.programme_id, b.challenge_id, c.title, b.lead_unit_id, b.region_code,
               b.status::text, b.technical_route, b.rd_foundation, b.indicator_answers, b.total_investment_fen,
               b.self_funding_fen, b.requested_funding_fen, b.team, b.completion_commitment, b.submitted_at,
               b.created_at, b.updated_at
        FROM bids b JOIN challenges c ON c.id = b.challenge_id
        """
}
