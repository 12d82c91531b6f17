public import Foundation
public import Postgres

/// The winners of a challenge (揭榜单位) and their public notice (公示).
///
/// ```text
/// (closed round) ─pick→ pending ─publish→ published (公示: objections open) ─finalise→ final
///                pending ─unpick→ (gone)
/// ```
/// The publisher picks up to `challenges.winners` formally passed bids of the challenge (by default the
/// top of the ranking: `suggested`), then publishes them all at once. The period is the programme's
/// `publicityWorkingDays` working days after the day of publication, in Asia/Shanghai
/// (`PublicityPeriod`). After it, and once every objection is resolved, the publisher finalises; the
/// final winners are on the public board, with the lead and partner units, never reviewers or scores.
public enum AwardStore {
    /// Where a challenge's winners stand.
    public enum Stage: String, Codable, Sendable, Hashable {
        case pending, published, final
    }

    /// A picked bid.
    public struct Winner: Codable, Sendable, Hashable {
        public var bidID: Int
        public var leadUnitID: Int
        public var leadUnitName: String
        public var partnerUnitNames: [String]
        /// Its place in the round's ranking.
        public var rank: Int?
        public var pickedAt: Date
    }

    /// A challenge's notice.
    public struct Notice: Codable, Sendable, Hashable {
        public var publishedAt: Date
        /// The first and last working day of the period (Asia/Shanghai), as `2026-12-04`.
        public var firstDay: String
        public var lastDay: String
        /// When objections close: the start of the day after the last one, Asia/Shanghai.
        public var objectionsCloseAt: Date
        public var openObjections: Int
        public var finalisedAt: Date?
    }

    /// What the publisher sees of a challenge's award.
    public struct Award: Codable, Sendable, Hashable {
        public var challengeID: Int
        public var roundID: Int?
        public var winnersAllowed: Int
        public var stage: Stage
        public var winners: [Winner]
        /// The top of the closed round's ranking, as many as the challenge has winners.
        public var suggested: [Int]
        public var notice: Notice?
    }

    /// A line of the public list of winning units (揭榜单位名单).
    public struct PublicWinner: Codable, Sendable, Hashable {
        public var programmeID: Int
        public var challengeID: Int
        public var challengeTitle: String
        public var bidID: Int
        public var leadUnitName: String
        public var partnerUnitNames: [String]
        public var stage: Stage
        public var publishedAt: Date
        public var objectionsCloseAt: Date
        public var finalisedAt: Date?
        /// The audit chain's head when the notice was published (`seq:hash`).
        public var auditHead: String?
    }

    /// The challenge's award, for its programme's publisher.
    /// - Throws: `DomainError` (unknown challenge, not the publisher).
    public static func award(challengeID: Int, by actor: Actor, on db: PostgresConnection) async throws -> Award {
        let challenge = try await requirePublisher(challengeID, actor, lock: false, on: db)
        let ranking: RoundRanking.Challenge? =
            if let round = challenge.roundID, challenge.roundClosed {
                try await RoundRanking.ranking(roundID: round, by: actor, on: db).challenges.first { $0.challengeID == challengeID }
            } else {
                nil
            }
        let ranks = Dictionary((ranking?.entries ?? []).map { ($0.bidID, $0.standing.rank) }, uniquingKeysWith: { a, _ in a })
        let winners = try await db.query(
            """
            SELECT a.bid_id, b.lead_unit_id, u.name,
                   ARRAY(SELECT pu.name FROM bid_members m JOIN units pu ON pu.id = m.unit_id
                         WHERE m.bid_id = a.bid_id AND m.role = 'partner' AND m.status = 'accepted' ORDER BY pu.name),
                   a.picked_at
            FROM awards a JOIN bids b ON b.id = a.bid_id JOIN units u ON u.id = b.lead_unit_id
            WHERE a.challenge_id = \(challengeID) ORDER BY a.picked_at, a.bid_id
            """
        ).map {
            let (bid, lead, name, partners, pickedAt) = try $0.decode((Int, Int, String, [String], Date).self)
            return Winner(
                bidID: bid, leadUnitID: lead, leadUnitName: name, partnerUnitNames: partners, rank: ranks[bid], pickedAt: pickedAt)
        }
        let notice = try await db.query(
            """
            SELECT published_at, first_day::text, last_day::text, objections_close_at,
                   (SELECT count(*) FROM award_objections o WHERE o.challenge_id = n.challenge_id AND o.resolved_at IS NULL),
                   finalised_at
            FROM award_notices n WHERE challenge_id = \(challengeID)
            """
        ).first.map {
            let (publishedAt, first, last, closes, open, finalisedAt) = try $0.decode((Date, String, String, Date, Int, Date?).self)
            return Notice(
                publishedAt: publishedAt, firstDay: first, lastDay: last, objectionsCloseAt: closes, openObjections: open,
                finalisedAt: finalisedAt)
        }
        let stage: Stage = notice == nil ? .pending : notice?.finalisedAt == nil ? .published : .final
        let suggested = (ranking?.entries ?? []).filter { $0.standing.scoreCount > 0 }.prefix(challenge.winners).map(\.bidID)
        return Award(
            challengeID: challengeID, roundID: challenge.roundID, winnersAllowed: challenge.winners, stage: stage,
            winners: winners, suggested: Array(suggested), notice: notice)
    }

    /// Picks a bid as a pending winner (picking it again changes nothing).
    /// - Throws: `DomainError` (not the publisher, the round not closed, already published, not a formally
    ///   passed bid of the challenge, the challenge's winners all picked).
    public static func pick(challengeID: Int, bidID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Award {
        let challenge = try await requirePending(challengeID, actor, on: tx)
        let eligible =
            try await tx.query(
                "SELECT 1 FROM bids WHERE id = \(bidID) AND challenge_id = \(challengeID) AND status = 'formal_passed'"
            ).first != nil
        guard eligible else {
            throw DomainError.invalid("bidId", "bid \(bidID) is not a formally passed bid of challenge \(challengeID)")
        }
        let picked = try await tx.query("SELECT bid_id FROM awards WHERE challenge_id = \(challengeID)").decode(Int.self)
        if !picked.contains(bidID) {
            guard picked.count < challenge.winners else {
                throw DomainError.conflict(
                    field: "winners", message: "the challenge has \(challenge.winners) winner(s) at most; unpick one first")
            }
            try await ConstraintCatalog.translating {
                try await tx.execute(
                    """
                    INSERT INTO awards (challenge_id, bid_id, round_id, picked_by)
                    VALUES (\(challengeID), \(bidID), \(challenge.roundID!), \(actor.userID))
                    """)
                try await AuditLog.append(
                    actor: actor.displayName, actorID: actor.userID, action: "award.pick", entity: "challenge",
                    entityID: "\(challengeID)", after: ["bidID": "\(bidID)"], on: tx)
            }
        }
        return try await award(challengeID: challengeID, by: actor, on: tx)
    }

    /// Removes a pending pick.
    /// - Throws: `DomainError` (as `pick`; a bid that is not picked is 404).
    public static func unpick(challengeID: Int, bidID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Award {
        _ = try await requirePending(challengeID, actor, on: tx)
        let removed = try await ConstraintCatalog.translating {
            try await tx.execute("DELETE FROM awards WHERE challenge_id = \(challengeID) AND bid_id = \(bidID)")
        }
        guard removed == 1 else { throw DomainError.notFound("bid \(bidID) is not picked for challenge \(challengeID)") }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "award.unpick", entity: "challenge",
            entityID: "\(challengeID)", after: ["bidID": "\(bidID)"], on: tx)
        return try await award(challengeID: challengeID, by: actor, on: tx)
    }

    /// Publishes the challenge's picked winners at once, opening the 公示 period.
    /// - Throws: `DomainError` (as `pick`; no winner picked).
    public static func publish(challengeID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Award {
        let challenge = try await requirePending(challengeID, actor, on: tx)
        guard try await tx.query("SELECT 1 FROM awards WHERE challenge_id = \(challengeID)").first != nil else {
            throw DomainError.conflict(field: "winners", message: "pick the challenge's winners before publishing them")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                INSERT INTO award_notices (challenge_id, round_id, first_day, last_day, objections_close_at, published_by, audit_head)
                VALUES (\(challengeID), \(challenge.roundID!), current_date, current_date, now(), \(actor.userID),
                        \(unsafeRaw: AuditChain.headSQL))
                """)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "award.publish", entity: "challenge",
                entityID: "\(challengeID)", on: tx)
        }
        return try await award(challengeID: challengeID, by: actor, on: tx)
    }

    /// Makes the published winners final, after the period and once every objection is resolved.
    /// - Throws: `DomainError` (not the publisher, not published, already final, the period running,
    ///   an objection open).
    public static func finalise(challengeID: Int, by actor: Actor, on tx: PostgresConnection) async throws -> Award {
        _ = try await requirePublisher(challengeID, actor, lock: true, on: tx)
        guard
            let row = try await tx.query(
                """
                SELECT finalised_at IS NOT NULL, objections_close_at <= now(),
                       (SELECT count(*) FROM award_objections o WHERE o.challenge_id = n.challenge_id AND o.resolved_at IS NULL)
                FROM award_notices n WHERE challenge_id = \(challengeID) FOR UPDATE
                """
            ).first
        else {
            throw DomainError.conflict(field: "stage", message: "the challenge's winners are not published")
        }
        let (final, periodOver, open) = try row.decode((Bool, Bool, Int).self)
        guard !final else { throw DomainError.conflict(field: "stage", message: "the award is already final") }
        guard periodOver else { throw DomainError.conflict(field: "objectionsCloseAt", message: "the 公示 period has not ended") }
        guard open == 0 else {
            throw DomainError.conflict(field: "objections", message: "\(open) objection(s) must be resolved before the award is final")
        }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                "UPDATE award_notices SET finalised_at = now(), finalised_by = \(actor.userID) WHERE challenge_id = \(challengeID)")
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "award.finalise", entity: "challenge",
                entityID: "\(challengeID)", on: tx)
        }
        return try await award(challengeID: challengeID, by: actor, on: tx)
    }

    /// The public list of winning units: published (in 公示) and final winners, optionally of one programme.
    public static func publicWinners(programmeID: Int?, on db: PostgresConnection) async throws -> [PublicWinner] {
        try await db.query(
            """
            SELECT c.programme_id, c.id, c.title, a.bid_id, u.name,
                   ARRAY(SELECT pu.name FROM bid_members m JOIN units pu ON pu.id = m.unit_id
                         WHERE m.bid_id = a.bid_id AND m.role = 'partner' AND m.status = 'accepted' ORDER BY pu.name),
                   n.published_at, n.objections_close_at, n.finalised_at, n.audit_head
            FROM award_notices n
            JOIN awards a ON a.challenge_id = n.challenge_id
            JOIN challenges c ON c.id = n.challenge_id
            JOIN bids b ON b.id = a.bid_id
            JOIN units u ON u.id = b.lead_unit_id
            WHERE \(programmeID)::bigint IS NULL OR c.programme_id = \(programmeID)
            ORDER BY c.programme_id, c.id, u.name
            """
        ).map {
            let (programme, challenge, title, bid, lead, partners, publishedAt, closes, finalisedAt, head) = try $0.decode(
                (Int, Int, String, Int, String, [String], Date, Date, Date?, String?).self)
            return PublicWinner(
                programmeID: programme, challengeID: challenge, challengeTitle: title, bidID: bid, leadUnitName: lead,
                partnerUnitNames: partners, stage: finalisedAt == nil ? .published : .final, publishedAt: publishedAt,
                objectionsCloseAt: closes, finalisedAt: finalisedAt, auditHead: head)
        }
    }

    /// What the award's rules need of a challenge.
    struct ChallengeScope {
        var programmeID: Int
        var winners: Int
        var roundID: Int?
        var roundClosed: Bool
        var published: Bool
    }

    /// Loads the challenge (locking it when asked) and requires the actor to publish its programme. Another bureau's
    /// publisher is told `missing`, the words for the object of the route that does not exist (by default the challenge).
    static func requirePublisher(
        _ challengeID: Int, _ actor: Actor, lock: Bool, missing: String? = nil, on db: PostgresConnection
    ) async throws -> ChallengeScope {
        if lock { try await db.execute("SELECT 1 FROM challenges WHERE id = \(challengeID) FOR NO KEY UPDATE") }
        guard
            let row = try await db.query(
                """
                SELECT c.programme_id, c.winners, rc.round_id, r.status = 'closed',
                       EXISTS (SELECT 1 FROM award_notices n WHERE n.challenge_id = c.id)
                FROM challenges c
                LEFT JOIN review_round_challenges rc ON rc.challenge_id = c.id
                LEFT JOIN review_rounds r ON r.id = rc.round_id
                WHERE c.id = \(challengeID) AND c.status <> 'draft'
                """
            ).first
        else {
            throw DomainError.notFound("no published challenge has id \(challengeID)")
        }
        let (programmeID, winners, roundID, closed, published) = try row.decode((Int, Int, Int?, Bool?, Bool).self)
        let programme = try await ProgrammeStore.programme(id: programmeID, on: db)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: missing ?? "no published challenge has id \(challengeID)",
            reason: "only a publisher of \(programme.bureauName) decides the winners of challenge \(challengeID)")
        return ChallengeScope(
            programmeID: programmeID, winners: winners, roundID: roundID, roundClosed: closed ?? false, published: published)
    }

    /// As `requirePublisher`, locking the challenge, and requires a closed round and no notice yet.
    static func requirePending(_ challengeID: Int, _ actor: Actor, on tx: PostgresConnection) async throws -> ChallengeScope {
        let challenge = try await requirePublisher(challengeID, actor, lock: true, on: tx)
        guard challenge.roundID != nil, challenge.roundClosed else {
            throw DomainError.conflict(field: "round", message: "winners are picked once the challenge's review round is closed")
        }
        guard !challenge.published else {
            throw DomainError.conflict(field: "stage", message: "the challenge's winners are published and fixed")
        }
        return challenge
    }
}
