public import Foundation
public import Postgres

/// Objections (异议) to a published notice (公示).
///
/// Any signed-in user may object while the period runs; an objection is signed (its objector is kept)
/// but the objector is shown only to the programme's publisher. The publisher resolves each one with a
/// resolution, once; the award becomes final only when all are resolved (`AwardStore.finalise`).
public enum AwardObjections {
    /// An objection as the publisher sees it.
    public struct Objection: Codable, Sendable, Hashable {
        public var id: Int
        public var challengeID: Int
        public var objectorID: Int
        public var objectorName: String
        public var text: String
        public var filedAt: Date
        public var resolution: String?
        public var resolvedAt: Date?
    }

    /// What the objector gets back: the receipt of the filing, without other objections.
    public struct Receipt: Codable, Sendable, Hashable {
        public var id: Int
        public var challengeID: Int
        public var filedAt: Date
    }

    /// Files an objection to a challenge's published winners.
    /// - Throws: `DomainError` (no published notice, the period over, a text of the wrong length).
    public static func file(challengeID: Int, text: String, by actor: Actor, on tx: PostgresConnection) async throws -> Receipt {
        var checker = FieldChecker()
        checker.length("text", text, 10...5000)
        try checker.check()
        guard
            let row = try await tx.query(
                """
                SELECT finalised_at IS NULL AND objections_close_at > now() FROM award_notices
                WHERE challenge_id = \(challengeID) FOR SHARE
                """
            ).first
        else {
            throw DomainError.notFound("challenge \(challengeID) has no published winners")
        }
        guard try row.decode(Bool.self) else {
            throw DomainError.conflict(field: "challengeID", message: "the 公示 period is over: objections are closed")
        }
        return try await ConstraintCatalog.translating {
            let (id, filedAt) = try await tx.query(
                """
                INSERT INTO award_objections (challenge_id, objector_id, text)
                VALUES (\(challengeID), \(actor.userID), \(text.trimmingCharacters(in: .whitespacesAndNewlines)))
                RETURNING id, filed_at
                """
            ).first!.decode((Int, Date).self)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "award.object", entity: "challenge",
                entityID: "\(challengeID)", after: ["objectionID": "\(id)"], on: tx)
            return Receipt(id: id, challengeID: challengeID, filedAt: filedAt)
        }
    }

    /// The objections to a challenge's winners, oldest first, for the programme's publisher.
    /// - Throws: `DomainError` (unknown challenge, not the publisher).
    public static func list(challengeID: Int, by actor: Actor, on db: PostgresConnection) async throws -> [Objection] {
        _ = try await AwardStore.requirePublisher(challengeID, actor, lock: false, on: db)
        return try await db.query(
            """
            SELECT o.id, o.challenge_id, o.objector_id, u.display_name, o.text, o.filed_at, o.resolution, o.resolved_at
            FROM award_objections o JOIN users u ON u.id = o.objector_id
            WHERE o.challenge_id = \(challengeID) ORDER BY o.id
            """
        ).map {
            let (id, challenge, objector, name, text, filedAt, resolution, resolvedAt) = try $0.decode(
                (Int, Int, Int, String, String, Date, String?, Date?).self)
            return Objection(
                id: id, challengeID: challenge, objectorID: objector, objectorName: name, text: text, filedAt: filedAt,
                resolution: resolution, resolvedAt: resolvedAt)
        }
    }

    /// Resolves an objection with a resolution, once.
    /// - Throws: `DomainError` (unknown objection, not the publisher, already resolved, a resolution of
    ///   the wrong length).
    public static func resolve(objectionID: Int, resolution: String, by actor: Actor, on tx: PostgresConnection) async throws
        -> Objection
    {
        guard
            let row = try await tx.query(
                "SELECT challenge_id, resolved_at IS NOT NULL FROM award_objections WHERE id = \(objectionID) FOR UPDATE"
            ).first
        else {
            throw DomainError.notFound("no objection has id \(objectionID)")
        }
        let (challengeID, resolved) = try row.decode((Int, Bool).self)
        _ = try await AwardStore.requirePublisher(
            challengeID, actor, lock: false, missing: "no objection has id \(objectionID)", on: tx)
        var checker = FieldChecker()
        checker.length("resolution", resolution, 2...5000)
        try checker.check()
        guard !resolved else { throw DomainError.conflict(field: "resolution", message: "the objection is already resolved") }
        try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                UPDATE award_objections SET resolution = \(resolution.trimmingCharacters(in: .whitespacesAndNewlines)),
                    resolved_by = \(actor.userID)
                WHERE id = \(objectionID)
                """)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "award.resolve_objection", entity: "challenge",
                entityID: "\(challengeID)", after: ["objectionID": "\(objectionID)"], on: tx)
        }
        return try await list(challengeID: challengeID, by: actor, on: tx).first { $0.id == objectionID }!
    }
}
