public import Foundation
public import Postgres

/// A closed round's ranking per challenge, and the closing of a round by its publisher.
///
/// A round closes (`assigned → closed`) once its scoring deadline has passed or every active panel
/// seat has a submitted score, whichever comes first; only then are scores counted and shown. Drafts
/// never count. The arithmetic and the tie rule are `ScoreAggregation`'s.
public struct RoundRanking: Codable, Sendable, Hashable {
    /// One bid in a challenge's ranking.
    public struct Entry: Codable, Sendable, Hashable {
        public var bidID: Int
        public var leadUnitName: String
        public var standing: ScoreAggregation.Standing
    }

    /// One challenge's ranking, best first.
    public struct Challenge: Codable, Sendable, Hashable {
        public var challengeID: Int
        public var title: String
        /// How many winners the challenge has (赛马制: more than one).
        public var winners: Int
        public var entries: [Entry]
    }

    public var roundID: Int
    public var programmeID: Int
    public var status: String
    public var closedAt: Date?
    public var challenges: [Challenge]

    /// Closes a round.
    /// - Throws: `DomainError` (not the programme's publisher, not assigned, deadline ahead with seats unscored).
    public static func close(roundID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> RoundRanking {
        let (programmeID, status, deadlinePassed) = try await round(roundID, lock: true, on: tx)
        try await requirePublisher(programmeID, roundID, actor, on: tx)
        guard status == "assigned" else {
            throw DomainError.conflict(field: "status", message: "only an assigned round closes; this one is \(status)")
        }
        if !deadlinePassed {
            let open = try await tx.query(
                """
                SELECT count(*) FROM review_assignments a LEFT JOIN review_scores s ON s.assignment_id = a.id
                WHERE a.round_id = \(roundID) AND a.role = 'panel' AND a.status = 'active' AND s.submitted_at IS NULL
                """
            ).first!.decode(Int.self)
            guard open == 0 else {
                throw DomainError.conflict(
                    field: "scoringDeadline",
                    message: "the deadline has not passed and \(open) panel score(s) are not submitted")
            }
        }
        return try await ConstraintCatalog.translating {
            try await tx.execute("UPDATE review_rounds SET status = 'closed', closed_at = now() WHERE id = \(roundID)")
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "review_round.close", entity: "review_round",
                entityID: "\(roundID)", before: ["status": status], after: ["status": "closed"], on: tx)
            return try await ranking(roundID: roundID, by: actor, on: tx)
        }
    }

    /// The ranking of a closed round, for its programme's publisher.
    /// - Throws: `DomainError` (unknown round, not the publisher, the round not closed).
    public static func ranking(roundID: Int, by actor: Actor, on db: PostgresConnection) async throws -> RoundRanking {
        let (programmeID, status, _) = try await round(roundID, lock: false, on: db)
        try await requirePublisher(programmeID, roundID, actor, on: db)
        guard status == "closed" else {
            throw DomainError.conflict(field: "status", message: "scores are shown once the round is closed; it is \(status)")
        }
        let closedAt = try await db.query("SELECT closed_at FROM review_rounds WHERE id = \(roundID)").first!.decode(Date?.self)
        let rubric = try await Rubric.load(programmeID: programmeID, on: db).criteria.map(\.forAggregation)
        let challenges = try await db.query(
            """
            SELECT c.id, c.title, c.winners FROM review_round_challenges rc JOIN challenges c ON c.id = rc.challenge_id
            WHERE rc.round_id = \(roundID) ORDER BY c.id
            """
        ).decode((Int, String, Int).self)
        let bids = try await db.query(
            """
            SELECT b.id, b.challenge_id, u.name, b.submitted_at FROM bids b
            JOIN review_round_challenges rc ON rc.challenge_id = b.challenge_id AND rc.round_id = \(roundID)
            JOIN units u ON u.id = b.lead_unit_id
            WHERE b.status = 'formal_passed' ORDER BY b.id
            """
        ).decode((Int, Int, String, Date?).self)
        var sheets: [Int: [[String: Int]]] = [:]
        for row in try await db.query(
            """
            SELECT a.bid_id, a.id, array_agg(i.criterion_key ORDER BY i.criterion_key), array_agg(i.score ORDER BY i.criterion_key)
            FROM review_assignments a
            JOIN review_scores s ON s.assignment_id = a.id AND s.status = 'submitted'
            JOIN review_score_items i ON i.assignment_id = a.id
            WHERE a.round_id = \(roundID) AND a.role = 'panel' AND a.status = 'active'
            GROUP BY a.bid_id, a.id ORDER BY a.id
            """)
        {
            let (bid, _, keys, scores) = try row.decode((Int, Int, [String], [Int]).self)
            sheets[bid, default: []].append(Dictionary(zip(keys, scores), uniquingKeysWith: { a, _ in a }))
        }
        let names = Dictionary(bids.map { ($0.0, $0.2) }, uniquingKeysWith: { a, _ in a })
        return RoundRanking(
            roundID: roundID, programmeID: programmeID, status: status, closedAt: closedAt,
            challenges: challenges.map { challenge in
                let scores = bids.filter { $0.1 == challenge.0 }.map {
                    ScoreAggregation.BidScores(bidID: $0.0, submittedAt: $0.3, sheets: sheets[$0.0] ?? [])
                }
                return Challenge(
                    challengeID: challenge.0, title: challenge.1, winners: challenge.2,
                    entries: ScoreAggregation.rank(scores, rubric: rubric).map {
                        Entry(bidID: $0.bidID, leadUnitName: names[$0.bidID] ?? "", standing: $0)
                    })
            })
    }

    /// The round's programme, status and whether its deadline has passed.
    static func round(_ id: Int, lock: Bool, on db: PostgresConnection) async throws -> (Int, String, Bool) {
        let rows =
            lock
            ? try await db.query("SELECT programme_id, status, scoring_deadline <= now() FROM review_rounds WHERE id = \(id) FOR UPDATE")
            : try await db.query("SELECT programme_id, status, scoring_deadline <= now() FROM review_rounds WHERE id = \(id)")
        guard let row = rows.first else { throw DomainError.notFound("no review round has id \(id)") }
        return try row.decode((Int, String, Bool).self)
    }

    static func requirePublisher(_ programmeID: Int, _ roundID: Int, _ actor: Actor, on db: PostgresConnection) async throws {
        let programme = try await ProgrammeStore.programme(id: programmeID, on: db)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: "no review round has id \(roundID)",
            reason: "only a publisher of \(programme.bureauName) handles review round \(roundID)")
    }
}
