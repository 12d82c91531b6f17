public import Foundation
public import Postgres
import JobQueue
import ReviewSolver

/// An expert's own assignments, and recusal (回避 declared by the expert): the seat is filled by the
/// bid's first alternate, else by a replacement drawn from the pool under the same rules (the
/// `review.replace_recused` job).
public enum ReviewRecusal {
    /// What filled a recused seat.
    public enum Replacement: Equatable, Sendable {
        /// The recused row was an alternate, or the seat was already filled: nothing to do.
        case notNeeded
        /// The bid's first alternate took the seat.
        case promoted(expertID: Int)
        /// An expert from the pool took the seat.
        case drawn(expertID: Int)
        /// Nobody eligible was left: the bid has one seat fewer (the round's seats show it).
        case noneEligible
    }

    /// The actor's active assignments (seats and alternates) in rounds not closed, soonest deadline first.
    public static func assignments(of actor: Actor, on db: PostgresConnection) async throws -> [ReviewRound.Assignment] {
        try AccessPolicy.require(actor, [.expert], to: "read review assignments")
        let rows = try await db.query(
            """
            SELECT a.id, r.id, r.name, r.scoring_deadline, a.role, a.alternate_rank, a.status, b.id, c.id, c.title,
                   lead.name,
                   ARRAY(SELECT u.name FROM bid_members m JOIN units u ON u.id = m.unit_id
                         WHERE m.bid_id = b.id AND m.role = 'partner' AND m.status = 'accepted' ORDER BY u.name),
                   b.technical_route, b.rd_foundation, b.requested_funding_fen, b.total_investment_fen
            FROM review_assignments a
            JOIN review_rounds r ON r.id = a.round_id
            JOIN bids b ON b.id = a.bid_id
            JOIN challenges c ON c.id = b.challenge_id
            JOIN units lead ON lead.id = b.lead_unit_id
            WHERE a.expert_id = \(actor.userID) AND a.status = 'active' AND r.status <> 'closed'
            ORDER BY r.scoring_deadline, a.id
            """)
        return try rows.map { row in
            ReviewRound.Assignment(
                id: try row.decode(Int.self, at: 0), roundID: try row.decode(Int.self, at: 1),
                roundName: try row.decode(String.self, at: 2), scoringDeadline: try row.decode(Date.self, at: 3),
                role: try row.decode(String.self, at: 4), alternateRank: try row.decode(Int?.self, at: 5),
                status: try row.decode(String.self, at: 6), bidID: try row.decode(Int.self, at: 7),
                challengeID: try row.decode(Int.self, at: 8), challengeTitle: try row.decode(String.self, at: 9),
                leadUnitName: try row.decode(String.self, at: 10), partnerUnitNames: try row.decode([String].self, at: 11),
                technicalRoute: try row.decode(String.self, at: 12), rdFoundation: try row.decode(String.self, at: 13),
                requestedFundingFen: try row.decode(Int.self, at: 14), totalInvestmentFen: try row.decode(Int.self, at: 15))
        }
    }

    /// The expert recuses from their assignment `assignmentID` with `reason`; a replacement is enqueued.
    /// - Throws: `.notFound` unless it is the actor's, `.conflict` unless it is active in an open round,
    ///   `.invalid` for a reason of fewer than 2 or more than 1,000 characters.
    public static func recuse(assignmentID: Int, reason: String, by actor: Actor, on tx: PostgresConnection) async throws {
        try AccessPolicy.require(actor, [.expert], to: "recuse from review assignments")
        var checker = FieldChecker()
        checker.length("reason", reason, 2...1000)
        try checker.check()
        guard let row = try await tx.query(
            """
            SELECT a.status, r.status, a.round_id, a.bid_id FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id
            WHERE a.id = \(assignmentID) AND a.expert_id = \(actor.userID)
            FOR UPDATE OF a
            """
        ).first else { throw DomainError.notFound("you have no review assignment \(assignmentID)") }
        let (status, roundStatus, roundID, bidID) = try row.decode((String, String, Int, Int).self)
        guard roundStatus != "closed" else {
            throw DomainError.conflict(field: nil, message: "review round \(roundID) is closed")
        }
        guard status == "active" else {
            throw DomainError.conflict(field: nil, message: "you already recused from assignment \(assignmentID)")
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE review_assignments SET status = 'recused', recusal_reason = \(trimmed), recused_at = now()
                WHERE id = \(assignmentID)
                """)
        }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "review_assignment.recuse", entity: "review_assignment",
            entityID: String(assignmentID), after: ["round": String(roundID), "bid": String(bidID), "reason": trimmed], on: tx)
        try await ReviewJobs.client.enqueue(ReviewJobs.ReplaceRecused(assignment: assignmentID), on: tx)
    }

    /// Fills the seat left by the recused assignment `assignmentID` (the job's body). Runs once per
    /// recusal: it fills only a bid with fewer than `k` active seats.
    public static func replace(assignmentID: Int, on tx: PostgresConnection) async throws -> Replacement {
        guard let row = try await tx.query(
            """
            SELECT a.round_id, a.bid_id, a.role, a.status, a.draw_number, r.status, r.panel_size, p.bureau_id, d.seed::text
            FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id JOIN programmes p ON p.id = r.programme_id
            JOIN review_draws d ON d.round_id = a.round_id AND d.number = a.draw_number
            WHERE a.id = \(assignmentID)
            FOR UPDATE OF r
            """
        ).first else { return .notNeeded }
        let (roundID, bidID, role, status, drawNumber, roundStatus, panelSize, bureauID, seedText) = try row.decode(
            (Int, Int, String, String, Int, String, Int, Int, String).self)
        guard role == "panel", status == "recused", roundStatus != "closed" else { return .notNeeded }
        let seated = try await tx.query(
            "SELECT count(*) FROM review_assignments WHERE round_id = \(roundID) AND bid_id = \(bidID) AND role = 'panel' AND status = 'active'"
        ).first!.decode(Int.self)
        guard seated < panelSize else { return .notNeeded }
        if let alternate = try await tx.query(
            """
            SELECT id, expert_id FROM review_assignments
            WHERE round_id = \(roundID) AND bid_id = \(bidID) AND role = 'alternate' AND status = 'active'
            ORDER BY alternate_rank, id LIMIT 1
            """
        ).first?.decode((Int, Int).self) {
            try await tx.execute("UPDATE review_assignments SET role = 'panel', promoted_at = now() WHERE id = \(alternate.0)")
            try await AuditLog.append(
                actor: "system", action: "review_assignment.promote", entity: "review_assignment", entityID: String(alternate.0),
                after: ["replaces": String(assignmentID), "expert": String(alternate.1)], on: tx)
            try await ReviewNotices.tellExperts(
                roundID: roundID, experts: [alternate.1], subject: "review_assignment:\(assignmentID)", on: tx)
            return .promoted(expertID: alternate.1)
        }
        let candidates = try await tx.query(
            """
            SELECT e.user_id, e.domains, e.industry_chains, e.keywords
            FROM experts e JOIN users u ON u.id = e.user_id
            WHERE e.bureau_id = \(bureauID) AND e.retired_at IS NULL AND e.available AND u.disabled_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM review_assignments a
                              WHERE a.round_id = \(roundID) AND a.bid_id = \(bidID) AND a.expert_id = e.user_id)
              AND NOT EXISTS (SELECT 1 FROM review_assignments a
                              WHERE a.round_id = \(roundID) AND a.bid_id = \(bidID) AND a.status = 'active'
                                AND a.organisation_key = e.organisation_key)
              AND (SELECT count(*) FROM review_assignments a
                   WHERE a.round_id = \(roundID) AND a.expert_id = e.user_id AND a.status = 'active') < e.load_cap
              AND review_conflict_reason(e.user_id, \(bidID)) IS NULL
            ORDER BY e.user_id
            """
        ).decode((Int, [String], [String], [String]).self)
        guard !candidates.isEmpty else {
            try await AuditLog.append(
                actor: "system", action: "review_assignment.no_replacement", entity: "review_assignment",
                entityID: String(assignmentID), after: ["round": String(roundID), "bid": String(bidID)], on: tx)
            return .noneEligible
        }
        let subject = try await tx.query(
            """
            SELECT c.domain, c.industry_chain, c.title || ' ' || c.task || ' ' || c.content || ' ' || b.technical_route
            FROM bids b JOIN challenges c ON c.id = b.challenge_id WHERE b.id = \(bidID)
            """
        ).first!.decode((String, String, String).self)
        let weights = candidates.map { candidate in
            1 + Affinity.score(
                Affinity.Profile(domains: candidate.1, industryChains: candidate.2, keywords: candidate.3),
                Affinity.Subject(domain: subject.0, industryChain: subject.1, text: subject.2))
        }
        let chosen = candidates[pick(weights: weights, seed: (UInt64(seedText) ?? 0) ^ UInt64(assignmentID))].0
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO review_assignments (round_id, draw_number, bid_id, expert_id, organisation_key, role, source)
                VALUES (\(roundID), \(drawNumber), \(bidID), \(chosen), '', 'panel', 'replacement')
                """)
        }
        try await AuditLog.append(
            actor: "system", action: "review_assignment.replace", entity: "review_assignment", entityID: String(assignmentID),
            after: ["round": String(roundID), "bid": String(bidID), "expert": String(chosen)], on: tx)
        try await ReviewNotices.tellExperts(roundID: roundID, experts: [chosen], subject: "review_assignment:\(assignmentID)", on: tx)
        return .drawn(expertID: chosen)
    }

    /// An index drawn with probability proportional to `weights` (each ≥ 1), from a generator seeded
    /// with the draw's seed and the recused assignment: replacements are as unpredictable as the draw
    /// and can be recomputed from the record.
    static func pick(weights: [Int], seed: UInt64) -> Int {
        var generator = SplitMix64(seed: seed)
        let total = weights.reduce(0, +)
        var ticket = Int(generator.uniform(below: UInt64(total)))
        for (index, weight) in weights.enumerated() {
            if ticket < weight { return index }
            ticket -= weight
        }
        return weights.count - 1
    }
}
