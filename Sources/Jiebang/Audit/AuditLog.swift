import Foundation
public import Postgres

/// Appends rows to the audit log, in the caller's transaction. The database refuses to change them.
public enum AuditLog {
    /// Records one state change.
    /// - Parameters:
    ///   - actor: who did it (a user's name, or `system`).
    ///   - action: a stable verb such as `challenge.publish`.
    ///   - entity: the kind of thing changed, such as `challenge`.
    ///   - entityID: its id.
    ///   - before: its state before (nil for a creation).
    ///   - after: its state after (nil for a deletion).
    public static func append(
        actor: String, actorID: Int? = nil, action: String, entity: String, entityID: String,
        before: [String: String]? = nil, after: [String: String]? = nil, on db: PostgresConnection
    ) async throws {
        try await db.execute(
            """
            INSERT INTO audit_log (actor_id, actor_label, action, entity, entity_id, before, after)
            VALUES (\(actorID), \(actor), \(action), \(entity), \(entityID), \(before.map(PostgresJSON.init)), \(after.map(PostgresJSON.init)))
            """)
    }
}
