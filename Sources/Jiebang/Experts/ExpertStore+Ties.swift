import Foundation
public import Postgres

extension ExpertStore {
    /// The units an expert is tied to, for the pool's publisher or the expert.
    /// - Throws: `DomainError.notFound` or `.forbidden`.
    public static func ties(expertID: Int, for actor: Actor, on db: PostgresConnection) async throws -> [Tie] {
        _ = try await expert(id: expertID, for: actor, on: db)
        return try await db.query(
            """
            SELECT t.expert_id, t.unit_id, u.name, t.reason, t.declared_at
            FROM expert_ties t JOIN units u ON u.id = t.unit_id
            WHERE t.expert_id = \(expertID)
            ORDER BY t.unit_id
            """
        ).map(decodeTie)
    }

    /// Declares (or restates, with a new reason) a tie of an expert to a unit: by the pool's publisher,
    /// or by the expert. Only the publisher removes ties (``removeTie(expertID:unitID:by:on:)``), so an
    /// expert cannot lift their own conflicts.
    /// - Throws: `DomainError` (forbidden, an unknown expert or unit, a reason of the wrong length).
    public static func declareTie(
        expertID: Int, unitID: Int, reason: String, by actor: Actor, on tx: PostgresConnection
    ) async throws -> Tie {
        _ = try await expert(id: expertID, for: actor, on: tx)
        var checker = FieldChecker()
        checker.name("reason", reason, 2...500)
        try checker.check()
        guard try await tx.query("SELECT 1 FROM units WHERE id = \(unitID)").first != nil else {
            throw DomainError.notFound("no unit has id \(unitID)")
        }
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        return try await ConstraintCatalog.translating {
            let tie = try await tx.query(
                """
                WITH declared AS (
                    INSERT INTO expert_ties (expert_id, unit_id, reason) VALUES (\(expertID), \(unitID), \(text))
                    ON CONFLICT (expert_id, unit_id) DO UPDATE SET reason = EXCLUDED.reason, declared_at = now()
                    RETURNING expert_id, unit_id, reason, declared_at
                )
                SELECT d.expert_id, d.unit_id, u.name, d.reason, d.declared_at FROM declared d JOIN units u ON u.id = d.unit_id
                """
            ).first.map(decodeTie)!
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "expert.tie", entity: "expert",
                entityID: "\(expertID)", after: ["unitID": "\(unitID)", "reason": text], on: tx)
            return tie
        }
    }

    /// Removes a tie (the pool's publisher only).
    /// - Throws: `DomainError` (forbidden, an unknown expert or tie).
    public static func removeTie(expertID: Int, unitID: Int, by actor: Actor, on tx: PostgresConnection) async throws {
        try AccessPolicy.require(actor, [.provincialPublisher], to: "remove an expert's ties")
        _ = try await expert(id: expertID, for: actor, on: tx)
        guard
            let reason = try await tx.query(
                "DELETE FROM expert_ties WHERE expert_id = \(expertID) AND unit_id = \(unitID) RETURNING reason"
            ).first?.decode(String.self)
        else { throw DomainError.notFound("expert \(expertID) has no tie to unit \(unitID)") }
        try await AuditLog.append(
            actor: actor.displayName, actorID: actor.userID, action: "expert.untie", entity: "expert",
            entityID: "\(expertID)", before: ["unitID": "\(unitID)", "reason": reason], on: tx)
    }

    static func decodeTie(_ row: PostgresRow) throws -> Tie {
        Tie(
            expertID: try row.decode(Int.self, at: 0), unitID: try row.decode(Int.self, at: 1),
            unitName: try row.decode(String.self, at: 2), reason: try row.decode(String.self, at: 3),
            declaredAt: try row.decode(Date.self, at: 4))
    }
}
