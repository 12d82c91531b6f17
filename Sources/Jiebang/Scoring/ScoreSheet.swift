public import Foundation
public import Postgres

/// An expert's score of one panel seat (评分表): a value and a comment per criterion.
///
/// ```text
/// (none) ─save→ draft ─save→ draft ─submit→ submitted (locked)
/// ```
/// An expert scores only their own active panel seats (not alternates, not recused ones), only while
/// the round is `assigned` and before its scoring deadline. Scores are shown to nobody else: another
/// expert gets 404, units and bureaus 403; the publisher sees the ranking once the round is closed.
/// The database holds every rule as well (definitions/12_awards.sql).
public struct ScoreSheet: Codable, Sendable, Hashable {
    /// One criterion's value.
    public struct Item: Codable, Sendable, Hashable {
        public var criterion: String
        public var score: Int
        public var comment: String

        /// Creates an item.
        public init(criterion: String, score: Int, comment: String = "") {
            self.criterion = criterion
            self.score = score
            self.comment = comment
        }
    }

    /// Where a sheet stands: `none` (nothing saved), `draft` or `submitted`.
    public enum Status: String, Codable, Sendable, Hashable {
        case none, draft, submitted
    }

    public var assignmentID: Int
    public var roundID: Int
    public var bidID: Int
    public var challengeID: Int
    public var challengeTitle: String
    public var leadUnitName: String
    /// The round's status: `assigned` (scoring open) or `closed`.
    public var roundStatus: String
    public var scoringDeadline: Date
    public var status: Status
    public var items: [Item]
    /// The expert's weighted total so far (0–100).
    public var weightedTotal: Points
    public var submittedAt: Date?
    public var revision: Int

    /// The actor's own active panel seats, newest round first, with their sheets.
    /// - Throws: `DomainError.forbidden` for anyone but an expert.
    public static func mine(by actor: Actor, on db: PostgresConnection) async throws -> [ScoreSheet] {
        try AccessPolicy.require(actor, [.expert], to: "score bids")
        let ids = try await db.query(
            """
            SELECT a.id FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
            WHERE a.expert_id = \(actor.userID) AND a.role = 'panel' AND a.status = 'active' AND r.status <> 'preparing'
            ORDER BY a.round_id DESC, a.id
            """
        ).decode(Int.self)
        var sheets: [ScoreSheet] = []
        for id in ids { sheets.append(try await load(assignmentID: id, by: actor, on: db)) }
        return sheets
    }

    /// The actor's sheet of one seat.
    /// - Throws: `DomainError.forbidden` for anyone but an expert; `notFound` for a seat that is not the
    ///   actor's active panel seat (another expert's seat is not revealed).
    public static func load(assignmentID: Int, by actor: Actor, on db: PostgresConnection) async throws -> ScoreSheet {
        try AccessPolicy.require(actor, [.expert], to: "score bids")
        guard
            let row = try await db.query(
                """
                SELECT a.id, a.round_id, a.bid_id, c.id, c.title, u.name, r.status, r.scoring_deadline, r.programme_id,
                       COALESCE(s.status, 'none'), s.submitted_at, COALESCE(s.revision, 0)
                FROM review_assignments a
                JOIN review_rounds r ON r.id = a.round_id
                JOIN bids b ON b.id = a.bid_id
                JOIN challenges c ON c.id = b.challenge_id
                JOIN units u ON u.id = b.lead_unit_id
                LEFT JOIN review_scores s ON s.assignment_id = a.id
                WHERE a.id = \(assignmentID) AND a.expert_id = \(actor.userID) AND a.role = 'panel' AND a.status = 'active'
                  AND r.status <> 'preparing'
                """
            ).first
        else {
            throw DomainError.notFound("no active panel seat of yours has id \(assignmentID)")
        }
        let (id, round, bid, challenge, title, lead, roundStatus, deadline, programme, status, submittedAt, revision) =
            try row.decode((Int, Int, Int, Int, String, String, String, Date, Int, String, Date?, Int).self)
        let items = try await db.query(
            """
            SELECT i.criterion_key, i.score, i.comment FROM review_score_items i
            LEFT JOIN rubric_criteria c ON c.programme_id = \(programme) AND c.key = i.criterion_key
            WHERE i.assignment_id = \(id) ORDER BY c.position NULLS LAST, i.criterion_key
            """
        ).map {
            let (criterion, score, comment) = try $0.decode((String, Int, String).self)
            return Item(criterion: criterion, score: score, comment: comment)
        }
        let rubric = try await Rubric.load(programmeID: programme, on: db)
        let values = Dictionary(items.map { ($0.criterion, $0.score) }, uniquingKeysWith: { a, _ in a })
        return ScoreSheet(
            assignmentID: id, roundID: round, bidID: bid, challengeID: challenge, challengeTitle: title, leadUnitName: lead,
            roundStatus: roundStatus, scoringDeadline: deadline, status: Status(rawValue: status) ?? .none, items: items,
            weightedTotal: ScoreAggregation.weightedTotal(values, rubric: rubric.criteria.map(\.forAggregation)),
            submittedAt: submittedAt, revision: revision)
    }

    /// Saves a draft: the given values replace the sheet's (a criterion left out has no value yet).
    /// - Throws: `DomainError` (not the actor's seat, scoring not open or past the deadline, submitted
    ///   already, an unknown criterion or a value out of range).
    public static func save(assignmentID: Int, _ items: [Item], by actor: Actor, on tx: PostgresConnection) async throws
        -> ScoreSheet
    {
        let sheet = try await requireOpen(assignmentID: assignmentID, by: actor, on: tx)
        let rubric = try await Rubric.load(programmeID: try await programme(of: sheet, on: tx), on: tx)
        try check(items, against: rubric)
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO review_scores (assignment_id, round_id, programme_id)
                SELECT a.id, a.round_id, r.programme_id FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
                WHERE a.id = \(assignmentID)
                ON CONFLICT (assignment_id) DO UPDATE SET status = review_scores.status
                """)
            try await tx.execute(
                """
                DELETE FROM review_score_items WHERE assignment_id = \(assignmentID)
                  AND NOT (criterion_key = ANY (\(items.map(\.criterion))))
                """)
            try await tx.execute(
                """
                INSERT INTO review_score_items (assignment_id, criterion_key, score, comment)
                SELECT \(assignmentID), key, score, comment
                FROM unnest(\(items.map(\.criterion)), \(items.map(\.score)), \(items.map(\.comment))) AS t(key, score, comment)
                ON CONFLICT (assignment_id, criterion_key) DO UPDATE SET score = EXCLUDED.score, comment = EXCLUDED.comment
                """)
            return try await load(assignmentID: assignmentID, by: actor, on: tx)
        }
    }

    /// Submits the sheet: it must have a value for every criterion; afterwards it is locked.
    /// - Throws: `DomainError` (as `save`, and a criterion without a value).
    public static func submit(assignmentID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> ScoreSheet {
        let sheet = try await requireOpen(assignmentID: assignmentID, by: actor, on: tx)
        let rubric = try await Rubric.load(programmeID: try await programme(of: sheet, on: tx), on: tx)
        let given = Set(sheet.items.map(\.criterion))
        let missing = rubric.criteria.map(\.key).filter { !given.contains($0) }
        guard sheet.status == .draft, missing.isEmpty else {
            throw DomainError.invalid(
                "items", "has no value for \((sheet.status == .none ? rubric.criteria.map(\.key) : missing).joined(separator: ", "))")
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE review_scores SET status = 'submitted' WHERE assignment_id = \(assignmentID)")
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "score.submit", entity: "review_assignment",
                entityID: "\(assignmentID)", on: tx)
            return try await load(assignmentID: assignmentID, by: actor, on: tx)
        }
    }

    /// Checks values against the rubric: known criteria, each once, in range, comments up to 2,000 characters.
    /// - Throws: `DomainError.invalid` naming every item at fault.
    public static func check(_ items: [Item], against rubric: Rubric) throws(DomainError) {
        var checker = FieldChecker()
        let criteria = Dictionary(rubric.criteria.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            guard let criterion = criteria[item.criterion] else {
                checker.add("items[\(index)].criterion", "must be one of \(rubric.criteria.map(\.key).joined(separator: ", "))")
                continue
            }
            if !seen.insert(item.criterion).inserted { checker.add("items[\(index)].criterion", "\(item.criterion) is scored twice") }
            checker.range("items[\(index)].score", item.score, criterion.minScore...criterion.maxScore)
            checker.maxLength("items[\(index)].comment", item.comment, 2000)
        }
        try checker.check()
    }

    /// Loads the actor's sheet, locking its seat's round to share, and requires scoring to be open on it.
    static func requireOpen(assignmentID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> ScoreSheet {
        let sheet = try await load(assignmentID: assignmentID, by: actor, on: tx)
        let open = try await tx.query(
            "SELECT scoring_deadline > now() FROM review_rounds WHERE id = \(sheet.roundID) FOR SHARE"
        ).first!.decode(Bool.self)
        guard sheet.roundStatus == "assigned" else {
            throw DomainError.conflict(field: "round", message: "the round is \(sheet.roundStatus): scoring is not open")
        }
        guard open else {
            throw DomainError.conflict(field: "scoringDeadline", message: "the scoring deadline has passed")
        }
        guard sheet.status != .submitted else {
            throw DomainError.conflict(field: "status", message: "a submitted score is locked")
        }
        return sheet
    }

    static func programme(of sheet: ScoreSheet, on db: PostgresConnection) async throws -> Int {
        try await db.query("SELECT programme_id FROM review_rounds WHERE id = \(sheet.roundID)").first!.decode(Int.self)
    }
}
