public import Foundation
import JobQueue
public import Postgres
import ReviewSolver

/// Review rounds for publishers: start a round, request draws (recording the seed's SHA-256 first),
/// read draws and seats. Units never reach any of it; experts see only their own assignments
/// (`ReviewRecusal`).
public enum ReviewRoundStore {
    /// Starts a round over `input.challengeIDs` (challenges of the programme, none already in a round).
    /// - Throws: `DomainError` for a forbidden actor, invalid fields, unknown or taken challenges.
    public static func create(_ input: ReviewRound.Input, by actor: Actor, on tx: PostgresConnection) async throws -> ReviewRound {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "start review rounds")
        guard
            let programme = try await tx.query(
                "SELECT bureau_id, review_panel_size FROM programmes WHERE id = \(input.programmeID) FOR SHARE"
            ).first?.decode((Int, Int).self)
        else {
            throw DomainError.invalid("programmeID", "there is no programme \(input.programmeID)")
        }
        guard AccessPolicy.mayManageProgrammes(ofBureau: programme.0, by: actor) else {
            throw DomainError.forbidden("only the programme's publisher starts its review rounds")
        }
        var checker = FieldChecker()
        checker.name("name", input.name, 2...200)
        let panelSize = input.panelSize ?? programme.1
        checker.range("panelSize", panelSize, 3...15)
        let alternates = input.alternates ?? 1
        checker.range("alternates", alternates, 0...5)
        var cap = "1"
        do {
            let rational = try Rational(parsing: input.q ?? "1")
            if rational.denominator > 100 {
                checker.add("q", "must have a denominator of at most 100")
            }
            cap = "\(rational.numerator)/\(rational.denominator)"
        } catch {
            checker.add("q", "must be a fraction 0 < q ≤ 1 such as 1/2 or 0.5")
        }
        if input.challengeIDs.isEmpty || input.challengeIDs.count > 500 {
            checker.add("challengeIDs", "must list 1 to 500 challenges")
        } else if Set(input.challengeIDs).count != input.challengeIDs.count {
            checker.add("challengeIDs", "lists a challenge twice")
        }
        if input.scoringDeadline <= Date() {
            checker.add("scoringDeadline", "must be in the future")
        }
        try checker.check()
        let known = try await tx.query(
            """
            SELECT c.id, rc.round_id FROM challenges c LEFT JOIN review_round_challenges rc ON rc.challenge_id = c.id
            WHERE c.id = ANY(\(input.challengeIDs)) AND c.programme_id = \(input.programmeID)
            """
        ).decode((Int, Int?).self)
        let found = Set(known.map(\.0))
        if let missing = input.challengeIDs.first(where: { !found.contains($0) }) {
            throw DomainError.invalid("challengeIDs", "challenge \(missing) is not a challenge of programme \(input.programmeID)")
        }
        if let taken = known.first(where: { $0.1 != nil }) {
            throw DomainError.conflict(field: "challengeIDs", message: "challenge \(taken.0) is already in review round \(taken.1!)")
        }
        let parts = cap.split(separator: "/")
        let numerator = Int(parts[0]) ?? 1
        let denominator = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        let id = try await ConstraintCatalog.translating {
            let id = try await tx.query(
                """
                INSERT INTO review_rounds (programme_id, name, status, panel_size, alternates, cap_numerator, cap_denominator,
                                           scoring_deadline, created_by)
                VALUES (\(input.programmeID), \(input.name.trimmingCharacters(in: .whitespaces)), 'preparing', \(panelSize),
                        \(alternates), \(numerator), \(denominator), \(input.scoringDeadline), \(actor.userID))
                RETURNING id
                """
            ).first!.decode(Int.self)
            try await tx.execute(
                """
                INSERT INTO review_round_challenges (round_id, challenge_id)
                SELECT \(id), c FROM unnest(\(input.challengeIDs)::bigint[]) AS c
                """)
            return id
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "review_round.create", entity: "review_round",
            entityID: String(id), after: ["panelSize": String(panelSize), "alternates": String(alternates), "q": cap],
            on: tx)
        return try await round(id: id, by: actor, on: tx)
    }

    /// The programme's rounds, newest first.
    public static func list(programmeID: Int, by actor: Actor, on db: PostgresConnection) async throws -> [ReviewRound] {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "read review rounds")
        guard let bureau = try await db.query("SELECT bureau_id FROM programmes WHERE id = \(programmeID)").first?.decode(Int.self)
        else { throw DomainError.notFound("there is no programme \(programmeID)") }
        guard AccessPolicy.mayManageProgrammes(ofBureau: bureau, by: actor) else {
            throw DomainError.forbidden("only the programme's publisher reads its review rounds")
        }
        let ids = try await db.query("SELECT id FROM review_rounds WHERE programme_id = \(programmeID) ORDER BY id DESC")
            .decode(Int.self)
        var rounds: [ReviewRound] = []
        for id in ids { rounds.append(try await read(id: id, on: db)) }
        return rounds
    }

    /// One round.
    /// - Throws: `DomainError.notFound`, or `.forbidden` unless the actor publishes its programme.
    public static func round(id: Int, by actor: Actor, on db: PostgresConnection) async throws -> ReviewRound {
        try await authorise(roundID: id, actor, on: db)
        return try await read(id: id, on: db)
    }

    /// Records a new draw and enqueues it: the seed is drawn here from the system's generator and only
    /// its SHA-256 is shown (and written to the audit log) until the draw has run.
    /// - Throws: `.conflict` while another draw is pending, or once the round is closed.
    public static func requestDraw(roundID: Int, dryRun: Bool, by actor: Actor, on tx: PostgresConnection) async throws
        -> ReviewRound.DrawRecord
    {
        try await authorise(roundID: roundID, actor, on: tx)
        let status = try await tx.query("SELECT status FROM review_rounds WHERE id = \(roundID) FOR UPDATE").first!.decode(String.self)
        guard status != "closed" else {
            throw DomainError.conflict(field: nil, message: "review round \(roundID) is closed: no more draws")
        }
        let pending = try await tx.query(
            "SELECT number FROM review_draws WHERE round_id = \(roundID) AND status = 'pending'"
        ).first?.decode(Int.self)
        if let pending {
            throw DomainError.conflict(field: nil, message: "draw \(pending) of review round \(roundID) is still running")
        }
        if !dryRun, try await tx.query("SELECT EXISTS (SELECT 1 FROM review_scores WHERE round_id = \(roundID))").first!.decode(Bool.self) {
            throw DomainError.conflict(
                field: "dryRun", message: "experts have scored in review round \(roundID): it can no longer be redrawn")
        }
        let bids = try await tx.query(
            """
            SELECT count(*) FROM bids b JOIN review_round_challenges rc ON rc.challenge_id = b.challenge_id
            WHERE rc.round_id = \(roundID) AND b.status = 'formal_passed'
            """
        ).first!.decode(Int.self)
        guard bids > 0 else {
            throw DomainError.conflict(field: nil, message: "review round \(roundID) has no formally passed bids to review yet")
        }
        var generator = SystemRandomNumberGenerator()
        let seed = generator.next() as UInt64
        let digest = SHA256Hex.digest(of: Array(String(seed).utf8))
        let number = try await tx.query(
            """
            INSERT INTO review_draws (round_id, number, dry_run, seed, seed_sha256, requested_by)
            SELECT \(roundID), coalesce(max(number), 0) + 1, \(dryRun), \(String(seed))::numeric, \(digest), \(actor.userID)
            FROM review_draws WHERE round_id = \(roundID)
            RETURNING number
            """
        ).first!.decode(Int.self)
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: dryRun ? "review_draw.preview" : "review_draw.request",
            entity: "review_round", entityID: String(roundID),
            after: ["draw": String(number), "seedSha256": digest, "dryRun": String(dryRun)], on: tx)
        try await ReviewJobs.client.enqueue(ReviewJobs.RunDraw(round: roundID, number: number), on: tx)
        return try await draw(roundID: roundID, number: number, on: tx)
    }

    /// The round's draws, newest first (outcomes left out).
    public static func draws(roundID: Int, by actor: Actor, on db: PostgresConnection) async throws -> [ReviewRound.DrawRecord] {
        try await authorise(roundID: roundID, actor, on: db)
        let numbers = try await db.query("SELECT number FROM review_draws WHERE round_id = \(roundID) ORDER BY number DESC")
            .decode(Int.self)
        var draws: [ReviewRound.DrawRecord] = []
        for number in numbers {
            var record = try await draw(roundID: roundID, number: number, on: db)
            record.outcome = nil
            draws.append(record)
        }
        return draws
    }

    /// One draw, with its outcome once it has run.
    public static func draw(roundID: Int, number: Int, by actor: Actor, on db: PostgresConnection) async throws
        -> ReviewRound.DrawRecord
    {
        try await authorise(roundID: roundID, actor, on: db)
        return try await draw(roundID: roundID, number: number, on: db)
    }

    /// Every assignment of the round, by bid, seats first.
    public static func seats(roundID: Int, by actor: Actor, on db: PostgresConnection) async throws -> [ReviewRound.Seat] {
        try await authorise(roundID: roundID, actor, on: db)
        let rows = try await db.query(
            """
            SELECT a.id, a.bid_id, b.challenge_id, a.expert_id, u.display_name, e.organisation, a.role, a.alternate_rank,
                   a.status, a.source, a.recusal_reason, a.draw_number
            FROM review_assignments a
            JOIN bids b ON b.id = a.bid_id JOIN experts e ON e.user_id = a.expert_id JOIN users u ON u.id = a.expert_id
            WHERE a.round_id = \(roundID)
            ORDER BY a.bid_id, a.role DESC, a.alternate_rank NULLS FIRST, a.id
            """)
        return try rows.map { row in
            ReviewRound.Seat(
                id: try row.decode(Int.self, at: 0), bidID: try row.decode(Int.self, at: 1),
                challengeID: try row.decode(Int.self, at: 2), expertID: try row.decode(Int.self, at: 3),
                expertName: try row.decode(String.self, at: 4), organisation: try row.decode(String.self, at: 5),
                role: try row.decode(String.self, at: 6), alternateRank: try row.decode(Int?.self, at: 7),
                status: try row.decode(String.self, at: 8), source: try row.decode(String.self, at: 9),
                recusalReason: try row.decode(String?.self, at: 10), drawNumber: try row.decode(Int.self, at: 11))
        }
    }

    /// Requires the actor to publish the round's programme.
    static func authorise(roundID: Int, _ actor: Actor, on db: PostgresConnection) async throws {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "manage review rounds")
        guard
            let bureau = try await db.query(
                "SELECT p.bureau_id FROM review_rounds r JOIN programmes p ON p.id = r.programme_id WHERE r.id = \(roundID)"
            ).first?.decode(Int.self)
        else {
            throw DomainError.notFound("there is no review round \(roundID)")
        }
        try AccessPolicy.requireManager(
            ofBureau: bureau, actor, missing: "there is no review round \(roundID)",
            reason: "only the programme's publisher manages its review rounds")
    }

    static func read(id: Int, on db: PostgresConnection) async throws -> ReviewRound {
        guard
            let row = try await db.query(
                """
                SELECT r.id, r.programme_id, r.name, r.status, r.panel_size, r.alternates,
                       CASE WHEN r.cap_denominator = 1 THEN r.cap_numerator::text ELSE r.cap_numerator || '/' || r.cap_denominator END,
                       r.scoring_deadline,
                       ARRAY(SELECT challenge_id FROM review_round_challenges WHERE round_id = r.id ORDER BY challenge_id),
                       (SELECT count(*) FROM bids b JOIN review_round_challenges rc ON rc.challenge_id = b.challenge_id
                        WHERE rc.round_id = r.id AND b.status = 'formal_passed'),
                       r.created_at, r.closed_at, r.revision
                FROM review_rounds r WHERE r.id = \(id)
                """
            ).first
        else { throw DomainError.notFound("there is no review round \(id)") }
        return ReviewRound(
            id: try row.decode(Int.self, at: 0), programmeID: try row.decode(Int.self, at: 1), name: try row.decode(String.self, at: 2),
            status: try row.decode(String.self, at: 3), panelSize: try row.decode(Int.self, at: 4),
            alternates: try row.decode(Int.self, at: 5), q: try row.decode(String.self, at: 6),
            scoringDeadline: try row.decode(Date.self, at: 7), challengeIDs: try row.decode([Int].self, at: 8),
            bidCount: try row.decode(Int.self, at: 9), createdAt: try row.decode(Date.self, at: 10),
            closedAt: try row.decode(Date?.self, at: 11), revision: try row.decode(Int.self, at: 12))
    }

    static func draw(roundID: Int, number: Int, on db: PostgresConnection) async throws -> ReviewRound.DrawRecord {
        guard
            let row = try await db.query(
                """
                SELECT round_id, number, dry_run, status, seed_sha256, CASE WHEN status <> 'pending' THEN seed::text END,
                       fingerprint, expected_affinity::float8, optimum_affinity::float8, drawn_affinity, failure,
                       requested_at, finished_at, outcome
                FROM review_draws WHERE round_id = \(roundID) AND number = \(number)
                """
            ).first
        else { throw DomainError.notFound("review round \(roundID) has no draw \(number)") }
        let expected = try row.decode(Double?.self, at: 7)
        let optimum = try row.decode(Double?.self, at: 8)
        var percent: Double?
        if let expected, let optimum {
            percent = optimum > 0 ? (expected / optimum * 10_000).rounded() / 100 : 100
        }
        return ReviewRound.DrawRecord(
            roundID: try row.decode(Int.self, at: 0), number: try row.decode(Int.self, at: 1),
            dryRun: try row.decode(Bool.self, at: 2), status: try row.decode(String.self, at: 3),
            seedSha256: try row.decode(String.self, at: 4), seed: try row.decode(String?.self, at: 5),
            fingerprint: try row.decode(String?.self, at: 6), expectedAffinity: expected, optimumAffinity: optimum,
            percentOfOptimum: percent, drawnAffinity: try row.decode(Int?.self, at: 9),
            failure: try row.decode(String?.self, at: 10), requestedAt: try row.decode(Date.self, at: 11),
            finishedAt: try row.decode(Date?.self, at: 12),
            outcome: try row.decode(PostgresJSON<ReviewOutcome>?.self, at: 13)?.value)
    }
}
